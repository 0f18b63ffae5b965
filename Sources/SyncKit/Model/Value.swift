/// A field value: what one column of a record holds.
///
///     let phone: Value = "13800138000"
///     let members: Value = 4
///
/// Equality is exact: text compares by its UTF-8 bytes (no Unicode folding), reals by bit
/// pattern. Merge and digests rely on this, so that every replica draws the same conclusions.
public enum Value: Sendable {
    case null
    case int(Int64)
    case real(Double)
    case text(String)
    case bool(Bool)
    case blob([UInt8])

    /// The field type that holds this value, or nil for `.null`.
    public var type: FieldType? {
        switch self {
        case .null: return nil
        case .int: return .int
        case .real: return .real
        case .text: return .text
        case .bool: return .bool
        case .blob: return .blob
        }
    }

    public var isNull: Bool { if case .null = self { return true } else { return false } }
    public var text: String? { if case .text(let v) = self { return v } else { return nil } }
    public var int: Int64? { if case .int(let v) = self { return v } else { return nil } }
    public var real: Double? { if case .real(let v) = self { return v } else { return nil } }
    public var bool: Bool? { if case .bool(let v) = self { return v } else { return nil } }
    public var blob: [UInt8]? { if case .blob(let v) = self { return v } else { return nil } }
}

extension Value: Hashable {
    public static func == (lhs: Value, rhs: Value) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.int(a), .int(b)): return a == b
        case let (.real(a), .real(b)): return a.bitPattern == b.bitPattern
        case let (.text(a), .text(b)): return a.utf8.elementsEqual(b.utf8)
        case let (.bool(a), .bool(b)): return a == b
        case let (.blob(a), .blob(b)): return a == b
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .int(let v): hasher.combine(1); hasher.combine(v)
        case .real(let v): hasher.combine(2); hasher.combine(v.bitPattern)
        case .text(let v): hasher.combine(3); for byte in v.utf8 { hasher.combine(byte) }
        case .bool(let v): hasher.combine(4); hasher.combine(v)
        case .blob(let v): hasher.combine(5); hasher.combine(v)
        }
    }
}

extension Value: Comparable {
    /// A total order, the same on every replica: by type (null, int, real, text, bool, blob),
    /// then numbers by value, text and blobs by their bytes. Sorts set elements and candidates.
    public static func < (lhs: Value, rhs: Value) -> Bool {
        switch (lhs, rhs) {
        case let (.int(a), .int(b)): return a < b
        case let (.real(a), .real(b)): return a < b || (a == b && a.bitPattern < b.bitPattern)
        case let (.text(a), .text(b)): return a.utf8.lexicographicallyPrecedes(b.utf8)
        case let (.bool(a), .bool(b)): return !a && b
        case let (.blob(a), .blob(b)): return a.lexicographicallyPrecedes(b)
        default: return lhs.typeRank < rhs.typeRank
        }
    }

    private var typeRank: Int {
        switch self {
        case .null: return 0
        case .int: return 1
        case .real: return 2
        case .text: return 3
        case .bool: return 4
        case .blob: return 5
        }
    }
}

extension Value: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .real(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(nilLiteral: ()) { self = .null }
}

extension Value: CustomStringConvertible {
    /// A short rendering for people (CLI output); blobs show their size only.
    public var description: String {
        switch self {
        case .null: return "null"
        case .int(let v): return String(v)
        case .real(let v): return String(v)
        case .text(let v): return v
        case .bool(let v): return v ? "true" : "false"
        case .blob(let v): return "<\(v.count) bytes>"
        }
    }
}
