import CentralNode
import FieldKit
import Foundation
import SyncKit

/// A deterministic simulation of a district: one hub and N collectors' devices in one process
/// and one thread, with the real SyncKit, FieldKit and CentralNode code on real SQLite files,
/// driven by one seed through a seeded workload, network faults, partitions, bundles carried
/// by hand, crashes at injected fault points and lying clocks. A final phase heals every fault
/// and syncs everyone; the invariants (Design.md, "Simulation") are checked during the run and
/// at the end. The same seed replays the same run.
///
///     let report = try Simulation(config: SimulationConfig(seed: 7), directory: tmp).run()
///     // or: SimulationRunner.run(seed: 7) → .success(report) / .failure(failure)
public final class Simulation {
    public let config: SimulationConfig
    let directory: URL
    var random: SplitMix64
    /// Where a lost reply is cut: a generator of its own, so that this detail leaves the main
    /// stream (and so every other choice of a seed) as it was.
    var cutting: SplitMix64
    var report = SimulationReport()
    var step = 0
    var phase = "setup"

    /// The hub's clock is the one true time of the simulation.
    var hubMillis: Int64 = Simulation.epochMillis
    let hubClock = ManualClock(millis: Simulation.epochMillis)
    let hubCrash = FaultSwitch()
    let hubPath: String
    var hub: Hub
    var devices: [SimDevice] = []
    /// Counts replies as the hub produces them, so a device knows which cell list is newest.
    var replyOrder = 0

    /// Bundle files on their way, in no particular order: device → hub, hub → device.
    var bundlesToHub: [(device: Int, data: Data)] = []
    var bundlesToDevice: [(device: Int, data: Data, order: Int)] = []
    /// Plates registered anywhere, by cell (for "the same plate on two devices").
    var registeredPlates: [String: Set<Int>] = [:]

    // What the invariants compare against.
    /// Every operation ever seen in the hub's quarantine, and what the operators did with them.
    var heldEver = Set<OpID>()
    var released = Set<OpID>()
    var discarded = Set<OpID>()
    /// Conflicts an operator resolved, with the candidates they saw: those never come back.
    var resolutions: [(collection: String, entity: EntityID, field: String, candidates: Set<OpID>)] = []
    /// Households an operator erased, with the personal values written before (on the hub, or
    /// waiting on a device): none may be left in any file after healing, unless written again.
    var erased: [EntityID: Set<String>] = [:]
    /// Operations held at the hub, as first seen there: what they wrote may be in the hub's
    /// files (a discarded one's too, until SQLite checkpoints the page it left).
    var heldOps: [OpID: Op] = [:]

    /// 2026-01-01 00:00 UTC.
    public static let epochMillis: Int64 = 1_767_225_600_000
    static let hubReplica = ReplicaID(high: 0xC0FFEE, low: 1)
    /// Invariants that read every replica are checked every this many steps (and at the end).
    static let checkEverySteps = 5
    /// An operator erases a household every this many steps (on a schedule, not drawn, so that
    /// the seeded stream of choices stays as it was).
    static let eraseEverySteps = 40
    /// Heal rounds (everyone syncs, operators settle held operations) before giving up.
    static let healRoundsMax = 12

    public init(config: SimulationConfig, directory: URL) throws {
        self.config = config
        self.directory = directory
        random = SplitMix64(seed: config.seed)
        cutting = SplitMix64(seed: config.seed ^ 0xC0_7C07)
        report.seed = config.seed
        hubPath = directory.appendingPathComponent("hub.db").path
        hub = try Self.openHub(path: hubPath, clock: hubClock, crash: hubCrash)
    }

    static func openHub(path: String, clock: ManualClock, crash: FaultSwitch) throws -> Hub {
        var options = ReplicaOptions()
        options.clock = clock
        options.replicaID = hubReplica
        options.randomSeed = 0xC0FFEE
        options.faultInjector = { try crash.hit($0) }
        return try Hub.open(path: path, schema: FieldModel.schema, options: options)
    }

    /// Runs the whole simulation: the steps, the heal phase, the final checks. Throws a
    /// `SimulationFailure` naming the broken invariant.
    public func run() throws -> SimulationReport {
        do {
            for index in 0..<config.initialDevices { try enrollDevice(index: index) }
            for current in 0..<config.steps {
                step = current
                phase = "step \(current)"
                try runStep()
                if current % Self.checkEverySteps == 0 { try checkDuringRun() }
            }
            report.steps = config.steps
            phase = "heal"
            try heal()
            phase = "final"
            try checkFinal()
            report.devices = devices.count
            return report
        } catch let failure as SimulationFailure {
            throw failure
        } catch {
            throw failure("noUnexpectedErrors", "\(type(of: error)): \(error)")
        }
    }

    /// With FIELDSYNC_SIM_TRACE=1, every action is printed on stderr (to follow a failing seed).
    static let tracing = ProcessInfo.processInfo.environment["FIELDSYNC_SIM_TRACE"] == "1"

    func trace(_ line: @autoclosure () -> String) {
        if Self.tracing { FileHandle.standardError.write(Data("[\(phase)] \(line())\n".utf8)) }
    }

    func failure(_ invariant: String, _ detail: String) -> SimulationFailure {
        SimulationFailure(seed: config.seed, phase: phase, invariant: invariant, detail: detail, reproduceCommand: config.reproduceCommand)
    }

    // MARK: One step

    func runStep() throws {
        advanceTime()
        if random.chance(config.partitionProbability), let device = devices.isEmpty ? nil : random.pick(devices) {
            device.partitionedUntilStep = step + random.int(1...config.partitionStepsMax)
            report.partitions += 1
        }
        if random.chance(config.deviceCrashProbability), let device = devices.isEmpty ? nil : random.pick(devices) {
            device.crash.arm(afterHits: random.int(1...6), at: randomFaultPoint())
        }
        if random.chance(config.hubCrashProbability) {
            hubCrash.arm(afterHits: random.int(1...12), at: randomFaultPoint())
        }
        if step == config.resetStep, let index = config.resetDevice, index < devices.count {
            // A battery swap: the clock restarts at 1970 and runs from there.
            let device = devices[index]
            device.skewMillis = -hubMillis + random.int64(0...3_600_000)
            device.setTime(hubMillis: hubMillis)
            report.clockEvents += 1
        }
        if step > 0 && step % Self.eraseEverySteps == 0 { try eraseHousehold() }
        let actions = SimulationConfig.Action.allCases
        let action = actions[random.weighted(actions.map { config.actionProbability[$0] ?? 0 })]
        trace("\(action)")
        switch action {
        case .localWrite: try localWrite(on: random.pick(devices))
        case .sync: try syncAction(random.pick(devices))
        case .bundleExport: try exportBundle(from: random.pick(devices))
        case .bundleToHub: try carryBundleToHub()
        case .bundleToDevice: try carryBundleToDevice()
        case .review: try review()
        case .clockEvent: clockEvent(random.pick(devices))
        case .reassignCells: try reassignCells()
        case .enroll: if devices.count < config.devicesMax { try enrollDevice(index: devices.count) }
        case .revoke: try revokeDevice()
        case .compact: try compactAction(random.pick(devices))
        }
        try scanHubQuarantine()
    }

    func randomFaultPoint() -> FaultPoint? {
        random.pick([nil, .afterEntitySave, .afterLogInsert, .beforeCommit])
    }

    /// Time passes: mostly seconds to minutes, sometimes an hour, rarely a night.
    func advanceTime() {
        let roll = random.unit()
        let delta: Int64 = roll < 0.9 ? random.int64(1_000...300_000) : roll < 0.99 ? random.int64(300_000...3_600_000) : random.int64(3_600_000...43_200_000)
        hubMillis += delta
        hubClock.set(millis: hubMillis)
        for device in devices { device.setTime(hubMillis: hubMillis) }
    }

    /// A device's clock jumps back, forward, or drifts a little.
    func clockEvent(_ device: SimDevice) {
        let roll = random.unit()
        if roll < config.clockBackProbability {
            device.skewMillis -= random.int64(60_000...config.skewMillisMax)
        } else if roll < config.clockBackProbability + config.clockForwardProbability {
            device.skewMillis += random.int64(60_000...config.skewMillisMax)
        } else {
            device.skewMillis += random.int64(-300_000...300_000)
        }
        device.setTime(hubMillis: hubMillis)
        report.clockEvents += 1
    }

    // MARK: Crashes

    /// Runs `body` on a device; a simulated crash restarts the device from its file (checking
    /// that every committed write survived) and gives nil.
    func onDevice<T>(_ device: SimDevice, _ body: () throws -> T) throws -> T? {
        do {
            return try body()
        } catch where error.isSimulatedCrash {
            report.deviceCrashes += 1
            try device.restart()
            let stored = try device.storedSeq()
            guard stored >= device.lastSeq else {
                throw failure("committedWritesSurviveCrashes", "\(device.name) had written through operation \(device.lastSeq), but after a crash its file holds only \(stored)")
            }
            return nil
        }
    }

    /// Runs `body` on the hub; a simulated crash restarts the hub from its file and gives nil.
    func onHub<T>(_ body: () throws -> T) throws -> T? {
        do {
            return try body()
        } catch where error.isSimulatedCrash {
            report.hubCrashes += 1
            hubCrash.disarm()
            hub = try Self.openHub(path: hubPath, clock: hubClock, crash: hubCrash)
            return nil
        }
    }
}
