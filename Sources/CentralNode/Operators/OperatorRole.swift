/// What an operator may do (Design.md, "Operators' console"). Each role can do everything of
/// the one before it.
///
///     OperatorRole.reviewer.allows(.settle)    // true
///     OperatorRole.reviewer.allows(.manage)    // false
public enum OperatorRole: String, Sendable, CaseIterable, Comparable {
    /// Reads everything the console shows (records, review queue, devices, audit).
    case viewer
    /// Also settles review items: resolve, merge, dismiss, release, discard.
    case reviewer
    /// Also enrolls, revokes, assigns cells, imports, exports and manages operators.
    case admin

    public enum Permission: Sendable {
        case read, settle, manage
    }

    public func allows(_ permission: Permission) -> Bool {
        switch permission {
        case .read: return true
        case .settle: return self >= .reviewer
        case .manage: return self == .admin
        }
    }

    private var rank: Int { Self.allCases.firstIndex(of: self)! }

    public static func < (lhs: OperatorRole, rhs: OperatorRole) -> Bool { lhs.rank < rhs.rank }
}

/// An operator as listed (never with the password hash).
public struct OperatorInfo: Sendable, Equatable {
    public let name: String
    public let role: OperatorRole
    public let disabled: Bool
    public let createdMillis: Int64
    public let passwordChangedMillis: Int64
}

/// A refusal of an operator action, with a code the admin API answers with.
public struct OperatorError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case weakPassword, badName, exists, notFound, failed
    }
    public let code: Code
    public let message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
