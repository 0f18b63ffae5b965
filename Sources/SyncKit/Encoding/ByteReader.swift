/// Reads what `ByteWriter` wrote, throwing on truncated or malformed input (never trapping).
///
///     var reader = ByteReader([0xAC, 0x02])
///     try reader.readVarint()  // 300
struct ByteReader {
    private let bytes: [UInt8]
    private(set) var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { offset == bytes.count }

    private func corrupt(_ what: String) -> SyncError {
        SyncError(.corrupt, "stored data is damaged: \(what) at byte \(offset) of \(bytes.count)")
    }

    mutating func readByte() throws -> UInt8 {
        guard offset < bytes.count else { throw corrupt("unexpected end") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func readVarint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try readByte()
            guard shift < 64 else { throw corrupt("varint too long") }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    mutating func readSignedVarint() throws -> Int64 {
        let raw = try readVarint()
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    mutating func readFixed64() throws -> UInt64 {
        var result: UInt64 = 0
        for _ in 0..<8 { result = result << 8 | UInt64(try readByte()) }
        return result
    }

    mutating func readCount(limit: Int) throws -> Int {
        let count = try readVarint()
        guard count <= UInt64(limit), count <= UInt64(bytes.count - offset) + 1 else { throw corrupt("count \(count) too large") }
        return Int(count)
    }

    mutating func readBytes(count: Int) throws -> [UInt8] {
        guard count <= bytes.count - offset else { throw corrupt("length \(count) past the end") }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    mutating func readLengthPrefixed() throws -> [UInt8] {
        let count = try readVarint()
        guard count <= UInt64(bytes.count - offset) else { throw corrupt("length \(count) past the end") }
        return try readBytes(count: Int(count))
    }

    mutating func readString() throws -> String {
        let raw = try readLengthPrefixed()
        guard let text = String(validating: raw, as: UTF8.self) else { throw corrupt("invalid UTF-8") }
        return text
    }

    mutating func readValue() throws -> Value {
        switch try readByte() {
        case 0: return .null
        case 1: return .int(try readSignedVarint())
        case 2: return .real(Double(bitPattern: try readFixed64()))
        case 3: return .text(try readString())
        case 4: return .bool(false)
        case 5: return .bool(true)
        case 6: return .blob(try readLengthPrefixed())
        case let tag: throw corrupt("unknown value tag \(tag)")
        }
    }
}
