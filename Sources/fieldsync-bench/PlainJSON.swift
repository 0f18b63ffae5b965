/// The JSON array text a plain-SQLite app stores for a list of tags (`["独居","老人"]`), the
/// same bytes SyncKit's set column holds for the same elements.
enum PlainJSON {
    static func array(_ elements: [String]) -> String {
        var out = "["
        for (index, element) in elements.enumerated() {
            if index > 0 { out += "," }
            out += "\""
            for scalar in element.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                default: out.unicodeScalars.append(scalar)
                }
            }
            out += "\""
        }
        return out + "]"
    }
}
