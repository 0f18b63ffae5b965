/// An error a person can act on: what was wrong, and what to do.
///
///     do { try replica.write { try $0.update("households", id, ["members": 120]) } }
///     catch let error as SyncError where error.code == .invalidInput { print(error.message) }
///
/// `Code` is a struct over names, so new codes can be added without breaking callers' switches.
public struct SyncError: Error, CustomStringConvertible, Sendable, Equatable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The caller passed a value, field or id that the schema or a limit refuses.
        public static let invalidInput = Code("invalidInput")
        /// The record or item does not exist.
        public static let notFound = Code("notFound")
        /// A record with that id (or natural key) already exists.
        public static let alreadyExists = Code("alreadyExists")
        /// A lifecycle field was asked to move along a transition its state machine forbids.
        public static let illegalTransition = Code("illegalTransition")
        /// A named limit was exceeded.
        public static let limitExceeded = Code("limitExceeded")
        /// The declared schema cannot be reconciled with the one stored in the replica.
        public static let schemaMismatch = Code("schemaMismatch")
        /// Stored data could not be read back.
        public static let corrupt = Code("corrupt")
        /// The central node could not be reached (no network, wrong address, timeout): nothing was
        /// lost, the next sync resumes.
        public static let unreachable = Code("unreachable")
        /// A file could not be created, written or renamed (no permission, disk full, an I/O
        /// error); what was there before is unchanged.
        public static let fileSystem = Code("fileSystem")
        /// A fault injected by a test.
        public static let injectedFault = Code("injectedFault")
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
