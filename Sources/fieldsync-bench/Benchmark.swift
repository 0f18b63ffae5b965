/// One named benchmark: what it measures and how to run it.
///
///     Benchmark(name: "local_write_batched", summary: "100,000 single-field writes") { settings in
///         try LocalWrites.batched.run(settings)
///     }
struct Benchmark: Sendable {
    let name: String
    let summary: String
    let run: @Sendable (RunSettings) throws -> BenchmarkReport
}
