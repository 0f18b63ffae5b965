/// One record's complete merge state on the wire: what a device needs to continue merging
/// operations on it without the history that produced it (Design.md, "Bootstrap by snapshot").
///
/// In memory it is the merge state spelled out; on the wire it is compact, since a cell's
/// snapshot is the largest message there is: the operations the state refers to are listed once
/// in `refs` (`[op id, clock reading]`), and heads and tags name them by index.
///
///     {"collection":"households","entity":"JXC3BQGWJXBCXFY88R80QZ0Y88",
///      "covers":{"00000000000000010000000000000001":2},
///      "refs":[["00000000000000010000000000000001.1","1767225600000.0"],["…2","1767225600000.1"]],
///      "exists":[[1,{"bool":true}],[0,{"bool":true}]],
///      "registers":{"head_name":[[0,{"text":"张伟"}]],"phone":[[1,{"text":"139…"}],[0,{"text":"138…"}]]},
///      "counters":{"visit_count":3},"sets":{"tags":[[{"text":"elderly"},[1]]]}}
///
/// A register is its heads, visible one first, as `[ref, value]`; `pending` lists, per field
/// (`_exists` for the existence register), writes superseded before they arrived. A set is its
/// present elements as `[value, [tag refs]]`; `setPending` lists removals seen before their add
/// as `[value, op id]`. `covers` names, per replica, the highest sequence number of that
/// replica's operations on this record that the state already reflects: a device that later
/// receives one of them (a record moving back into its cells, an older bundle) recognizes it as
/// a duplicate. `erasures` (only when the record has some) lists the erasures of its personal
/// values the state reflects: a device merges its own later writes as section 3 says.
public struct SnapshotRecord: Sendable, Equatable {
    public struct Head: Sendable, Equatable {
        public var op: OpID
        public var hlc: HLCTimestamp
        public var value: Value
    }

    /// A register's heads (visible one first) and the writes superseded before they arrived.
    public struct Register: Sendable, Equatable {
        public var heads: [Head]
        public var pending: [OpID]?
    }

    public struct Element: Sendable, Equatable {
        public var value: Value
        public var tags: [OpID]
    }

    public struct Removal: Sendable, Equatable {
        public var value: Value
        public var tag: OpID
    }

    /// An add-wins set: present elements with their live tags, and removals seen before their add.
    public struct SetField: Sendable, Equatable {
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
    /// The record's erasures (section 3, "Erasure"), ascending; nil or empty when it has none.
    public var erasures: [OpID]? = nil

    /// The key that orders a cell's snapshot and resumes it: `collection/entity`.
    public var key: String { collection + "/" + entity.rawValue }

    /// Refs a record may list (a bound on what a damaged or hostile message can allocate).
    static let refsMax = 100_000

    /// Why a `refs` list is refused when it names an operation twice (an operation has one clock
    /// reading; two would make the record's state ambiguous, and its re-encoding differ), or nil.
    static func repeatedRef(_ ops: [OpID]) -> String? {
        var seen = Set<OpID>()
        for (index, op) in ops.enumerated() where !seen.insert(op).inserted {
            return "ref \(index) repeats operation \(op): refs list each operation once, with its one clock reading"
        }
        return nil
    }
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
public struct CellSnapshot: Sendable, Equatable {
    public var cseq: UInt64
    public var records: [SnapshotRecord]
    public var next: String?
    /// How the page is written on the wire: 1, each record spelled out (above); 2, compact
    /// (`SnapshotForm.compact`: names, replica ids and value types said once per page), sent
    /// to a device that asks for it (`SyncRequest.snapshotForm`). The records are the same.
    public var form: Int = SnapshotForm.spelledOut

    public init(cseq: UInt64, records: [SnapshotRecord], next: String?, form: Int = SnapshotForm.spelledOut) {
        self.cseq = cseq
        self.records = records
        self.next = next
        self.form = form
    }
}

/// The forms a snapshot page is written in.
public enum SnapshotForm {
    public static let spelledOut = 1
    public static let compact = 2
    /// The newest form this build reads and writes.
    public static let newest = compact
}
