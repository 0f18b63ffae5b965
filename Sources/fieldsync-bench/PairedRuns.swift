/// Runs our trial and the baseline's alternately (one warm-up each, then A B A B ...), so that
/// drift of a shared machine hits both sides alike.
///
///     let (ours, plain) = try PairedRuns(timedRuns: 5).measure(
///         ours: { try oursTrial() },          // each returns the duration of its timed part
///         baseline: { try baselineTrial() })
///
/// A trial does its own untimed setup and teardown and returns only the timed duration.
struct PairedRuns {
    let timedRuns: Int
    let label: String

    func measure(ours: () throws -> Duration, baseline: () throws -> Duration) throws -> (ours: Measurement, baseline: Measurement) {
        Console.error("[\(label)] warm-up")
        _ = try ours()
        _ = try baseline()
        var oursRuns = Measurement(), baselineRuns = Measurement()
        for run in 1...max(1, timedRuns) {
            oursRuns.append(try ours())
            baselineRuns.append(try baseline())
            let oursMillis = (oursRuns.millis.last ?? 0).formatted(decimals: 1)
            let baselineMillis = (baselineRuns.millis.last ?? 0).formatted(decimals: 1)
            Console.error("[\(label)] run \(run)/\(timedRuns): ours \(oursMillis) ms, baseline \(baselineMillis) ms")
        }
        return (oursRuns, baselineRuns)
    }
}
