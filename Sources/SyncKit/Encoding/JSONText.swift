import Foundation

/// Deterministic JSON text for a set field's column (`["a","b"]`): the same bytes on every
/// replica for the same elements, readable in any SQLite browser.
enum JSONText {
    static func array(_ elements: [Value]) -> String {
        "[" + elements.map(scalar).joined(separator: ",") + "]"
    }

    static func scalar(_ value: Value) -> String {
        switch value {
        case .null: return "null"
        case .int(let v): return String(v)
        case .real(let v): return String(v)
        case .bool(let v): return v ? "true" : "false"
        case .text(let v): return quoted(v)
        case .blob(let v): return quoted(Data(v).base64EncodedString())
        }
    }

    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
