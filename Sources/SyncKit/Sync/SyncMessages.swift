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
public struct SyncRequest: Sendable, Equatable {
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
    /// Hints for the operators (Design.md section 13, `clockMillis` and `unsynced`): the device's own clock reading when
    /// it sent the request (uncorrected, milliseconds since 1970), from which the node tells how
    /// far off that clock is; and how many of its operations were not yet acknowledged then
    /// (this push included). Absent: the device does not say. The merge never reads them.
    public var clockMillis: Int64?
    public var unsynced: Int?
    /// The device erased its data at the node's request (`SyncRefusal.wipeCode`): the node
    /// records that it did. Absent (false) otherwise.
    public var wiped: Bool = false

    public init(device: ReplicaID, cursors: [String: UInt64], push: [Op], pullOpsMax: Int = SyncProtocol.pageOpsMax,
                digests: [String: String]? = nil, snapshots: [String: String]? = nil, snapshotForm: Int? = nil,
                clockMillis: Int64? = nil, unsynced: Int? = nil, wiped: Bool = false) {
        self.protocolVersion = SyncProtocol.version
        self.device = device
        self.cursors = cursors
        self.push = push
        self.pullOpsMax = pullOpsMax
        self.digests = digests
        self.snapshots = snapshots
        self.snapshotForm = snapshotForm
        self.clockMillis = clockMillis
        self.unsynced = unsynced
        self.wiped = wiped
    }
}

/// The central node's half of one exchange.
///
///     {"protocol":1,"serverTimeMillis":1767225600000,"acceptedThroughSeq":42,"held":[],
///      "ops":[…],"cursors":{"JS-0412":1337},"more":false,"cells":["JS-0412"]}
public struct SyncResponse: Sendable, Equatable {
    /// A pushed operation the central node took but holds in its quarantine instead of applying
    /// it (clock drift, out of scope, invalid, unknown schema): the device drops it from its
    /// outbox and goes on; operators see it in the review queue and release or discard it.
    public struct Held: Sendable, Equatable {
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
}

/// An error reply: a code a program can switch on and a message a person can act on.
///
///     {"protocol":1,"code":"revoked","message":"device tablet-07 was revoked; enroll it again"}
public struct SyncErrorReply: Sendable, Equatable, Error {
    public var protocolVersion: Int
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.protocolVersion = SyncProtocol.version
        self.code = code
        self.message = message
    }
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
    /// A message (or an operation) in its canonical JSON: object keys in UTF-8 byte order, no
    /// insignificant white space (Design.md sections 5 and 13). `WireJSON` is the one codec.
    public static func encode<T: WireMessage>(_ message: T) throws -> Data {
        var writer = JSONWriter(reserving: 4_096)
        message.writeJSON(&writer)
        return writer.data
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
    public static func decode<T: WireMessage>(_ type: T.Type, from data: Data) throws -> T {
        guard data.count <= messageBytesMax else {
            throw SyncError(.limitExceeded, "message of \(data.count) bytes exceeds the limit of \(messageBytesMax)")
        }
        do {
            return try T.readJSON(JSONField(try JSONNode.parse(data)))
        } catch let error as JSONShapeError {
            throw SyncError(.invalidInput, "malformed \(type) message: \(error.message)")
        }
    }
}
