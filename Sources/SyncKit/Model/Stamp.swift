/// The total order of operations: hybrid logical clock first, then replica id, then sequence.
///
///     Stamp(hlc: a, op: x) < Stamp(hlc: b, op: y)  // a < b, or equal clocks and x.replica < y.replica
///
/// The sequence number only breaks ties that an honest replica never produces (its clock is
/// strictly monotonic); it keeps the order total even for a misbehaving one.
public struct Stamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let hlc: HLCTimestamp
    public let op: OpID

    public init(hlc: HLCTimestamp, op: OpID) {
        self.hlc = hlc
        self.op = op
    }

    public static func < (lhs: Stamp, rhs: Stamp) -> Bool {
        (lhs.hlc.rawValue, lhs.op.replica, lhs.op.seq) < (rhs.hlc.rawValue, rhs.op.replica, rhs.op.seq)
    }

    public var description: String { "\(hlc)@\(op)" }
}
