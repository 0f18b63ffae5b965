/// One record's complete merge state on the wire: what a device needs to continue merging
/// operations on it without the history that produced it (Design.md, "Bootstrap by snapshot").
///
///     {"collection":"households","entity":"JXC3BQGWJXBCXFY88R80QZ0Y88",
///      "covers":{"00000000000000010000000000000001":2},
///      "exists":{"heads":[{"hlc":"1767225600000.0","op":"00000000000000010000000000000001.1","value":{"bool":true}}]},
///      "registers":{"phone":{"heads":[…two concurrent heads: a conflict…]}},
///      "counters":{"visit_count":3},"sets":{"tags":{"elements":[{"tags":["…"],"value":{"text":"elderly"}}]}}}
///
/// `covers` names, per replica, the highest sequence number of that replica's operations on
/// this record that the state already reflects: a device that later receives one of them (a
/// record moving back into its cells, an older bundle) recognizes it as a duplicate.
public struct SnapshotRecord: Codable, Sendable, Equatable {
    public struct Head: Codable, Sendable, Equatable {
        public var op: OpID
        public var hlc: HLCTimestamp
        public var value: Value
    }

    /// A register's heads (visible one first) and the writes superseded before they arrived.
    public struct Register: Codable, Sendable, Equatable {
        public var heads: [Head]
        public var pending: [OpID]?
    }

    public struct Element: Codable, Sendable, Equatable {
        public var value: Value
        public var tags: [OpID]
    }

    public struct Removal: Codable, Sendable, Equatable {
        public var value: Value
        public var tag: OpID
    }

    /// An add-wins set: present elements with their live tags, and removals seen before their add.
    public struct SetField: Codable, Sendable, Equatable {
        public var elements: [Element]
        public var pending: [Removal]?
    }

    public var collection: String
    public var entity: EntityID
    /// Replica id (hex) → highest sequence number reflected.
    public var covers: [String: UInt64]
    public var exists: Register
    public var registers: [String: Register]
    public var counters: [String: Int64]
    public var sets: [String: SetField]

    /// The key that orders a cell's snapshot and resumes it: `collection/entity`.
    public var key: String { collection + "/" + entity.rawValue }
}

/// One page of one cell's snapshot, in a `SyncResponse`.
///
///     {"cseq":4812,"records":[…],"next":"households/JXC3BQGWJXBCXFY88R80QZ0Y88"}
///
/// `cseq` is the central sequence number the snapshot starts from: once the last page is in,
/// the device pulls the cell's log after it. Records sent on later pages may already reflect
/// operations logged after `cseq`; their `covers` make those operations duplicates when the log
/// brings them. `next` is present while more pages follow: the device sends it back in
/// `SyncRequest.snapshots` to resume after that key.
public struct CellSnapshot: Codable, Sendable, Equatable {
    public var cseq: UInt64
    public var records: [SnapshotRecord]
    public var next: String?

    public init(cseq: UInt64, records: [SnapshotRecord], next: String?) {
        self.cseq = cseq
        self.records = records
        self.next = next
    }
}
