/// A domain error a collector or operator can act on: which field, what was wrong, what to do.
///
/// ```swift
/// do { try store.updateHousehold(id) { $0.memberCount = 120 } }
/// catch let error as FieldError where error.code == .invalidValue {
///     form.highlight(error.field)   // "member_count"
///     banner(error.message)         // "member count must be 0 to 99; got 120"
/// }
/// ```
///
/// `code` is a struct over a private enum, so new kinds can be added without breaking callers
/// that switch on it. Messages never quote names or phone numbers (personal data) beyond what the
/// person just typed on their own device.
public struct FieldError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of error. Compare with `==`; do not assume the list is closed.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Kind: Sendable, Hashable {
            case invalidValue, notFound, alreadyExists, illegalTransition, invalidRecord
        }

        private let kind: Kind
        private init(_ kind: Kind) { self.kind = kind }

        /// A value the caller gave breaks a rule (range, format, length); `field` names it.
        public static let invalidValue = Code(.invalidValue)
        /// The household, doorplate or task does not exist on this device.
        public static let notFound = Code(.notFound)
        /// A doorplate with that code (or a record with that id) already exists.
        public static let alreadyExists = Code(.alreadyExists)
        /// A status cannot move that way (e.g. a verified task cannot be reopened).
        public static let illegalTransition = Code(.illegalTransition)
        /// A stored record cannot be read as a domain value (written by a newer app, or corrupt).
        public static let invalidRecord = Code(.invalidRecord)

        public var description: String {
            switch kind {
            case .invalidValue: "invalidValue"
            case .notFound: "notFound"
            case .alreadyExists: "alreadyExists"
            case .illegalTransition: "illegalTransition"
            case .invalidRecord: "invalidRecord"
            }
        }
    }

    public let code: Code
    /// The stored field name the error is about (`member_count`), when one is to blame.
    public let field: String?
    /// What went wrong and what to do.
    public let message: String

    package init(_ code: Code, field: String? = nil, _ message: String) {
        self.code = code
        self.field = field
        self.message = message
    }

    public var description: String { message }
}
