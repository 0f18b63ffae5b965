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
    context.requestStatesAlive.subtract(1, ordering: .relaxed)
    context.requestsInFlight.subtract(1, ordering: .releasing)
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
    if state.responseQueued {
        uploadDataSize.pointee = 0  // body after an early answer is dropped
        return .YES
    }
    let methodName = method.map { String(cString: $0) } ?? ""

    if !state.headersSeen {
        state.headersSeen = true
        let headers = connectionHeaders(connection)
        state.headers = headers
        let headerBytes = state.rawURI.utf8.count + methodName.utf8.count
            + headers.fields.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 }
        if headerBytes > context.headerBytesMax {
            return queue(.error(.headerFieldsTooLarge, code: "headersTooLarge",
                                message: "request line and headers are \(headerBytes) bytes; the limit is \(context.headerBytesMax)"),
                         state: state, connection: connection, context: context, forceClose: true)
        }
        // libmicrohttpd stops reading the body of a POST or PUT answered now; for other methods
        // the body is read and dropped below.
        if let length = headers["Content-Length"].flatMap(Int.init), length > 0 {
            if length > context.bodyBytesMax, methodName == "POST" || methodName == "PUT" {
                return queue(bodyTooLarge(length, context), state: state, connection: connection,
                             context: context, forceClose: true)
            }
            state.body.reserveCapacity(min(length, context.bodyBytesMax))
        }
        return .YES
    }

    let chunkBytes = uploadDataSize.pointee
    if chunkBytes > 0 {
        uploadDataSize.pointee = 0
        if state.isOverBodyLimit || state.body.count + chunkBytes > context.bodyBytesMax {
            state.bodyBytesDropped += chunkBytes
            return state.bodyBytesDropped > overLimitDrainBytesMax ? .NO : .YES
        }
        if let uploadData {
            state.body.append(UnsafeRawPointer(uploadData).assumingMemoryBound(to: UInt8.self), count: chunkBytes)
        }
        return .YES
    }

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
    return queue(response, state: state, connection: connection, context: context, forceClose: false)
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
