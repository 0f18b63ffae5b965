import Foundation
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The real processes, killed for real: `fieldsync central serve`, a collector writing through
/// `fieldsync record set`, and `fieldsync sync`, with SIGKILL sent to the server, to the sync and to
/// the writer at moments drawn from one seed. At the end a clean sync, and nothing lost or doubled:
/// every operation the device wrote is stored once at the central node (applied, or held for an
/// operator), logged once, the counters add up on both sides, every write the CLI acknowledged
/// is there, and the digests agree.
///
/// `FIELDSYNC_SEED` replays a run; `FIELDSYNC_CRASH_ROUNDS` (default 12) sets the number of kill
/// rounds and `FIELDSYNC_CRASH_OPS` (default 600: a write is a process, about 50 ms in a debug
/// build) the least number of writes; a soak runs e.g. 60 rounds and 5,000 writes.
struct CrashRestartTests {
    static let cell = "JS-0412"

    @Test func killedServersSyncsAndWritersLoseNothingAndDoubleNothing() async throws {
        let environment = ProcessInfo.processInfo.environment
        let seed = environment["FIELDSYNC_SEED"].flatMap { UInt64($0) } ?? 20_261_130
        let rounds = environment["FIELDSYNC_CRASH_ROUNDS"].flatMap { Int($0) } ?? 12
        let ops = environment["FIELDSYNC_CRASH_OPS"].flatMap { Int($0) } ?? 600
        let scenario = try CrashScenario(seed: seed, rounds: rounds, opsMin: ops)
        let summary = try await Self.onThread { try scenario.run() }
        print("crash test (FIELDSYNC_SEED=\(seed)): \(summary)")
        // Checked here, in the test's own task: the scenario runs on a thread of its own.
        for problem in scenario.problems.withLock({ $0 }) { Issue.record("\(problem) (replay: FIELDSYNC_SEED=\(seed))") }
        // Fixed: a write transaction continues after operations another process wrote, so a
        // sync concurrent with a write takes its reply (was: refused as a restored backup).
        #expect(scenario.staleSyncs.load(ordering: .relaxed) == 0, "syncs refused their reply: a stale sequence number (FIELDSYNC_SEED=\(seed))")
        // Fixed: a reopened replica resumes its clock from its last stamp, not 10 s ahead, so a
        // device driven by one command after another stays within the central node's drift bound.
        #expect(!scenario.heldForClockDrift, "the central node held the device's operations for clock drift (FIELDSYNC_SEED=\(seed))")
    }

    /// Runs blocking work on a thread of its own, so the cooperative pool stays free.
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }
}

/// One run: the world on disk, the writer thread, the kill rounds, the final checks.
final class CrashScenario: Sendable {
    /// Steele, Lea and Flood's SplitMix64: the run's moments and choices repeat for one seed.
    struct Random: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    struct Writes {
        var acknowledged = 0
        /// Writes whose process was killed: committed or not, nobody was told either way.
        var uncertain = 0
        /// Visits refused because the household had left the device: only after the central node
        /// held its operations and the device let them go (the known clock issue).
        var refused = 0
        var failures: [String] = []
        var current: Process?
        var done = false
    }

    /// A sync that has not ended this long after its round is a hang.
    static let syncSecondsMax = 30.0

    let seed: UInt64
    let rounds: Int
    let opsMin: Int
    let directory: URL
    let writes = Mutex(Writes())
    let stopWriting = Atomic(false)
    /// Set during quiet rounds: the writer starts no command while it is.
    let pauseWriting = Atomic(false)
    /// Syncs that refused their reply because a write ran meanwhile (a known issue, see the test).
    let staleSyncs = Atomic(0)
    /// Whether the central node held operations for clock drift (a known issue, see the test).
    var heldForClockDrift: Bool { heldForDrift.load(ordering: .relaxed) }
    let heldForDrift = Atomic(false)
    /// What went wrong, reported by the test when the run is over.
    let problems = Mutex<[String]>([])

    func check(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition { problems.withLock { $0.append(message()) } }
    }

    init(seed: UInt64, rounds: Int, opsMin: Int) throws {
        self.seed = seed
        self.rounds = rounds
        self.opsMin = opsMin
        directory = try CLITests.temporaryDirectory()
    }

    var device: String { directory.appendingPathComponent("device.db").path }
    var central: String { directory.appendingPathComponent("central.db").path }

    func run() throws -> String {
        defer { try? FileManager.default.removeItem(at: directory) }
        let started = Date()
        var random = Random(state: seed)
        try expectSuccess(["central", "init"])
        let enrolled = try expectSuccess(["central", "enroll", "--device", "tablet", "--cells", CrashRestartTests.cell, "--json"])
        guard let token = (enrolled.json as? [String: Any])?["token"] as? String else { throw CrashTestError("enroll printed no token") }
        var server = try CLITests.Server(in: directory)
        guard let port = URLComponents(string: server.url)?.port else { throw CrashTestError("no port in \(server.url)") }
        try expectSuccess(["device", "init", "--central", server.url, "--token", token, "--db", device])

        let writer = Thread { self.write() }
        writer.start()
        var kills: [String: Int] = ["server": 0, "sync": 0, "writer": 0]
        var syncs: [String: Int] = [:]
        for _ in 0..<rounds {
            usleep(UInt32.random(in: 50_000...400_000, using: &random))
            // Half the rounds are quiet (no write during the sync), so syncs also get to ingest
            // their replies and are killed midway through that; the others race the writer.
            let quiet = Bool.random(using: &random)
            if quiet {
                pauseWriting.store(true, ordering: .relaxed)
                while writes.withLock({ $0.current != nil }) { usleep(5_000) }
            }
            defer { pauseWriting.store(false, ordering: .relaxed) }
            let sync = try start(["sync", "--db", device])
            let action = Int.random(in: 0..<5, using: &random)
            usleep(UInt32.random(in: 0...900_000, using: &random))
            if action == 1 || action == 2 {
                kill(server.process.processIdentifier, SIGKILL)
                server.process.waitUntilExit()
                kills["server", default: 0] += 1
                // Back on the same port after a moment: the sync in flight may reconnect.
                usleep(UInt32.random(in: 0...1_200_000, using: &random))
                server = try restart(port: port)
            }
            if action == 0 || action == 2 || action == 3 {
                kill(sync.processIdentifier, SIGKILL)
                kills["sync", default: 0] += 1
            }
            if action == 3, let current = writes.withLock({ $0.current }) {
                kill(current.processIdentifier, SIGKILL)
                kills["writer", default: 0] += 1
            }
            var ended = try finish(sync)
            if ended.contains("says it stored this device's operations through") {
                // Known (FuzzRegressionTests.aSyncAcceptsAcknowledgementsOfOperationsWrittenByAnotherProcess):
                // a sync refuses the acknowledgement of operations written while it ran.
                check(!quiet, "a sync with no concurrent write refused its reply: \(ended)")
                ended = "refused its reply (known: a write ran during the sync)"
                staleSyncs.add(1, ordering: .relaxed)
            }
            syncs[ended, default: 0] += 1
        }

        // Let the writer reach its count, then stop it and sync until the device is clean.
        while writes.withLock({ $0.acknowledged + $0.uncertain + $0.refused }) < opsMin { usleep(100_000) }
        stopWriting.store(true, ordering: .relaxed)
        while !writes.withLock({ $0.done }) { usleep(20_000) }
        var clean = false
        for _ in 0..<10 where !clean {
            let run = try CLITests.fieldsync(arguments: ["sync", "--db", device, "--json"])
            clean = run.status == 0 && (run.json as? [String: Any])?["unsynced"] as? Int == 0
        }
        check(clean, "the final sync did not finish clean")
        let outcome = writes.withLock { $0 }
        server.stop()

        let stored = try verify(outcome)
        return "\(rounds) rounds, \(outcome.acknowledged) acknowledged writes, \(outcome.uncertain) killed mid-write (\(stored)), \(outcome.refused) visits refused, "
            + "kills \(kills.sorted { $0.key < $1.key }), syncs \(syncs.sorted { $0.key < $1.key }), "
            + String(format: "%.1f s", Date().timeIntervalSince(started))
    }

    // MARK: The writer

    /// Writes until told to stop, each write exactly one operation that adds 1 to a visit count:
    /// a third create a household (with its cell and a count of 1), the others add a visit to a
    /// household created before. So the counters sum to the number of operations applied.
    func write() {
        defer { writes.withLock { $0.done = true } }
        var created: [String] = []
        var index = 0
        while !stopWriting.load(ordering: .relaxed) {
            let id: String, arguments: [String]
            if index % 3 == 0 || created.isEmpty {
                id = "H\(index)"
                arguments = ["record", "set", "--db", device, "households", id, "cell=\(CrashRestartTests.cell)", "head_name=户主\(index)", "visit_count+=1"]
            } else {
                id = created[(index &* 7_919) % created.count]
                arguments = ["record", "set", "--db", device, "households", id, "visit_count+=1"]
            }
            index += 1
            let process = Process()
            process.executableURL = CLITests.executable
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            let errors = Pipe()
            process.standardError = errors
            do {
                // The pause is read under the lock that publishes `current`, so a quiet round
                // that saw no current command sees no new one start.
                let started = try writes.withLock { state -> Bool in
                    guard !pauseWriting.load(ordering: .relaxed) else { return false }
                    try process.run()
                    state.current = process
                    return true
                }
                guard started else {
                    index -= 1
                    usleep(5_000)
                    continue
                }
            } catch {
                writes.withLock { $0.failures.append("could not start the writer: \(error)") }
                return
            }
            let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            writes.withLock { state in
                state.current = nil
                if process.terminationReason == .uncaughtSignal {
                    state.uncertain += 1
                } else if process.terminationStatus == 0 {
                    state.acknowledged += 1
                    if arguments.count > 7 { created.append(id) }
                } else if process.terminationStatus == 2, stderr.contains("needs its grid cell") {
                    // The household left the device (see `refused`); nothing was written.
                    state.refused += 1
                } else {
                    state.failures.append("exit \(process.terminationStatus): \(stderr)")
                }
            }
        }
    }

    // MARK: Processes

    @discardableResult
    func expectSuccess(_ arguments: [String]) throws -> CLITests.Run {
        let run = try CLITests.fieldsync(arguments: arguments, in: directory)
        check(run.status == 0, "fieldsync \(arguments.joined(separator: " ")): \(run.stderr)")
        return run
    }

    /// Starts a process whose stderr goes to `sync.err` in the run's directory.
    func start(_ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = CLITests.executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.standardOutput = FileHandle.nullDevice
        let errors = directory.appendingPathComponent("sync.err")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        return process
    }

    /// How a sync ended: "ok", "killed" or "exit N: <its message>"; one that does not end is a hang.
    func finish(_ process: Process) throws -> String {
        let deadline = Date().addingTimeInterval(Self.syncSecondsMax)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            check(false, "a sync did not end within \(Self.syncSecondsMax) s: a hang")
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        if process.terminationReason == .uncaughtSignal { return "killed" }
        if process.terminationStatus == 0 { return "ok" }
        let message = (try? String(contentsOf: directory.appendingPathComponent("sync.err"), encoding: .utf8)) ?? ""
        return "exit \(process.terminationStatus): \(message.split(separator: "\n").last.map { String($0.prefix(100)) } ?? "")"
    }

    /// The server again on its port; the port may stay taken for a moment after a kill.
    func restart(port: Int) throws -> CLITests.Server {
        var lastError: (any Error)?
        for _ in 0..<50 {
            do { return try CLITests.Server(in: directory, port: port) } catch {
                lastError = error
                usleep(100_000)
            }
        }
        throw lastError!
    }

    // MARK: Checks

    func sqlite(_ path: String, _ sql: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["sqlite3", "-readonly", path, sql]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CrashTestError("sqlite3 failed on \(sql) (the crash test needs the sqlite3 command)") }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func verify(_ outcome: Writes) throws -> String {
        check(outcome.failures.isEmpty, "writes that failed: \(outcome.failures.prefix(3))")
        // The device: how many operations it wrote (some may have left its log since: a held
        // operation is acknowledged, and a resync lets the acknowledged ones go).
        let replica = try sqlite(device, "SELECT hex(id) FROM _fs_replica WHERE idx = 1")
        let written = Int(try sqlite(device, """
            SELECT max(coalesce((SELECT max(seq) FROM _fs_op WHERE replica = 1), 0),
                       coalesce((SELECT value FROM _fs_state WHERE key = 'acked_seq'), 0))
            """)) ?? -1
        // Every write the CLI acknowledged is there; a write killed midway may or may not be.
        check(outcome.acknowledged <= written && written <= outcome.acknowledged + outcome.uncertain,
              "the device wrote \(written) operations; \(outcome.acknowledged) acknowledged, \(outcome.uncertain) killed mid-write")

        // The central node: each of them stored exactly once, applied or held (held is not lost:
        // operators release or discard it), and the applied ones logged once.
        let index = "(SELECT idx FROM _fs_replica WHERE id = X'\(replica)')"
        let applied = Int(try sqlite(central, "SELECT count(*) FROM _fs_op WHERE replica = \(index)")) ?? -1
        let held = Int(try sqlite(central, "SELECT count(*) FROM _fs_quarantine WHERE replica = X'\(replica)'")) ?? -1
        let top = Int(try sqlite(central, """
            SELECT max(coalesce((SELECT max(seq) FROM _fs_op WHERE replica = \(index)), 0),
                       coalesce((SELECT max(seq) FROM _fs_quarantine WHERE replica = X'\(replica)'), 0))
            """)) ?? -1
        let both = try sqlite(central, "SELECT count(*) FROM _fs_quarantine WHERE replica = X'\(replica)' AND seq IN (SELECT seq FROM _fs_op WHERE replica = \(index))")
        check(applied + held == written && top == written && both == "0",
              "the central node holds \(applied) applied and \(held) held of the device's \(written) operations (highest \(top), \(both) both)")
        let logged = Int(try sqlite(central, "SELECT count(*) FROM central_log WHERE replica = X'\(replica)'")) ?? -1
        check(logged == applied, "the central log holds \(logged) entries for \(applied) applied operations")
        let doubled = try sqlite(central, "SELECT count(*) FROM (SELECT 1 FROM central_log GROUP BY cell, replica, seq HAVING count(*) > 1)")
        check(doubled == "0", "\(doubled) operations logged twice")
        let accepted = try sqlite(central, "SELECT accepted_seq FROM central_device WHERE name = 'tablet'")
        check(accepted == String(written), "the central node accepted through \(accepted), the device wrote \(written)")
        let reasons = try sqlite(central, "SELECT DISTINCT reason FROM _fs_quarantine").split(separator: "\n").map(String.init)
        // Only the known clock issue holds operations here: drift, and increments of households
        // whose creation was held (the central node does not know their cell: outOfScope).
        check(reasons.allSatisfy { $0 == "clockDrift" || ($0 == "outOfScope" && reasons.contains("clockDrift")) }, "operations held for \(reasons)")
        check(outcome.refused == 0 || reasons.contains("clockDrift"), "\(outcome.refused) visits refused though nothing was held")
        heldForDrift.store(reasons.contains("clockDrift"), ordering: .relaxed)

        // The data: each applied operation added 1 to a counter, on both sides.
        for path in [device, central] {
            let visits = try sqlite(path, "SELECT coalesce(sum(visit_count), 0) FROM households")
            check(Int(visits) == applied, "\(path == device ? "device" : "central node") counts \(visits) visits for \(applied) applied operations")
        }
        let deviceDigest = try expectSuccess(["digest", "--cell", CrashRestartTests.cell, "--db", device]).stdout
        let centralDigest = try expectSuccess(["central", "digest", "--cell", CrashRestartTests.cell]).stdout
        check(!deviceDigest.isEmpty && deviceDigest == centralDigest, "digests differ: device \(deviceDigest), central \(centralDigest)")
        return "\(written) operations, \(applied) applied, \(held) held"
    }
}

struct CrashTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
