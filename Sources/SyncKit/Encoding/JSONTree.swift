import Foundation

/// A parsed JSON document, for the protocol's hot paths (Foundation's JSON coders cost about a
/// microsecond per value on Linux, which made a cell's snapshot take seconds). Strict RFC 8259:
/// UTF-8 only, no trailing commas, no comments, no leading zeros, nesting at most `depthMax`.
/// Numbers keep their text, so 64-bit integers are exact.
indirect enum JSONNode: Equatable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONNode])
    /// Members in document order (objects here have a handful of keys: a linear search beats
    /// hashing). A repeated key: the last one counts.
    case object([JSONMember])

    var isNull: Bool { if case .null = self { true } else { false } }

    static let depthMax = 64

    static func parse(_ data: Data) throws -> JSONNode {
        try data.withUnsafeBytes { raw in
            var parser = JSONParser(bytes: raw.bindMemory(to: UInt8.self))
            parser.skipSpace()
            let value = try parser.value(depth: 0)
            parser.skipSpace()
            guard parser.index == parser.bytes.count else { throw parser.error("unexpected text after the JSON value") }
            return value
        }
    }
}

/// One member of a JSON object.
struct JSONMember: Equatable {
    let key: String
    let value: JSONNode
}

/// Where a JSON document is wrong, with the path to the offending value.
struct JSONShapeError: Error {
    var message: String
}

private struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0

    func error(_ what: String) -> JSONShapeError {
        JSONShapeError(message: "\(what) at byte \(index)")
    }

    mutating func skipSpace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    mutating func value(depth: Int) throws -> JSONNode {
        guard depth < JSONNode.depthMax else { throw error("JSON nested deeper than \(JSONNode.depthMax) levels") }
        guard index < bytes.count else { throw error("unexpected end of the JSON text") }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            index += 1
            var members: [JSONMember] = []
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
            while true {
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a quoted key") }
                let key = try string()
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':' after a key") }
                index += 1
                skipSpace()
                members.append(JSONMember(key: key, value: try value(depth: depth + 1)))
                skipSpace()
                guard index < bytes.count else { throw error("unexpected end inside an object") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
                throw error("expected ',' or '}' in an object")
            }
        case UInt8(ascii: "["):
            index += 1
            var elements: [JSONNode] = []
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return .array(elements) }
            while true {
                skipSpace()
                elements.append(try value(depth: depth + 1))
                skipSpace()
                guard index < bytes.count else { throw error("unexpected end inside an array") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(elements) }
                throw error("expected ',' or ']' in an array")
            }
        case UInt8(ascii: "\""):
            return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default:
            return .number(try number())
        }
    }

    mutating func literal(_ word: String) throws {
        let expected = Array(word.utf8)
        guard index + expected.count <= bytes.count else { throw error("unexpected end of the JSON text") }
        for offset in 0..<expected.count where bytes[index + offset] != expected[offset] { throw error("unexpected character") }
        index += expected.count
    }

    mutating func number() throws -> String {
        let start = index
        func digits() -> Int {
            let from = index
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") { index += 1 }
            return index - from
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        let integerStart = index
        let integerDigits = digits()
        guard integerDigits > 0 else { throw error("unexpected character") }
        guard !(integerDigits > 1 && bytes[integerStart] == UInt8(ascii: "0")) else { throw error("a number with a leading zero") }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { throw error("a number with no digits after '.'") }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { throw error("a number with no exponent digits") }
        }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
    }

    mutating func string() throws -> String {
        index += 1   // the opening quote
        let start = index
        // Fast path: no escapes.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<index])
                index += 1
                guard let text = String(validating: slice, as: UTF8.self) else { throw error("a string that is not valid UTF-8") }
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            guard byte >= 0x20 else { throw error("a control character inside a string") }
            index += 1
        }
        var scalars = [UInt8](UnsafeBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                guard let text = String(validating: scalars, as: UTF8.self) else { throw error("a string that is not valid UTF-8") }
                return text
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { throw error("unexpected end inside a string") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scalars.append(escape)
                case UInt8(ascii: "b"): scalars.append(0x08)
                case UInt8(ascii: "f"): scalars.append(0x0C)
                case UInt8(ascii: "n"): scalars.append(0x0A)
                case UInt8(ascii: "r"): scalars.append(0x0D)
                case UInt8(ascii: "t"): scalars.append(0x09)
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800...0xDBFF).contains(code) {
                        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                            throw error("a lone UTF-16 surrogate in a string")
                        }
                        index += 2
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw error("a lone UTF-16 surrogate in a string") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(code) {
                        throw error("a lone UTF-16 surrogate in a string")
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw error("an invalid \\u escape") }
                    scalars.append(contentsOf: Array(String(Character(scalar)).utf8))
                default:
                    throw error("an invalid escape in a string")
                }
            default:
                guard byte >= 0x20 else { throw error("a control character inside a string") }
                scalars.append(byte)
                index += 1
            }
        }
        throw error("unexpected end inside a string")
    }

    mutating func hex4() throws -> UInt32 {
        guard index + 4 <= bytes.count else { throw error("unexpected end inside a \\u escape") }
        var code: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw error("an invalid \\u escape")
            }
            code = code << 4 | digit
            index += 1
        }
        return code
    }
}

/// Typed reading of a parsed document, with the path of every value for error messages
/// ("expected a string at ops[3].id", "missing key \"cells\"").
public struct JSONField {
    let node: JSONNode
    let path: String

    init(_ node: JSONNode, path: String = "") {
        self.node = node
        self.path = path
    }

    private func where_() -> String { path.isEmpty ? "" : " at \(path)" }

    func fail(_ what: String) -> JSONShapeError { JSONShapeError(message: what + where_()) }

    func object() throws -> [JSONMember] {
        guard case .object(let members) = node else { throw fail("expected an object") }
        return members
    }

    private func lookup(_ name: String) throws -> JSONNode? {
        try object().last { $0.key == name }?.value
    }

    func array() throws -> [JSONField] {
        guard case .array(let elements) = node else { throw fail("expected an array") }
        return elements.enumerated().map { JSONField($1, path: "\(path)[\($0)]") }
    }

    func key(_ name: String) throws -> JSONField {
        guard let value = try lookup(name) else { throw JSONShapeError(message: "missing key \"\(name)\"" + where_()) }
        return JSONField(value, path: path.isEmpty ? name : "\(path).\(name)")
    }

    func optionalKey(_ name: String) throws -> JSONField? {
        guard let value = try lookup(name), !value.isNull else { return nil }
        return JSONField(value, path: path.isEmpty ? name : "\(path).\(name)")
    }

    func has(_ name: String) throws -> Bool { try lookup(name) != nil }

    /// Members in document order; where a key repeats, only its last occurrence.
    func members() throws -> [(String, JSONField)] {
        let all = try object()
        var seen = Set<String>()
        var result: [(String, JSONField)] = []
        for member in all.reversed() where seen.insert(member.key).inserted {
            result.append((member.key, JSONField(member.value, path: path.isEmpty ? member.key : "\(path).\(member.key)")))
        }
        return result.reversed()
    }

    var isNull: Bool { node.isNull }

    func string() throws -> String {
        guard case .string(let text) = node else { throw fail("expected a string") }
        return text
    }

    func bool() throws -> Bool {
        guard case .bool(let value) = node else { throw fail("expected true or false") }
        return value
    }

    private func numberText() throws -> String {
        guard case .number(let text) = node else { throw fail("expected a number") }
        return text
    }

    func int64() throws -> Int64 {
        let text = try numberText()
        if let value = Int64(text) { return value }
        // 1e3 or 12.0 are integers written otherwise; anything else is not.
        if let double = Double(text), double.rounded() == double, let exact = Int64(exactly: double) { return exact }
        throw fail("expected a 64-bit integer, got \(text.prefix(40))")
    }

    func uint64() throws -> UInt64 {
        let text = try numberText()
        if let value = UInt64(text) { return value }
        if let double = Double(text), double.rounded() == double, let exact = UInt64(exactly: double) { return exact }
        throw fail("expected an unsigned 64-bit integer, got \(text.prefix(40))")
    }

    func int() throws -> Int {
        guard let value = Int(exactly: try int64()) else { throw fail("integer out of range") }
        return value
    }

    func double() throws -> Double {
        let text = try numberText()
        guard let value = Double(text), value.isFinite else { throw fail("expected a finite number, got \(text.prefix(40))") }
        return value
    }

    func strings() throws -> [String] { try array().map { try $0.string() } }
}
