import Foundation

/// The sync protocol's version and limits (Design.md, "Sync protocol").
public enum SyncProtocol {
    /// The version this build speaks. A message of another version is refused with an error
    /// that names both.
    public static let version = 1
    /// Operations a device pushes in one request.
    public static let pushOpsMax = 500
    /// Operations the central node returns in one page.
    public static let pageOpsMax = 1_000
    /// Exchanges in one sync before it stops with an error instead of spinning.
    public static let roundsMax = 10_000
    /// Bytes of one message body.
    public static let messageBytesMax = 8 * 1024 * 1024
}

/// A device's half of one exchange: what it pushes, and where its pull stands.
///
///     {"protocol":1,"device":"00…ff","cursors":{"JS-0412":120},"push":[…ops…],"pullOpsMax":1000}
public struct SyncRequest: Codable, Sendable, Equatable {
    public var protocolVersion: Int
    /// The device's replica id.
    public var device: ReplicaID
    /// Per grid cell, the last central sequence number the device has applied for it. A cell
    /// missing here starts from 0: its whole log comes down.
    public var cursors: [String: UInt64]
    /// Local operations not yet acknowledged, oldest first (at most `pushOpsMax`).
    public var push: [Op]
    /// How many operations the device takes in the reply's page.
    public var pullOpsMax: Int
    /// Per cell, the device's state digest, for the central node to compare (verify). Sent when
    /// the device believes it is caught up; absent otherwise.
    public var digests: [String: String]?
    /// Cells whose snapshot is being received: the key to resume after (`CellSnapshot.next`).
    /// The cell's cursor is then the snapshot's starting sequence number.
    public var snapshots: [String: String]?
    /// The newest snapshot page form the device reads (`SnapshotForm`); absent: form 1. The node
    /// answers in the newest form both know.
    public var snapshotForm: Int?

    public init(device: ReplicaID, cursors: [String: UInt64], push: [Op], pullOpsMax: Int = SyncProtocol.pageOpsMax,
                digests: [String: String]? = nil, snapshots: [String: String]? = nil, snapshotForm: Int? = nil) {
        self.protocolVersion = SyncProtocol.version
        self.device = device
        self.cursors = cursors
        self.push = push
        self.pullOpsMax = pullOpsMax
        self.digests = digests
        self.snapshots = snapshots
        self.snapshotForm = snapshotForm
    }

    private enum CodingKeys: String, CodingKey {
        case protocolVersion = "protocol", device, cursors, push, pullOpsMax, digests, snapshots, snapshotForm
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        protocolVersion = try SyncProtocol.checkVersion(c.decode(Int.self, forKey: .protocolVersion), in: c, key: .protocolVersion)
        device = try c.decode(ReplicaID.self, forKey: .device)
        cursors = try c.decode([String: UInt64].self, forKey: .cursors)
        push = try c.decode([Op].self, forKey: .push)
        pullOpsMax = try c.decode(Int.self, forKey: .pullOpsMax)
        digests = try c.decodeIfPresent([String: String].self, forKey: .digests)
        snapshots = try c.decodeIfPresent([String: String].self, forKey: .snapshots)
        snapshotForm = try c.decodeIfPresent(Int.self, forKey: .snapshotForm)
    }
}

/// The central node's half of one exchange.
///
///     {"protocol":1,"serverTimeMillis":1767225600000,"acceptedThroughSeq":42,"held":[],
///      "ops":[…],"cursors":{"JS-0412":1337},"more":false,"cells":["JS-0412"]}
public struct SyncResponse: Codable, Sendable, Equatable {
    /// A pushed operation the central node took but holds in its quarantine instead of applying
    /// it (clock drift, out of scope, invalid, unknown schema): the device drops it from its
    /// outbox and goes on; operators see it in the review queue and release or discard it.
    public struct Held: Codable, Sendable, Equatable {
        public var op: OpID
        public var reason: String
        /// Why, for people (absent from older nodes' replies).
        public var detail: String?
        public init(op: OpID, reason: String, detail: String? = nil) {
            self.op = op
            self.reason = reason
            self.detail = detail
        }
    }

    public var protocolVersion: Int
    /// The central node's clock, for the device's offset.
    public var serverTimeMillis: Int64
    /// Every pushed operation up to this sequence number is stored centrally (applied or held):
    /// the device acknowledges its outbox through it.
    public var acceptedThroughSeq: UInt64
    public var held: [Held]
    /// The next page of operations in the device's scope, excluding its own, by central sequence.
    public var ops: [Op]
    /// The per-cell cursors after applying this page.
    public var cursors: [String: UInt64]
    /// More operations wait after this page.
    public var more: Bool
    /// The device's cells now (the operators may have changed them).
    public var cells: [String]
    /// Cells whose digest differed from the central node's: the device drops them (keeping
    /// unsynced work) and pulls them again from the start.
    public var resync: [String]
    /// Cells sent as snapshots of state (a cell the device starts, or resumes starting): one
    /// page each. The device installs the records, and pulls the cell's log after `cseq` once
    /// the last page (no `next`) is in.
    public var snapshots: [String: CellSnapshot]

    public init(serverTimeMillis: Int64, acceptedThroughSeq: UInt64, held: [Held], ops: [Op], cursors: [String: UInt64], more: Bool,
                cells: [String], resync: [String] = [], snapshots: [String: CellSnapshot] = [:]) {
        self.protocolVersion = SyncProtocol.version
        self.serverTimeMillis = serverTimeMillis
        self.acceptedThroughSeq = acceptedThroughSeq
        self.held = held
        self.ops = ops
        self.cursors = cursors
        self.more = more
        self.cells = cells
        self.resync = resync
        self.snapshots = snapshots
    }

    private enum CodingKeys: String, CodingKey {
        case protocolVersion = "protocol", serverTimeMillis, acceptedThroughSeq, held, ops, cursors, more, cells, resync, snapshots
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        protocolVersion = try SyncProtocol.checkVersion(c.decode(Int.self, forKey: .protocolVersion), in: c, key: .protocolVersion)
        serverTimeMillis = try c.decode(Int64.self, forKey: .serverTimeMillis)
        acceptedThroughSeq = try c.decode(UInt64.self, forKey: .acceptedThroughSeq)
        held = try c.decode([Held].self, forKey: .held)
        ops = try c.decode([Op].self, forKey: .ops)
        cursors = try c.decode([String: UInt64].self, forKey: .cursors)
        more = try c.decode(Bool.self, forKey: .more)
        cells = try c.decode([String].self, forKey: .cells)
        resync = try c.decodeIfPresent([String].self, forKey: .resync) ?? []
        snapshots = try c.decodeIfPresent([String: CellSnapshot].self, forKey: .snapshots) ?? [:]
    }
}

/// An error reply: a code a program can switch on and a message a person can act on.
///
///     {"protocol":1,"code":"revoked","message":"device tablet-07 was revoked; enroll it again"}
public struct SyncErrorReply: Codable, Sendable, Equatable, Error {
    public var protocolVersion: Int
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.protocolVersion = SyncProtocol.version
        self.code = code
        self.message = message
    }

    private enum CodingKeys: String, CodingKey { case protocolVersion = "protocol", code, message }
}

extension ReplicaID: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let id = ReplicaID(hex: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "replica id \"\(text.prefix(40))\" is not 32 hex digits")
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}

extension SyncProtocol {
    static func checkVersion<K: CodingKey>(_ version: Int, in container: KeyedDecodingContainer<K>, key: K) throws -> Int {
        guard version == SyncProtocol.version else {
            throw DecodingError.dataCorruptedError(forKey: key, in: container,
                debugDescription: "message uses protocol version \(version); this build speaks version \(SyncProtocol.version). Update the older side")
        }
        return version
    }

    /// Canonical JSON (sorted keys) for a message.
    public static func encode<T: Encodable>(_ message: T) throws -> Data {
        // The protocol's own messages are written by hand (`WireJSON`): same JSON, much faster.
        if let wire = message as? any WireMessage {
            var writer = JSONWriter(reserving: 4_096)
            wire.writeJSON(&writer)
            return writer.data
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(message)
    }

    /// A response with operations given as their canonical wire bytes (`Op.jsonData()`, as the
    /// central log keeps them), spliced in as they are: the same bytes as `encode(_:)` of the
    /// response with those operations, without decoding and encoding each again. `response.ops`
    /// must be empty.
    package static func encode(_ response: SyncResponse, splicingOps ops: [[UInt8]]) -> Data {
        precondition(response.ops.isEmpty, "the spliced operations are the response's only ones")
        var writer = JSONWriter(reserving: 4_096 + ops.reduce(0) { $0 + $1.count + 1 })
        WireJSON.write(response, &writer) { w in w.array(ops) { $0.raw($1) } }
        return writer.data
    }

    /// Decodes a message, refusing oversized bodies and explaining what was wrong.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        guard data.count <= messageBytesMax else {
            throw SyncError(.limitExceeded, "message of \(data.count) bytes exceeds the limit of \(messageBytesMax)")
        }
        if let wire = type as? any WireMessage.Type {
            do {
                let node = try JSONNode.parse(data)
                return try wire.readJSON(JSONField(node)) as! T
            } catch let error as JSONShapeError {
                throw SyncError(.invalidInput, "malformed \(type) message: \(error.message)")
            }
        }
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as DecodingError {
            throw SyncError(.invalidInput, "malformed \(type) message: \(Self.explain(error))")
        }
    }

    static func explain(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return keys.isEmpty ? "" : " at \(keys)"
        }
        switch error {
        case .dataCorrupted(let context): return context.debugDescription + path(context)
        case .keyNotFound(let key, let context): return "missing key \"\(key.stringValue)\"" + path(context)
        case .typeMismatch(let type, let context): return "expected \(type)" + path(context)
        case .valueNotFound(let type, let context): return "missing \(type) value" + path(context)
        @unknown default: return "\(error)"
        }
    }
}
