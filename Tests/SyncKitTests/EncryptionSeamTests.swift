import Foundation
import Testing
@testable import SyncKit

/// The one place a replica's database is opened can pass a key to an SQLite that encrypts
/// (SQLCipher's `PRAGMA key`); with Debian's SQLite, which cannot, asking for encryption is
/// refused instead of storing personal data in plain text.
struct EncryptionSeamTests {
    @Test func aKeyIsRefusedWhenThisSQLiteCannotEncrypt() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fieldsync-key-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("replica.db").path
        var options = ReplicaOptions()
        options.encryptionKey = try DatabaseKey(bytes: Array(repeating: 7, count: 32))
        let schema = try Schema([CollectionSchema("notes", fields: [.text("body")])])
        let refused = #expect(throws: SyncError.self) { try Replica.open(path: path, schema: schema, options: options) }
        #expect(refused?.code == .invalidInput)
        #expect(refused?.message.contains("cannot encrypt") == true && refused?.message.contains("plain text") == true)
        // Nothing was written in plain text: the file holds no table.
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        #expect(size == 0)
        // Without a key, the same path opens (the app chose not to encrypt).
        options.encryptionKey = nil
        _ = try Replica.open(path: path, schema: schema, options: options)
    }

    @Test func aKeyIsThirtyTwoBytesGivenToSQLiteAsRawHex() throws {
        #expect(throws: SyncError.self) { try DatabaseKey(bytes: [1, 2, 3]) }
        let key = try DatabaseKey(bytes: (0..<32).map { UInt8($0) })
        #expect(key.pragma == "PRAGMA key = \"x'000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'\"")
    }
}
