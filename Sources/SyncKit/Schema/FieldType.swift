/// The type of a field's values (for a set field: of its elements).
public enum FieldType: String, Sendable, Hashable, CaseIterable, Codable {
    case int, real, text, bool, blob

    /// The SQLite column type used in the plain table.
    var sqlType: String {
        switch self {
        case .int, .bool: return "INTEGER"
        case .real: return "REAL"
        case .text: return "TEXT"
        case .blob: return "BLOB"
        }
    }
}
