import Foundation

/// The command line of the bench: picks benchmarks by name, runs them, prints their reports.
///
///     fieldsync-bench                       # every benchmark, 5 timed runs each
///     fieldsync-bench remote_apply --quick  # one benchmark, fewer runs
struct BenchCommand {
    /// sysexits' EX_USAGE: the command line was wrong.
    static let usageExitCode: Int32 = 64
    static let timedRunsDefault = 5
    static let timedRunsQuick = 2

    let arguments: [String]

    static let usage = """
        usage: fieldsync-bench [NAME ...] [--quick]
               fieldsync-bench --list | --help

        Runs the named benchmarks (all when none is named) and prints one JSON line per benchmark
        on stdout, sorted keys: value (ours), baseline (plain SQLite doing the same work in the
        same run) and ratio (our cost / the baseline's, lower is better). Each benchmark runs one
        warm-up and \(timedRunsDefault) timed runs (\(timedRunsQuick) with --quick), ours and the
        baseline alternating, and reports the median. Progress goes to stderr.

          --quick   fewer timed runs
          --list    print the benchmark names
          --help    print this help
        """

    /// Runs the command and returns the process exit code.
    func run() -> Int32 {
        var names: [String] = []
        var quick = false
        for argument in arguments {
            switch argument {
            case "--help", "-h":
                Console.out(Self.usage)
                Console.out("\nbenchmarks:\n" + BenchmarkSuite.all.map { "  \($0.name.padding(toLength: 22, withPad: " ", startingAt: 0))\($0.summary)" }.joined(separator: "\n"))
                return 0
            case "--list":
                for benchmark in BenchmarkSuite.all { Console.out(benchmark.name) }
                return 0
            case "--quick":
                quick = true
            default:
                if argument.hasPrefix("-") {
                    Console.error("fieldsync-bench: unknown option \(argument)\n\(Self.usage)")
                    return Self.usageExitCode
                }
                names.append(argument)
            }
        }

        let selected: [Benchmark]
        if names.isEmpty {
            selected = BenchmarkSuite.all
        } else {
            let unknown = names.filter { BenchmarkSuite.named($0) == nil }
            guard unknown.isEmpty else {
                Console.error("fieldsync-bench: unknown benchmark \(unknown.joined(separator: ", ")); valid names: \(BenchmarkSuite.all.map(\.name).joined(separator: ", "))")
                return Self.usageExitCode
            }
            selected = names.compactMap(BenchmarkSuite.named)
        }

        do {
            let scratch = try ScratchDirectory()
            defer { scratch.removeAll() }
            let settings = RunSettings(timedRuns: quick ? Self.timedRunsQuick : Self.timedRunsDefault, scratch: scratch)
            Console.error("fieldsync-bench: SQLite \(Baseline.libraryVersion), \(settings.timedRuns) timed runs, files in \(scratch.url.path)")
            for benchmark in selected {
                Console.error("[\(benchmark.name)] \(benchmark.summary)")
                let started = ContinuousClock.now
                let report = try benchmark.run(settings)
                Console.out(report.jsonLine)
                Console.error("[\(benchmark.name)] done in \(Measurement.seconds(ContinuousClock.now - started).formatted(decimals: 1)) s")
            }
            return 0
        } catch {
            Console.error("fieldsync-bench: \(error)")
            return 1
        }
    }
}
