/// How a request's body is delimited, judged from its request line and headers before any byte
/// of the body is read (RFC 9112 section 6). Request smuggling lives where two parsers frame
/// one message differently, so anything ambiguous is refused, and the connection with it.
///
///     switch RequestFraming.judge(version: "HTTP/1.1", headers: headers) {
///     case .ok: …                     // serve, keep the connection
///     case .closeAfterResponse: …     // serve, then close
///     case .refuse(let response): …   // answer now, read nothing more, close
///     }
enum RequestFraming: Equatable {
    case ok
    /// Both `Content-Length` and `Transfer-Encoding: chunked`: the body is framed by the
    /// transfer coding alone (libmicrohttpd does so), and the connection is closed after the
    /// response, as RFC 9112 section 6.3 requires, so that nothing after the body is read as
    /// another request.
    case closeAfterResponse
    case refuse(status: Int, code: String, message: String)

    static func judge(version: String, headers: HTTPHeaders) -> RequestFraming {
        for field in headers.fields where !isToken(field.name) {
            // libmicrohttpd keeps "Content-Length " (a space before the colon) as a header of
            // that name, so the body would go unread and be parsed as the next request.
            return .refuse(status: 400, code: "badRequest",
                           message: "header name “\(field.name.prefix(64))” is not valid (RFC 9110: letters, digits and !#$%&'*+-.^_`|~ only, nothing between the name and its colon); fix the client")
        }
        let lengths = headers.values(for: "Content-Length").map { $0.trimmingCharacters(in: [" ", "\t"]) }
        for length in lengths where length.isEmpty || !length.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            return .refuse(status: 400, code: "badRequest",
                           message: "Content-Length “\(length.prefix(32))” is not a number of bytes; send one Content-Length with the body's size")
        }
        if Set(lengths.map { $0.drop { $0 == "0" } }).count > 1 {
            return .refuse(status: 400, code: "badRequest",
                           message: "the request has \(lengths.count) different Content-Length headers (\(lengths.prefix(4).joined(separator: ", "))); send one")
        }
        let encodings = headers.values(for: "Transfer-Encoding")
        guard !encodings.isEmpty else { return .ok }
        if version.uppercased() == "HTTP/1.0" {
            return .refuse(status: 400, code: "badRequest",
                           message: "Transfer-Encoding is not part of HTTP/1.0; send the body with Content-Length")
        }
        let codings = encodings.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: [" ", "\t"]).lowercased() }
        guard codings == ["chunked"] else {
            return .refuse(status: 501, code: "notImplemented",
                           message: "Transfer-Encoding “\(codings.joined(separator: ", ").prefix(64))” is not supported; send the body with Content-Length or Transfer-Encoding: chunked alone")
        }
        return lengths.isEmpty ? .ok : .closeAfterResponse
    }

    /// RFC 9110's `token`: one or more of `tchar`.
    static func isToken(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { byte in
            switch byte {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
            case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
                 UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
                 UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"): return true
            default: return false
            }
        }
    }
}
