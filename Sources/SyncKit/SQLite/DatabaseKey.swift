/// A raw 256-bit key for an encrypted replica file, as an app's keystore hands it over (the
/// Android Keystore, Apple's Keychain, a TPM-sealed file): SyncKit never derives, stores or logs it.
///
///     var options = ReplicaOptions()
///     options.encryptionKey = try DatabaseKey(bytes: keystore.replicaKey())   // 32 bytes
///     let replica = try Replica.open(path: "replica.db", schema: schema, options: options)
public struct DatabaseKey: Sendable, Equatable {
    public static let byteCount = 32
    let bytes: [UInt8]

    public init(bytes: [UInt8]) throws {
        guard bytes.count == Self.byteCount else {
            throw SyncError(.invalidInput, "a database key is \(Self.byteCount) random bytes from the platform's keystore; got \(bytes.count)")
        }
        self.bytes = bytes
    }

    /// SQLCipher's raw-key form: `PRAGMA key = "x'<64 hex digits>'"` (no key derivation).
    var pragma: String {
        "PRAGMA key = \"x'" + bytes.map { String(format: "%02x", $0) }.joined() + "'\""
    }
}
