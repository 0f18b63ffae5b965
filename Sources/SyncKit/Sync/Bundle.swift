import Foundation

/// A sync carried by hand: one file with a magic line, a header (format version, protocol
/// version, kind, body size, SHA-256 of the body) and the body, a sync message. Importing goes
/// through the same checks as the network path and is idempotent.
///
///     FIELDSYNC-BUNDLE 1
///     {"bytes":5120,"createdMillis":1767225600000,"device":"00…0a","kind":"device-push","protocol":1,"sha256":"9f…"}
///     {"cursors":{…},"device":"00…0a","protocol":1,"pullOpsMax":0,"push":[…]}
public enum Bundle {
    public static let magic = "FIELDSYNC-BUNDLE"
    public static let formatVersion = 1
    /// The largest bundle read or written.
    public static let bytesMax = 256 * 1024 * 1024
    /// Operations in one bundle.
    public static let opsMax = 500_000

    public enum Kind: String, Codable, Sendable {
        /// A device's unacknowledged operations, for the central node.
        case devicePush = "device-push"
        /// The central node's operations of one device's cells, for that device.
        case centralPull = "central-pull"
    }

    public struct Header: Sendable, Equatable {
        public var kind: Kind
        public var protocolVersion: Int
        public var device: ReplicaID
        public var createdMillis: Int64
        public var bytes: Int
        public var sha256: String
    }

    /// What a bundle holds.
    public enum Contents: Sendable, Equatable {
        case devicePush(SyncRequest)
        case centralPull(device: ReplicaID, SyncResponse)
    }

    public static func encode(_ contents: Contents, createdMillis: Int64) throws -> Data {
        let body: Data, kind: Kind, device: ReplicaID
        switch contents {
        case .devicePush(let request):
            (body, kind, device) = (try SyncProtocol.encode(request), .devicePush, request.device)
        case .centralPull(let target, let response):
            (body, kind, device) = (try SyncProtocol.encode(response), .centralPull, target)
        }
        let header = Header(kind: kind, protocolVersion: SyncProtocol.version, device: device, createdMillis: createdMillis,
                            bytes: body.count, sha256: Hex.encode(SHA256.hash([UInt8](body))))
        var data = Data("\(magic) \(formatVersion)\n".utf8)
        data.append(try SyncProtocol.encode(header))
        data.append(0x0A)
        data.append(body)
        guard data.count <= bytesMax else {
            throw SyncError(.limitExceeded, "the bundle would be \(data.count) bytes; at most \(bytesMax). Sync more often or over the network")
        }
        return data
    }

    /// Reads a bundle, checking the magic line, versions, size and checksum.
    public static func decode(_ data: Data) throws -> (Header, Contents) {
        guard data.count <= bytesMax else { throw SyncError(.limitExceeded, "file of \(data.count) bytes is larger than any bundle (\(bytesMax))") }
        let bytes = [UInt8](data)
        guard let firstNewline = bytes.firstIndex(of: 0x0A),
              let secondNewline = bytes[(firstNewline + 1)...].firstIndex(of: 0x0A) else {
            throw SyncError(.invalidInput, "this file is not a FieldSync bundle (no header); choose the .fsbundle file exported by fieldsync")
        }
        let magicLine = String(decoding: bytes[..<firstNewline], as: UTF8.self)
        let parts = magicLine.split(separator: " ")
        guard parts.count == 2, parts[0] == magic else {
            throw SyncError(.invalidInput, "this file is not a FieldSync bundle; choose the .fsbundle file exported by fieldsync")
        }
        guard Int(parts[1]) == formatVersion else {
            throw SyncError(.invalidInput, "bundle format \(parts[1]) is not supported; this build reads format \(formatVersion). Update fieldsync")
        }
        let header: Header
        do {
            header = try SyncProtocol.decode(Header.self, from: Data(bytes[(firstNewline + 1)..<secondNewline]))
        } catch let error as SyncError {
            throw SyncError(.invalidInput, "the bundle header is damaged: \(error.message)")
        }
        guard header.protocolVersion == SyncProtocol.version else {
            throw SyncError(.invalidInput, "the bundle uses protocol version \(header.protocolVersion); this build speaks version \(SyncProtocol.version). Update the older side")
        }
        let body = Array(bytes[(secondNewline + 1)...])
        guard body.count == header.bytes else {
            throw SyncError(.invalidInput, "the bundle is truncated or padded: \(body.count) bytes of body, header says \(header.bytes). Copy the file again")
        }
        guard Hex.encode(SHA256.hash(body)) == header.sha256 else {
            throw SyncError(.invalidInput, "the bundle is damaged (checksum mismatch). Copy the file again from the source device")
        }
        switch header.kind {
        case .devicePush:
            let request = try SyncProtocol.decode(SyncRequest.self, from: Data(body))
            guard request.device == header.device else { throw SyncError(.invalidInput, "the bundle's header and body name different devices") }
            guard request.push.count <= opsMax else { throw SyncError(.limitExceeded, "the bundle holds \(request.push.count) operations; at most \(opsMax)") }
            return (header, .devicePush(request))
        case .centralPull:
            let response = try SyncProtocol.decode(SyncResponse.self, from: Data(body))
            guard response.ops.count <= opsMax else { throw SyncError(.limitExceeded, "the bundle holds \(response.ops.count) operations; at most \(opsMax)") }
            return (header, .centralPull(device: header.device, response))
        }
    }
}

extension Replica {
    /// A bundle of every unacknowledged local operation, for the central node: the request a
    /// sync session would send first, pushing everything and asking for no page (the reply comes
    /// back as another file, some day).
    public func exportBundle() throws -> Data {
        var session = SyncSession(replica: self, pushOpsMax: Bundle.opsMax, pullOpsMax: 0, verify: false)
        guard var request = try session.nextRequest() else { preconditionFailure("a new session always has a first request") }
        // A carried file resumes no snapshot: the reply bundle holds whole cells.
        request.snapshots = nil
        request.snapshotForm = nil
        return try Bundle.encode(.devicePush(request), createdMillis: withEngine { $0.nowMillis })
    }

    /// Imports a bundle the central node exported for this device: acknowledges what the
    /// central node stored and applies its operations, through a sync session as a reply that
    /// came by hand. Importing twice, or an older bundle after a newer sync, is harmless.
    @discardableResult
    public func importBundle(_ data: Data) throws -> ApplyReport {
        let (header, contents) = try Bundle.decode(data)
        guard case .centralPull(let device, var response) = contents else {
            throw SyncError(.invalidInput, "this is a \(header.kind.rawValue) bundle, made by a device for the central node; import it there")
        }
        guard device == id else {
            throw SyncError(.invalidInput, "this bundle was made for device \(device.hex.prefix(8))…, not this one (\(id.hex.prefix(8))…)")
        }
        // An older bundle must not move cursors back, nor acknowledge less.
        let current = try syncCursors()
        for (cell, cseq) in current where response.cursors[cell].map({ $0 < cseq }) ?? false { response.cursors[cell] = cseq }
        // Older than the newest reply taken (a file carried late), it no longer says which cells
        // the device serves: it acknowledges, but brings back no cell the device let go of since.
        if let newest = try withEngine({ try $0.state("server_millis") }), response.serverTimeMillis < newest {
            (response.cells, response.cursors, response.snapshots) = (current.keys.filter { !$0.isEmpty }.sorted(), current, [:])
        }
        let request = SyncRequest(device: id, cursors: current, push: [], pullOpsMax: response.ops.count)
        let carried = CarriedReply(replica: self, request: request)
        var session = SyncSession(endpoint: carried, pushOpsMax: 0, pullOpsMax: response.ops.count, verify: false)
        _ = try session.nextRequest()
        try session.receive(response)
        return carried.report
    }
}

/// The device side of a reply that came as a file: its request is the one the bundle answers
/// (this device's cursors when it is imported), not one the replica builds now.
private final class CarriedReply: SyncEndpoint {
    let replica: Replica
    let request: SyncRequest
    private(set) var report = ApplyReport()

    init(replica: Replica, request: SyncRequest) {
        self.replica = replica
        self.request = request
    }

    func nextSyncRequest(pushOpsMax: Int, pullOpsMax: Int, verify: Bool) throws -> SyncRequest { request }
    func ingest(_ response: SyncResponse, for request: SyncRequest) throws -> ApplyReport {
        report = try replica.ingest(response, for: request)
        return report
    }
    func unsyncedCount() throws -> Int { try replica.unsyncedCount() }
}

/// The header line: `{"bytes":…,"createdMillis":…,"device":"…","kind":"…","protocol":1,"sha256":"…"}`.
extension Bundle.Header: WireMessage {
    public func writeJSON(_ w: inout JSONWriter) {
        w.object { o in
            o.field("bytes") { $0.int(Int64(bytes)) }
            o.field("createdMillis") { $0.int(createdMillis) }
            o.field("device") { $0.string(device.hex) }
            o.field("kind") { $0.string(kind.rawValue) }
            o.field("protocol") { $0.int(Int64(protocolVersion)) }
            o.field("sha256") { $0.string(sha256) }
        }
    }

    public static func readJSON(_ f: JSONField) throws -> Bundle.Header {
        let kindField = try f.key("kind")
        guard let kind = Bundle.Kind(rawValue: try kindField.string()) else {
            throw kindField.fail("kind is \"\(try kindField.string().prefix(40))\"; a bundle is \"device-push\" or \"central-pull\"")
        }
        return Bundle.Header(kind: kind, protocolVersion: try f.key("protocol").int(), device: try WireJSON.replica(try f.key("device")),
                             createdMillis: try f.key("createdMillis").int64(), bytes: try f.key("bytes").int(), sha256: try f.key("sha256").string())
    }
}
