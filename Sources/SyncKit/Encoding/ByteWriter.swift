/// Appends the canonical binary forms used in the op log, merge metadata and digests.
///
///     var writer = ByteWriter()
///     writer.writeVarint(300)
///     writer.bytes  // [0xAC, 0x02]
struct ByteWriter {
    private(set) var bytes: [UInt8] = []

    init() { bytes.reserveCapacity(64) }

    /// Empties the writer, keeping its storage (one writer reused for many small encodings).
    mutating func removeAll() { bytes.removeAll(keepingCapacity: true) }

    mutating func write(byte: UInt8) { bytes.append(byte) }
    mutating func write(bytes other: [UInt8]) { bytes.append(contentsOf: other) }

    /// Unsigned LEB128.
    mutating func writeVarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    /// Zigzag, then LEB128.
    mutating func writeSignedVarint(_ value: Int64) {
        writeVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    /// 8 bytes, big-endian.
    mutating func writeFixed64(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    mutating func writeLengthPrefixed(_ other: some Collection<UInt8>) {
        writeVarint(UInt64(other.count))
        bytes.append(contentsOf: other)
    }

    mutating func write(_ text: String) { writeLengthPrefixed(Array(text.utf8)) }

    /// Tag byte, then payload: 0 null, 1 int (zigzag), 2 real (bit pattern), 3 text, 4 false,
    /// 5 true, 6 blob.
    mutating func write(_ value: Value) {
        switch value {
        case .null: write(byte: 0)
        case .int(let v): write(byte: 1); writeSignedVarint(v)
        case .real(let v): write(byte: 2); writeFixed64(v.bitPattern)
        case .text(let v): write(byte: 3); write(v)
        case .bool(let v): write(byte: v ? 5 : 4)
        case .blob(let v): write(byte: 6); writeLengthPrefixed(v)
        }
    }
}
