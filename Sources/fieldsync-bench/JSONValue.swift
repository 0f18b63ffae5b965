/// A JSON value rendered on one line with object keys sorted, so that result lines can be
/// compared with `diff` across runs.
///
///     JSONValue.object(["value": .number(1.5, decimals: 1), "unit": .string("ops/s")]).rendered
///     // {"unit":"ops/s","value":1.5}
enum JSONValue {
    case int(Int)
    case number(Double, decimals: Int)
    case string(String)
    case bool(Bool)
    case array([JSONValue])
    case object([String: JSONValue])

    var rendered: String {
        switch self {
        case .int(let value): return String(value)
        case .number(let value, let decimals): return value.formatted(decimals: decimals)
        case .string(let text): return Self.quoted(text)
        case .bool(let value): return value ? "true" : "false"
        case .array(let items): return "[" + items.map(\.rendered).joined(separator: ",") + "]"
        case .object(let members):
            let keys = members.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            return "{" + keys.map { key in Self.quoted(key) + ":" + (members[key]?.rendered ?? "null") }.joined(separator: ",") + "}"
        }
    }

    private static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
