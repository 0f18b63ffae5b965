/// The identity of one operation: the replica that wrote it and its sequence number there.
///
///     let id = OpID(replica: replica, seq: 42)
///     id.description  // "00112233445566778899aabbccddeeff.42"
///
/// Each replica numbers its own operations 1, 2, 3, ... without gaps.
public struct OpID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let replica: ReplicaID
    public let seq: UInt64

    public init(replica: ReplicaID, seq: UInt64) {
        self.replica = replica
        self.seq = seq
    }

    /// Parses the text form `<32 hex digits>.<seq>`.
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let replica = ReplicaID(hex: String(parts[0])),
              let seq = UInt64(parts[1]), seq > 0 else { return nil }
        self.init(replica: replica, seq: seq)
    }

    public var description: String { "\(replica.hex).\(seq)" }

    public static func < (lhs: OpID, rhs: OpID) -> Bool {
        (lhs.replica, lhs.seq) < (rhs.replica, rhs.seq)
    }
}
