/// A hybrid logical clock (Kulkarni et al., 2014): stamps that follow physical time when it is
/// sane and stay monotonic and causal when it is not (clocks reset to 1970, clocks running back).
///
///     var clock = HybridLogicalClock(last: .zero)
///     let a = clock.tick(nowMillis: 1_000)               // 1000.0
///     let b = clock.tick(nowMillis: 900)                 // 1000.1: never goes backwards
///     try clock.receive(remote, nowMillis: 1_000, driftMillisMax: 600_000)
///
/// Pure value: the caller passes physical time in and persists `last`.
public struct HybridLogicalClock: Sendable, Equatable {
    /// The greatest timestamp issued or received so far.
    public private(set) var last: HLCTimestamp

    public init(last: HLCTimestamp) { self.last = last }

    /// A new timestamp for a local event, greater than every earlier one.
    public mutating func tick(nowMillis: Int64) -> HLCTimestamp {
        let physical = Self.clampMillis(nowMillis)
        if physical > last.millis {
            last = HLCTimestamp(millis: physical, counter: 0)
        } else {
            last = Self.successor(of: last)
        }
        return last
    }

    /// Whether a remote timestamp is too far ahead of local physical time to be trusted.
    public static func isBeyondDrift(_ remote: HLCTimestamp, nowMillis: Int64, driftMillisMax: Int64) -> Bool {
        let physical = Int64(clampMillis(nowMillis))
        return Int64(remote.millis) > physical &+ driftMillisMax
    }

    /// Advances the clock past a received timestamp. The caller must have checked the drift
    /// bound first (a remote stamp beyond it is quarantined, never received).
    public mutating func receive(_ remote: HLCTimestamp, nowMillis: Int64) {
        let physical = Self.clampMillis(nowMillis)
        let maxMillis = max(last.millis, remote.millis, physical)
        if maxMillis == last.millis && maxMillis == remote.millis {
            last = HLCTimestamp(millis: maxMillis, counter: max(last.counter, remote.counter))
            last = Self.successor(of: last)
        } else if maxMillis == last.millis {
            last = Self.successor(of: last)
        } else if maxMillis == remote.millis {
            last = Self.successor(of: remote)
        } else {
            last = HLCTimestamp(millis: maxMillis, counter: 0)
        }
    }

    /// The next timestamp: counter + 1, carrying into the milliseconds when the counter is full
    /// (65,536 events in one millisecond), so monotonicity never breaks.
    static func successor(of t: HLCTimestamp) -> HLCTimestamp {
        if t.counter < HLCTimestamp.counterMax { return HLCTimestamp(rawValue: t.rawValue + 1) }
        precondition(t.millis < HLCTimestamp.millisMax, "hybrid logical clock exhausted")
        return HLCTimestamp(millis: t.millis + 1, counter: 0)
    }

    static func clampMillis(_ millis: Int64) -> UInt64 {
        if millis <= 0 { return 0 }
        return min(UInt64(millis), HLCTimestamp.millisMax)
    }
}
