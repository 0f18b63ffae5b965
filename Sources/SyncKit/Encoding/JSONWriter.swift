import Foundation

/// Writes canonical JSON by hand, for the protocol's hot paths: object keys in UTF-8 byte
/// order, no insignificant whitespace, strings as UTF-8 with only `"`, `\` and control
/// characters escaped, integers exact, reals in Swift's shortest round-trip form.
///
///     var w = JSONWriter()
///     w.object { o in o.field("a") { $0.int(1) }; o.field("b") { $0.string("x") } }
///     w.bytes   // {"a":1,"b":"x"}
public struct JSONWriter {
    package var bytes: [UInt8] = []

    package init(reserving capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    package var data: Data { Data(bytes) }

    package mutating func null() { bytes.append(contentsOf: "null".utf8) }
    package mutating func bool(_ value: Bool) { bytes.append(contentsOf: value ? "true".utf8 : "false".utf8) }
    package mutating func int(_ value: Int64) { bytes.append(contentsOf: String(value).utf8) }
    package mutating func uint(_ value: UInt64) { bytes.append(contentsOf: String(value).utf8) }
    package mutating func double(_ value: Double) { bytes.append(contentsOf: "\(value)".utf8) }

    /// Bytes that already are one canonical JSON value, as they are.
    package mutating func raw(_ json: [UInt8]) { bytes.append(contentsOf: json) }

    package mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: bytes.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x08: bytes.append(contentsOf: [0x5C, UInt8(ascii: "b")])
            case 0x0C: bytes.append(contentsOf: [0x5C, UInt8(ascii: "f")])
            case ..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// An object; `body` adds the members, which the caller gives in sorted key order.
    mutating func object(_ body: (inout ObjectWriter) -> Void) {
        bytes.append(UInt8(ascii: "{"))
        // The buffer moves into the member writer and back (swaps, never a copy).
        var members = ObjectWriter(writer: JSONWriter(reserving: 0))
        swap(&members.writer.bytes, &bytes)
        body(&members)
        swap(&members.writer.bytes, &bytes)
        bytes.append(UInt8(ascii: "}"))
    }

    mutating func array<S: Sequence>(_ elements: S, _ element: (inout JSONWriter, S.Element) -> Void) {
        bytes.append(UInt8(ascii: "["))
        var first = true
        for item in elements {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            element(&self, item)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// A dictionary as an object, keys in UTF-8 byte order.
    mutating func dictionary<V>(_ members: [String: V], _ value: (inout JSONWriter, V) -> Void) {
        object { o in
            for key in members.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                o.field(key) { value(&$0, members[key]!) }
            }
        }
    }

    struct ObjectWriter {
        var writer: JSONWriter
        var count = 0

        mutating func field(_ key: String, _ value: (inout JSONWriter) -> Void) {
            if count > 0 { writer.bytes.append(UInt8(ascii: ",")) }
            count += 1
            writer.string(key)
            writer.bytes.append(UInt8(ascii: ":"))
            value(&writer)
        }
    }
}
