/// A hybrid logical clock reading: 48 bits of milliseconds since 1970, 16 bits of counter.
///
///     let t = HLCTimestamp(millis: 1_732_912_345_678, counter: 3)
///     t.rawValue == 1_732_912_345_678 << 16 | 3
public struct HLCTimestamp: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64

    public static let millisMax: UInt64 = (1 << 48) - 1
    public static let counterMax: UInt64 = 0xFFFF
    public static let zero = HLCTimestamp(rawValue: 0)

    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public init(millis: UInt64, counter: UInt64) {
        precondition(millis <= Self.millisMax && counter <= Self.counterMax, "HLC fields out of range")
        self.rawValue = millis << 16 | counter
    }

    public var millis: UInt64 { rawValue >> 16 }
    public var counter: UInt64 { rawValue & Self.counterMax }

    public static func < (lhs: HLCTimestamp, rhs: HLCTimestamp) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { "\(millis).\(counter)" }
}
