/// The result line of one benchmark: our figure, the baseline's, their cost ratio and extras.
///
///     var report = BenchmarkReport(benchmark: "local_write_batched", value: 41_000, unit: "writes/s")
///     report.compare(ours: oursRuns, baseline: baselineRuns, ops: 100_000)
///     report.jsonLine   // {"baseline":...,"benchmark":"local_write_batched",...}
struct BenchmarkReport {
    let benchmark: String
    var value: Double
    let unit: String
    var extras: [String: JSONValue] = [:]

    init(benchmark: String, value: Double = 0, unit: String) {
        self.benchmark = benchmark
        self.value = value
        self.unit = unit
    }

    /// Fills value, baseline and ratio from timed runs of `ops` operations each:
    /// value = our ops per second, ratio = our median time / the baseline's.
    mutating func compare(ours: Measurement, baseline: Measurement, ops: Int) {
        value = Double(ops) / ours.medianSeconds
        extras["baseline"] = .number(Double(ops) / baseline.medianSeconds, decimals: 0)
        extras["ratio"] = .number(ours.medianSeconds / baseline.medianSeconds, decimals: 3)
        extras["runs"] = .int(ours.samples.count)
        extras["ops"] = .int(ops)
        extras["ours_ms_median"] = .number(ours.medianMillis, decimals: 1)
        extras["baseline_ms_median"] = .number(baseline.medianMillis, decimals: 1)
        extras["ours_ms_runs"] = .array(ours.millis.map { .number($0, decimals: 1) })
        extras["baseline_ms_runs"] = .array(baseline.millis.map { .number($0, decimals: 1) })
        extras["ours_us_per_op"] = .number(ours.medianSeconds * 1e6 / Double(ops), decimals: 2)
        extras["baseline_us_per_op"] = .number(baseline.medianSeconds * 1e6 / Double(ops), decimals: 2)
    }

    var jsonLine: String {
        var members = extras
        members["benchmark"] = .string(benchmark)
        members["unit"] = .string(unit)
        members["value"] = value.rounded() == value && abs(value) < 1e15 ? .int(Int(value)) : .number(value, decimals: abs(value) >= 100 ? 0 : 3)
        return JSONValue.object(members).rendered
    }
}
