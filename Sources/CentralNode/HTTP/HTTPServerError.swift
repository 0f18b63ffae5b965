/// Why the HTTP server could not start, with a message an operator can act on.
///
///     catch let error as HTTPServerError where error.code == .tlsCredentialsRejected { ... }
public struct HTTPServerError: Error, Sendable, CustomStringConvertible {
    /// A struct over a private enum so that new codes do not break callers' switches.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String {
            case invalidConfiguration, addressUnresolvable, listenFailed
            case tlsUnsupported, tlsFileUnreadable, tlsCredentialsRejected
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A limit or size in the configuration is out of range.
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// The host is not an IP address or a name that resolves.
        public static let addressUnresolvable = Code(.addressUnresolvable)
        /// The daemon did not start (port taken, permission denied, ...).
        public static let listenFailed = Code(.listenFailed)
        /// This libmicrohttpd was built without TLS.
        public static let tlsUnsupported = Code(.tlsUnsupported)
        /// A certificate or key file is missing, unreadable or not PEM.
        public static let tlsFileUnreadable = Code(.tlsFileUnreadable)
        /// GnuTLS refused the certificate and key (for example, the key does not match).
        public static let tlsCredentialsRejected = Code(.tlsCredentialsRejected)

        public var description: String { base.rawValue }
    }

    public let code: Code
    public let message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
