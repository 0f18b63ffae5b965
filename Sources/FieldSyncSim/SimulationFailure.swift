/// An invariant the simulation found broken (or an error the code should never raise), with
/// the step it happened at and the command that replays the run exactly.
///
///     catch let failure as SimulationFailure { print(failure) }   // ends with "reproduce: fieldsync-sim --seed 42"
public struct SimulationFailure: Error, Sendable, CustomStringConvertible {
    public let seed: UInt64
    /// The step (or "heal" / "final") where it was found.
    public let phase: String
    /// The invariant's name, e.g. `digestsEqual`.
    public let invariant: String
    public let detail: String
    public let reproduceCommand: String

    public var description: String {
        "seed \(seed), \(phase): invariant \(invariant) broken: \(detail)\nreproduce: \(reproduceCommand)"
    }
}
