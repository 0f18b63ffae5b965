/// The identity of a record within its collection.
///
///     let random = EntityID.random(using: &generator)        // "0F3K9Z..." (26 characters)
///     let keyed = EntityID.naturalKey(collection: "doorplates", key: ["JS0412-00088"])
///
/// Ids are 1 to 64 characters of `A-Z a-z 0-9 _ . : -`. A natural-key id is derived from the
/// collection name and the normalized key, so two devices creating the same doorplate offline
/// create the same record.
public struct EntityID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: String

    /// The longest id accepted.
    public static let lengthMax = 64

    public init(_ rawValue: String) throws {
        guard Self.isValid(rawValue) else {
            throw SyncError(.invalidInput,
                "record id \"\(rawValue.prefix(80))\" is not valid: use 1 to \(Self.lengthMax) characters of A-Z a-z 0-9 _ . : -")
        }
        self.rawValue = rawValue
    }

    init(unchecked rawValue: String) { self.rawValue = rawValue }

    public static func isValid(_ text: String) -> Bool {
        let utf8 = text.utf8
        guard (1...lengthMax).contains(utf8.count) else { return false }
        return utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x5F || byte == 0x2E || byte == 0x3A || byte == 0x2D
        }
    }

    /// 128 random bits in Crockford base32.
    public static func random<G: RandomNumberGenerator>(using generator: inout G) -> EntityID {
        var bytes: [UInt8] = []
        for _ in 0..<2 {
            let word: UInt64 = generator.next()
            for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
        }
        return EntityID(unchecked: Base32.encode(bytes))
    }

    /// The id derived from an already-normalized natural key: `k` + base32 of the first 16 bytes
    /// of SHA-256(collection, 0x00, key parts joined by 0x1F).
    public static func naturalKey(collection: String, key parts: [String]) -> EntityID {
        var input = Array(collection.utf8)
        input.append(0)
        for (index, part) in parts.enumerated() {
            if index > 0 { input.append(0x1F) }
            input.append(contentsOf: part.utf8)
        }
        let digest = SHA256.hash(input)
        return EntityID(unchecked: "k" + Base32.encode(Array(digest.prefix(16))))
    }

    public var description: String { rawValue }

    public static func < (lhs: EntityID, rhs: EntityID) -> Bool {
        lhs.rawValue.utf8.lexicographicallyPrecedes(rhs.rawValue.utf8)
    }
}
