import FuzzChecks
import Foundation
import Synchronization
import Testing
@testable import CentralNode
import FieldKit
@testable import SyncKit

/// Every fuzz target, one after another: they share the crash reporter's one slot, and each
/// keeps both cores busy on its own.
///
/// Environment:
/// - `FIELDSYNC_FUZZ_ITERATIONS=N`: inputs per target (default: each target's own bounded count);
/// - `FIELDSYNC_SEED=S`: the seed (default: a fixed seed per target, so `make test` is repeatable);
/// - `FIELDSYNC_FUZZ_ITERATION=I`: run only that iteration of the seed (to replay one failure);
/// - `FIELDSYNC_FUZZ_INPUT=<base64>`: run only that input;
/// - `FIELDSYNC_FUZZ_TIMEOUT_MS=T`: the time one input may take before it counts as a hang (5,000).
@Suite(.serialized) struct FuzzTests {}

/// One thing that parses outside input, with its seeds and its checks.
struct FuzzTarget: Sendable {
    var name: String
    var seeds: [Data]
    /// Format-specific fragments the mutator inserts.
    var tokens: [String] = []
    var json = false
    /// The largest input the mutator makes.
    var inputBytesMax = Mutator.inputBytesMaxDefault
    /// Inputs in `make test`; `FIELDSYNC_FUZZ_ITERATIONS` overrides it.
    var iterations: Int
    /// Parses one input: returns on a result or a clean error, throws `FuzzViolation` otherwise.
    /// It runs on the fuzzer's worker thread only.
    var check: @Sendable ([UInt8]) throws -> Void
}

/// Runs a target's inputs on a worker thread of their own while the calling thread watches for
/// hangs; a crash prints the input before the process dies.
enum Fuzzer {
    struct Outcome: Sendable {
        var inputs = 0
        var failures: [String] = []
        var seconds = 0.0
        /// The slowest input's time and replay line: a near-hang shows here before it becomes one.
        var slowestMillis = 0.0
        var slowest = ""
    }

    static let failuresMax = 3
    static let workerStackBytes = 4 << 20

    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// The default seed of a target: stable across runs and machines (FNV-1a of its name).
    static func defaultSeed(_ name: String) -> UInt64 {
        name.utf8.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
    }

    /// Runs the target and records every failure as a test issue, with its replay line.
    static func run(_ target: FuzzTarget, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let outcome = try await offPool { execute(target) }
        print("fuzz \(target.name): \(outcome.inputs) inputs, \(outcome.failures.count) failures, \(String(format: "%.1f", outcome.seconds)) s"
              + " (slowest input \(String(format: "%.0f", outcome.slowestMillis)) ms: \(outcome.slowest))")
        for failure in outcome.failures { Issue.record(Comment(rawValue: failure), sourceLocation: sourceLocation) }
    }

    /// What one run does: the plan of inputs, and the watch over the worker.
    static func execute(_ target: FuzzTarget) -> Outcome {
        let seed = environment["FIELDSYNC_SEED"].flatMap { UInt64($0) } ?? defaultSeed(target.name)
        let timeoutNanos = UInt64(environment["FIELDSYNC_FUZZ_TIMEOUT_MS"].flatMap { UInt64($0) } ?? 5_000) * 1_000_000
        let mutator = Mutator(seed: seed, seeds: target.seeds, tokens: target.tokens, json: target.json, inputBytesMax: target.inputBytesMax)
        let plan: Plan
        if let base64 = environment["FIELDSYNC_FUZZ_INPUT"], let data = Data(base64Encoded: base64) {
            plan = .single([UInt8](data))
        } else if let iteration = environment["FIELDSYNC_FUZZ_ITERATION"].flatMap({ Int($0) }) {
            plan = .iterations(iteration..<(iteration + 1))
        } else {
            let count = environment["FIELDSYNC_FUZZ_ITERATIONS"].flatMap { Int($0) } ?? target.iterations
            plan = .iterations(0..<count)
        }

        let watch = Watch()
        let started = DispatchTime.now().uptimeNanoseconds
        CrashReporter.install()
        defer { CrashReporter.uninstall() }
        let worker = Thread {
            defer { watch.finish() }
            func one(_ input: [UInt8], iteration: Int?) -> Bool {
                let replay = iteration.map { "FIELDSYNC_SEED=\(seed) FIELDSYNC_FUZZ_ITERATION=\($0)" } ?? "FIELDSYNC_FUZZ_INPUT=…"
                guard watch.begin(input, replay: replay) else { return false }
                CrashReporter.arm(label: "fuzz target \(target.name) crashed; replay with \(replay) swift test --filter FuzzTests", input: input)
                defer { CrashReporter.disarm() }
                do {
                    try target.check(input)
                } catch {
                    watch.fail(report(target: target, replay: replay, input: input, problem: "\(error)"))
                }
                return watch.end()
            }
            switch plan {
            case .single(let input): _ = one(input, iteration: nil)
            case .iterations(let range):
                for iteration in range where !one(mutator.input(iteration: iteration), iteration: iteration) { break }
            }
        }
        worker.stackSize = workerStackBytes
        worker.start()

        // The watch: an input that takes longer than the bound is a hang. The worker cannot be
        // stopped; it is left behind and the run reports the input.
        while true {
            usleep(20_000)
            let state = watch.state.withLock { $0 }
            if state.finished { break }
            if let began = state.began, DispatchTime.now().uptimeNanoseconds - began > timeoutNanos {
                watch.fail(report(target: target, replay: state.replay, input: state.input,
                                  problem: "no result after \(timeoutNanos / 1_000_000) ms: a hang"))
                watch.abandon()
                break
            }
        }
        var outcome = Outcome()
        watch.state.withLock { state in
            outcome.inputs = state.inputs
            outcome.failures = state.failures
            outcome.slowestMillis = Double(state.slowestNanos) / 1e6
            outcome.slowest = state.slowest
        }
        outcome.seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        return outcome
    }

    enum Plan {
        case single([UInt8])
        case iterations(Range<Int>)
    }

    static func report(target: FuzzTarget, replay: String, input: [UInt8], problem: String) -> String {
        """
        fuzz target \(target.name): \(problem.prefix(2_000))
          replay: \(replay) swift test --filter FuzzTests
          input (\(input.count) bytes, base64): \(Data(input.prefix(64 * 1024)).base64EncodedString())\(input.count > 64 * 1024 ? " (first 64 KiB)" : "")
        """
    }

    /// What the worker and the watch share.
    final class Watch: Sendable {
        struct State {
            var began: UInt64?
            var input: [UInt8] = []
            var replay = ""
            var inputs = 0
            var failures: [String] = []
            var finished = false
            var abandoned = false
            var slowestNanos: UInt64 = 0
            var slowest = ""
        }

        let state = Mutex(State())

        /// Marks an input as started; false when the run should stop.
        func begin(_ input: [UInt8], replay: String) -> Bool {
            state.withLock { state in
                guard !state.abandoned, state.failures.count < Fuzzer.failuresMax else { return false }
                state.began = DispatchTime.now().uptimeNanoseconds
                state.input = input
                state.replay = replay
                return true
            }
        }

        /// Marks the input as done; false when the run should stop.
        func end() -> Bool {
            state.withLock { state in
                if let began = state.began {
                    let took = DispatchTime.now().uptimeNanoseconds - began
                    if took > state.slowestNanos { (state.slowestNanos, state.slowest) = (took, state.replay) }
                }
                state.began = nil
                state.inputs += 1
                return !state.abandoned && state.failures.count < Fuzzer.failuresMax
            }
        }

        func fail(_ report: String) { state.withLock { $0.failures.append(report) } }
        func abandon() { state.withLock { $0.abandoned = true } }
        func finish() { state.withLock { $0.finished = true } }
    }
}

// MARK: Checks shared by the targets

extension Fuzzer {
    /// Everything a database holds, table by table, row by row (sorted): equal exactly when no
    /// row was written, changed or deleted.
    static func contents(of connection: Connection) throws -> [String] {
        var tables: [String] = []
        let names = try connection.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        while try names.step() { tables.append(names.text(at: 0)) }
        var lines: [String] = []
        for table in tables {
            let select = try connection.prepare("SELECT * FROM \"\(table)\"")
            var rows: [String] = []
            while try select.step() {
                rows.append((0..<select.columnCount).map { "\(select.storedValue(at: $0))" }.joined(separator: "|"))
            }
            lines.append("table \(table): \(rows.count) rows")
            lines += rows.sorted()
        }
        return lines
    }

    static func contents(of replica: Replica) throws -> [String] {
        try replica.withConnection { try contents(of: $0) }
    }

    /// Fails when a refused input left anything behind.
    static func expectUnchanged(_ before: [String], _ after: [String], _ what: String) throws {
        guard before != after else { return }
        let removed = Set(before).subtracting(after).sorted().prefix(5)
        let added = Set(after).subtracting(before).sorted().prefix(5)
        throw FuzzViolation("a refused \(what) changed the database (a partial write): removed \(Array(removed)), added \(Array(added))")
    }

    /// A seed file from the repository's Fixtures folder.
    static func fixture(_ path: String) throws -> Data {
        try Data(contentsOf: fixturesDirectory.appendingPathComponent(path))
    }

    static var fixturesDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures")
    }
}
