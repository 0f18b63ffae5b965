import SyncKit

/// Durations of repeated runs of one piece of work, and their median.
///
///     let ours = Measurement(samples: [.milliseconds(102), .milliseconds(98), .milliseconds(100)])
///     ours.median          // 100 ms
///     Measurement.time { try work() }
struct Measurement {
    private(set) var samples: [Duration] = []

    mutating func append(_ sample: Duration) { samples.append(sample) }

    /// The middle sample (the mean of the two middle ones for an even count).
    var median: Duration {
        precondition(!samples.isEmpty, "median of no samples")
        let sorted = samples.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    var medianSeconds: Double { Self.seconds(median) }
    var medianMillis: Double { medianSeconds * 1_000 }
    var millis: [Double] { samples.map { Self.seconds($0) * 1_000 } }

    /// The time `body` takes on the monotonic clock.
    static func time(_ body: () throws -> Void) rethrows -> Duration {
        try ContinuousClock().measure(body)
    }

    static func seconds(_ duration: Duration) -> Double { duration.inSeconds }
}
