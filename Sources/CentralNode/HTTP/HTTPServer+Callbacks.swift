import CMicroHTTPD
import CMicroHTTPDShim
import Foundation

// The C callbacks libmicrohttpd calls on its pool threads. They cannot capture Swift context:
// `cls` is the daemon's retained ServerContext and `con_cls` is a retained RequestState.
// This file and HTTPServer.swift hold all the raw-pointer code of the HTTP layer.

/// Bytes of an over-limit body the server reads and drops so the client can see the 413;
/// past this the connection is closed instead.
private let overLimitDrainBytesMax = 1024 * 1024

/// Runs first for every request, with the raw URI; allocates the request's state.
func httpURICallback(
    cls: UnsafeMutableRawPointer?, uri: UnsafePointer<CChar>?, connection: OpaquePointer?
) -> UnsafeMutableRawPointer? {
    guard let cls else { return nil }
    let context = Unmanaged<ServerContext>.fromOpaque(cls).takeUnretainedValue()
    let state = RequestState(rawURI: uri.map { String(cString: $0) } ?? "")
    if let connection { context.warden.requestLineReceived(UInt(bitPattern: connection)) }
    context.requestsInFlight.add(1, ordering: .relaxed)
    context.requestStatesAlive.add(1, ordering: .relaxed)
    return Unmanaged.passRetained(state).toOpaque()
}

/// Runs once per request when it ends for any reason (sent, client gone, timeout, shutdown).
func httpCompletedCallback(
    cls: UnsafeMutableRawPointer?, connection: OpaquePointer?,
    conCls: UnsafeMutablePointer<UnsafeMutableRawPointer?>?, termination: MHD_RequestTerminationCode
) {
    guard let cls, let conCls, let raw = conCls.pointee else { return }
    conCls.pointee = nil
    Unmanaged<RequestState>.fromOpaque(raw).release()
    let context = Unmanaged<ServerContext>.fromOpaque(cls).takeUnretainedValue()
    if let connection { context.warden.requestEnded(UInt(bitPattern: connection)) }
    context.requestStatesAlive.subtract(1, ordering: .relaxed)
    context.requestsInFlight.subtract(1, ordering: .releasing)
}

/// Runs when a connection is accepted and again just before its socket is closed.
func httpConnectionCallback(
    cls: UnsafeMutableRawPointer?, connection: OpaquePointer?, socketContext: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
    event: MHD_ConnectionNotificationCode
) {
    guard let cls, let connection else { return }
    let context = Unmanaged<ServerContext>.fromOpaque(cls).takeUnretainedValue()
    let key = UInt(bitPattern: connection)
    if event == .CONNECTION_NOTIFY_STARTED {
        context.warden.opened(key, socket: fs_mhd_connection_fd(connection), address: clientAddress(connection))
    } else {
        context.warden.closed(key)
    }
}

/// Called after the headers, once per chunk of body, and once more when the body is complete.
func httpAccessCallback(
    cls: UnsafeMutableRawPointer?, connection: OpaquePointer?, url: UnsafePointer<CChar>?,
    method: UnsafePointer<CChar>?, version: UnsafePointer<CChar>?, uploadData: UnsafePointer<CChar>?,
    uploadDataSize: UnsafeMutablePointer<Int>?, conCls: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
) -> MHD_Result {
    // Returning NO closes the connection without a response: only for impossible states.
    guard let cls, let connection, let uploadDataSize, let raw = conCls?.pointee else { return .NO }
    let context = Unmanaged<ServerContext>.fromOpaque(cls).takeUnretainedValue()
    let state = Unmanaged<RequestState>.fromOpaque(raw).takeUnretainedValue()
    let key = UInt(bitPattern: connection)
    if state.responseQueued {
        uploadDataSize.pointee = 0  // body after an early answer is dropped
        return .YES
    }
    let methodName = method.map { String(cString: $0) } ?? ""

    if !state.headersSeen {
        state.headersSeen = true
        let headers = connectionHeaders(connection)
        state.headers = headers
        let head = HTTPRequestHead(method: methodName, path: url.map { String(cString: $0) } ?? "/", query: state.rawQuery,
                                   headers: headers, remoteAddress: clientAddress(connection))
        // The headers are in: the request no longer waits for its client while the server judges
        // it (a preflight may wait for the database: the server's time, not the client's).
        context.warden.headersReceived(key, bodyExpected: false)
        // Everything a request can be refused for without its body is judged now, so that a
        // refused body is never read, let alone parsed.
        if let refusal = earlyRefusal(head, version: version.map { String(cString: $0) } ?? "", state: state, context: context) {
            context.warden.lingerOnClose(key)
            return queue(refusal, state: state, connection: connection, context: context, forceClose: true)
        }
        let declared = headers["Content-Length"].flatMap { Int($0.trimmingCharacters(in: [" ", "\t"])) } ?? 0
        if declared > 0 { state.body.reserveCapacity(min(declared, context.bodyBytesMax)) }
        // Now the body is read, at the client's pace.
        if declared > 0 || headers["Transfer-Encoding"] != nil { context.warden.headersReceived(key, bodyExpected: true) }
        return .YES
    }

    let chunkBytes = uploadDataSize.pointee
    if chunkBytes > 0 {
        uploadDataSize.pointee = 0
        context.warden.bodyReceived(key, bytes: chunkBytes)
        if state.isOverBodyLimit || state.body.count + chunkBytes > context.bodyBytesMax {
            state.bodyBytesDropped += chunkBytes
            return state.bodyBytesDropped > overLimitDrainBytesMax ? .NO : .YES
        }
        if let uploadData {
            state.body.append(UnsafeRawPointer(uploadData).assumingMemoryBound(to: UInt8.self), count: chunkBytes)
        }
        return .YES
    }

    context.warden.bodyComplete(key)
    if state.isOverBodyLimit {
        return queue(bodyTooLarge(state.body.count + state.bodyBytesDropped, context), state: state,
                     connection: connection, context: context, forceClose: true)
    }
    let request = HTTPRequest(
        method: methodName,
        path: url.map { String(cString: $0) } ?? "/",
        query: state.rawQuery,
        headers: state.headers,
        body: state.body,
        remoteAddress: clientAddress(connection))
    state.body = Data()
    let response = context.handler(request)
    return queue(response, state: state, connection: connection, context: context, forceClose: state.closeAfterResponse)
}

/// Why a request is answered from its head alone, in this order: its framing (smuggling), the
/// size of its headers, the route and the route's preflight check (a token, say), the declared
/// size of its body. nil: read the body.
private func earlyRefusal(_ head: HTTPRequestHead, version: String, state: RequestState, context: ServerContext) -> HTTPResponse? {
    switch RequestFraming.judge(version: version, headers: head.headers) {
    case .ok: break
    case .closeAfterResponse: state.closeAfterResponse = true
    case .refuse(let status, let code, let message): return .error(HTTPStatus(status), code: code, message: message)
    }
    let headerBytes = state.rawURI.utf8.count + head.method.utf8.count
        + head.headers.fields.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 }
    if headerBytes > context.headerBytesMax {
        return .error(.headerFieldsTooLarge, code: "headersTooLarge",
                      message: "request line and headers are \(headerBytes) bytes; the limit is \(context.headerBytesMax)")
    }
    if let refusal = context.preflight?(head) { return refusal }
    if let length = head.headers["Content-Length"].flatMap({ Int($0.trimmingCharacters(in: [" ", "\t"])) }), length > context.bodyBytesMax {
        return bodyTooLarge(length, context)
    }
    return nil
}

private func bodyTooLarge(_ bytes: Int, _ context: ServerContext) -> HTTPResponse {
    .error(.contentTooLarge, code: "bodyTooLarge",
           message: "request body is \(bytes) bytes or more; the limit is \(context.bodyBytesMax)")
}

/// Headers libmicrohttpd sets itself; a handler's copy would duplicate or contradict them.
private let headersOwnedByLibrary: Set<String> = ["content-length", "transfer-encoding", "date"]

private func queue(
    _ response: HTTPResponse, state: RequestState, connection: OpaquePointer, context: ServerContext,
    forceClose: Bool
) -> MHD_Result {
    state.responseQueued = true
    let created = response.body.withUnsafeBytes { bytes in
        MHD_create_response_from_buffer(bytes.count, UnsafeMutableRawPointer(mutating: bytes.baseAddress),
                                        .RESPMEM_MUST_COPY)
    }
    guard let mhdResponse = created else { return .NO }
    defer { MHD_destroy_response(mhdResponse) }
    for field in response.headers.fields where !headersOwnedByLibrary.contains(field.name.lowercased()) {
        // libmicrohttpd refuses names or values with CR, LF or other forbidden bytes; such a
        // field is dropped rather than failing the whole response.
        _ = MHD_add_response_header(mhdResponse, field.name, field.value)
    }
    if forceClose || context.isDraining.load(ordering: .relaxed) {
        _ = MHD_add_response_header(mhdResponse, "Connection", "close")
    }
    return MHD_queue_response(connection, UInt32(response.status.code), mhdResponse)
}

private func connectionHeaders(_ connection: OpaquePointer) -> HTTPHeaders {
    var headers = HTTPHeaders()
    withUnsafeMutablePointer(to: &headers) { pointer in
        _ = MHD_get_connection_values(connection, .HEADER_KIND, { cls, _, key, value in
            guard let cls, let key else { return .YES }
            cls.assumingMemoryBound(to: HTTPHeaders.self).pointee.add(
                name: String(cString: key), value: value.map { String(cString: $0) } ?? "")
            return .YES
        }, pointer)
    }
    return headers
}

private func clientAddress(_ connection: OpaquePointer) -> String {
    var buffer = [CChar](repeating: 0, count: 64)
    guard fs_mhd_connection_client_address(connection, &buffer, buffer.count) == 0 else { return "" }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// libmicrohttpd's log lines, formatted by the C shim.
func httpLogCallback(cls: UnsafeMutableRawPointer?, message: UnsafePointer<CChar>?) {
    guard let cls, let message else { return }
    Unmanaged<ServerContext>.fromOpaque(cls).takeUnretainedValue().log(String(cString: message))
}
