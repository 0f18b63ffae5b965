import Foundation

/// One request's progress, kept in libmicrohttpd's per-request `con_cls` pointer.
///
/// Created (retained) in the URI callback, released in the request-completed callback, which
/// libmicrohttpd always calls once the URI callback has run. A connection is served by one pool
/// thread, so only one thread touches a given state at a time.
final class RequestState {
    let rawURI: String
    var headersSeen = false
    var responseQueued = false
    var headers = HTTPHeaders()
    var body = Data()
    /// Bytes received beyond `bodyBytesMax`; they are read and dropped until the drain cap.
    var bodyBytesDropped = 0
    /// The request's framing asks for the connection to close after the response
    /// (`RequestFraming.closeAfterResponse`).
    var closeAfterResponse = false

    init(rawURI: String) {
        self.rawURI = rawURI
    }

    var isOverBodyLimit: Bool { bodyBytesDropped > 0 }

    /// The query part of the raw URI, without "?".
    var rawQuery: String {
        guard let mark = rawURI.firstIndex(of: "?") else { return "" }
        return String(rawURI[rawURI.index(after: mark)...])
    }
}
