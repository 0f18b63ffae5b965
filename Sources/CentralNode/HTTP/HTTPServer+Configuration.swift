import Foundation

extension HTTPServer {
    /// Where the server listens, how many threads serve, and the limits on every request.
    ///
    ///     var configuration = HTTPServer.Configuration(host: "0.0.0.0", port: 8443)
    ///     configuration.tls = .init(certificatePath: "/etc/fieldsync/cert.pem",
    ///                               keyPath: "/etc/fieldsync/key.pem")
    public struct Configuration: Sendable {
        /// An IP address or a name that resolves to one; "0.0.0.0" or "::" for all interfaces.
        public var host: String
        /// 0 lets the kernel pick a free port; `HTTPServer.boundPort` reports it.
        public var port: Int
        /// Threads that run handlers, each polling its own connections with poll(). A handler
        /// that waits for the database holds its thread's other connections up, so there are
        /// more threads than cores (the district bench's tail latencies were lowest at 8 on 2 cores).
        public var threadCount: Int = max(8, 4 * ProcessInfo.processInfo.activeProcessorCount)
        /// Connections open at once; the server closes further ones straight away.
        public var connectionsMax: Int = 512
        /// A connection idle (nothing received or sent) this long is closed.
        public var connectionTimeoutSeconds: Int = 30
        /// A connection must send complete request headers within this of connecting, or of the
        /// request line of a later request (however slowly bytes trickle in), or it is closed. A
        /// kept-alive connection waits `connectionTimeoutSeconds` for its next request.
        public var headerTimeoutSeconds: Int = 10
        /// A request body must arrive at this average rate at least, once `bodyGraceSeconds`
        /// have passed since its headers, or the connection is closed. (Apache's RequestReadTimeout
        /// uses 500 B/s; a 2G link carries several KB/s.)
        public var bodyBytesPerSecondMin: Int = 500
        public var bodyGraceSeconds: Int = 20
        /// Connections of one client address that have not sent complete request headers; past
        /// this the address's oldest such connection is closed. Only waiting connections count,
        /// so many collectors behind one carrier address are never refused for their number.
        public var pendingConnectionsPerAddressMax: Int = 32
        /// After an answer sent before the body was read (401, 413, a framing error), how long
        /// the rest of the body is read and dropped so that the client can read the answer.
        public var lingerSeconds: Int = 5
        /// Larger request bodies get 413 with a JSON error.
        public var bodyBytesMax: Int = 8 * 1024 * 1024
        /// Larger request lines plus header fields get 431 with a JSON error.
        public var headerBytesMax: Int = 32 * 1024
        /// HTTPS when set: TLS 1.2 and 1.3 only, forward-secret AEAD suites (`TLS.priorities`).
        public var tls: TLS?
        /// Receives libmicrohttpd's own messages after startup (client errors, timeouts); nil drops them.
        public var libraryMessageHandler: (@Sendable (String) -> Void)?

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        /// PEM files for HTTPS: the certificate (chain) and its unencrypted private key.
        public struct TLS: Sendable {
            public var certificatePath: String
            public var keyPath: String

            public init(certificatePath: String, keyPath: String) {
                self.certificatePath = certificatePath
                self.keyPath = keyPath
            }

            /// The GnuTLS priority string the server uses: TLS 1.3 and 1.2 only; key exchange by
            /// ephemeral (EC)DH only, so a stolen key does not open recorded sessions (no static
            /// RSA); AEAD ciphers only (AES-GCM, ChaCha20-Poly1305: no CBC, no RC4, no 3DES).
            public static let priorities = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:+DHE-RSA:-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305:-MAC-ALL:+AEAD:%SERVER_PRECEDENCE"
        }

        static let threadCountMax = 256
        static let connectionsMaxLimit = 1_000_000
        static let headerBytesMin = 1024

        func validate() throws {
            func check(_ ok: Bool, _ message: @autoclosure () -> String) throws {
                if !ok { throw HTTPServerError(.invalidConfiguration, message()) }
            }
            try check((0...65535).contains(port), "port \(port) is outside 0...65535")
            try check((1...Self.threadCountMax).contains(threadCount),
                      "threadCount \(threadCount) is outside 1...\(Self.threadCountMax)")
            try check((threadCount...Self.connectionsMaxLimit).contains(connectionsMax),
                      "connectionsMax \(connectionsMax) must be at least threadCount (\(threadCount)) and at most \(Self.connectionsMaxLimit)")
            try check((1...86_400).contains(connectionTimeoutSeconds),
                      "connectionTimeoutSeconds \(connectionTimeoutSeconds) is outside 1...86400")
            try check((1...3_600).contains(headerTimeoutSeconds), "headerTimeoutSeconds \(headerTimeoutSeconds) is outside 1...3600")
            try check((0...(1 << 30)).contains(bodyBytesPerSecondMin), "bodyBytesPerSecondMin \(bodyBytesPerSecondMin) is outside 0...2^30")
            try check((1...3_600).contains(bodyGraceSeconds), "bodyGraceSeconds \(bodyGraceSeconds) is outside 1...3600")
            try check((1...Self.connectionsMaxLimit).contains(pendingConnectionsPerAddressMax),
                      "pendingConnectionsPerAddressMax \(pendingConnectionsPerAddressMax) is outside 1...\(Self.connectionsMaxLimit)")
            try check((0...60).contains(lingerSeconds), "lingerSeconds \(lingerSeconds) is outside 0...60")
            try check((1...(1 << 40)).contains(bodyBytesMax), "bodyBytesMax \(bodyBytesMax) is outside 1...2^40")
            try check((Self.headerBytesMin...(1 << 20)).contains(headerBytesMax),
                      "headerBytesMax \(headerBytesMax) is outside \(Self.headerBytesMin)...1048576")
        }

        /// libmicrohttpd keeps the request line and headers in a per-connection memory pool that
        /// also holds I/O buffers, so the pool must be larger than the header limit we enforce.
        var connectionMemoryBytes: Int { max(32 * 1024, 2 * headerBytesMax + 16 * 1024) }

        var wardenLimits: ConnectionWarden.Limits {
            .init(headerTimeout: .seconds(headerTimeoutSeconds), idleTimeout: .seconds(connectionTimeoutSeconds), bodyGrace: .seconds(bodyGraceSeconds),
                  bodyBytesPerSecondMin: bodyBytesPerSecondMin, pendingPerAddressMax: pendingConnectionsPerAddressMax,
                  connectionsMax: connectionsMax, lingerTimeout: .seconds(lingerSeconds))
        }
    }
}
