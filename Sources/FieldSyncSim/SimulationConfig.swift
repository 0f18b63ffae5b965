import SyncKit

/// Everything a simulation run does by chance, derived from its seed: how many devices and
/// cells, how often each action and fault happens, how far clocks lie. Printed at the start of a
/// run, so a failure report says what world it happened in.
///
///     let config = SimulationConfig(seed: 42)          // devices and steps from the seed too
///     print(config)                                     // every derived probability
///     let report = try Simulation(config: config, directory: tmp).run()
public struct SimulationConfig: Sendable, CustomStringConvertible {
    /// What one step of the simulation does (besides time passing).
    public enum Action: String, Sendable, CaseIterable {
        case localWrite, sync, bundleExport, bundleToHub, bundleToDevice, review, clockEvent, reassignCells, enroll, revoke, compact
    }

    /// What a collector's local write is.
    public enum Write: String, Sendable, CaseIterable {
        case registerDoorplate, scanDoorplate, updateDoorplate, addHousehold, updateHousehold, recordVisit,
             addTask, moveTask, addTaskNote, detectDuplicates
    }

    public static let devicesMax = 50
    public static let cellsMax = 8

    public let seed: UInt64
    /// The command line that replays this run exactly.
    public let reproduceCommand: String
    /// Devices enrolled at the start; enrollments during the run add up to `devicesMax`.
    public let initialDevices: Int
    public let devicesMax: Int
    public let cells: [String]
    public let steps: Int

    /// Per step, which action runs.
    public let actionProbability: [Action: Double]
    /// Per local write, which kind.
    public let writeProbability: [Write: Double]

    // Network faults, per exchange.
    public let dropRequestProbability: Double
    public let dropReplyProbability: Double
    public let duplicateReplyProbability: Double
    /// A sync session verifies the cells' digests once it has caught up.
    public let verifyProbability: Double
    /// Push and pull page sizes are drawn from 1 through this, per exchange.
    public let pageSizeMax: Int
    /// Exchanges in one sync action, at most.
    public let syncRoundsMax: Int

    // Partitions, per step.
    public let partitionProbability: Double
    public let partitionStepsMax: Int

    // Crashes, per step: arm a crash on a device or on the hub at a random fault point.
    public let deviceCrashProbability: Double
    public let hubCrashProbability: Double

    // Clocks.
    /// Share of devices whose clock starts far off (up to `skewMillisMax` either way).
    public let skewedDeviceShare: Double
    public let skewMillisMax: Int64
    /// Of clock events: a jump back (else forward, or a small drift).
    public let clockBackProbability: Double
    public let clockForwardProbability: Double
    /// A device whose clock resets to 1970 at `resetStep` (none when nil).
    public let resetDevice: Int?
    public let resetStep: Int

    // Workload details.
    /// A doorplate registration reuses a plate another device has registered.
    public let samePlateProbability: Double
    /// Plates per cell (a small number makes two devices meet on one plate).
    public let platesPerCell: Int
    /// A household edit moves it to a plate of another cell the device serves.
    public let moveHouseholdProbability: Double
    /// A review action resolves a conflict (else releases or discards a held operation).
    public let resolveProbability: Double
    /// A held operation is released (else discarded).
    public let releaseProbability: Double
    /// A bundle reply is carried back (else the file is lost).
    public let bundleReturnProbability: Double

    /// Derives a world from `seed`. `devices` and `steps` override the derived values.
    public init(seed: UInt64, devices: Int? = nil, steps: Int? = nil) {
        var random = SplitMix64(seed: seed ^ 0x5EED_F1E1_D5C0_0001)
        self.seed = seed
        reproduceCommand = "fieldsync-sim --seed \(seed)" + (devices.map { " --devices \($0)" } ?? "") + (steps.map { " --steps \($0)" } ?? "")
        let initial = min(max(devices ?? random.int(2...5), 1), Self.devicesMax)
        initialDevices = initial
        devicesMax = min(Self.devicesMax, initial + random.int(0...2))
        cells = (1...random.int(2...4)).map { "JS-" + String(repeating: "0", count: 3) + String($0) }
        self.steps = max(steps ?? random.int(150...300), 1)

        var actions: [Action: Double] = [
            .localWrite: random.double(0.35...0.6),
            .sync: random.double(0.15...0.35),
            .bundleExport: random.chance(0.5) ? random.double(0.0...0.04) : 0,
            .review: random.double(0.02...0.08),
            .clockEvent: random.double(0.005...0.03),
            .reassignCells: random.double(0.005...0.03),
            .enroll: random.double(0.0...0.01),
            .revoke: random.chance(0.4) ? random.double(0.0...0.006) : 0,
            .compact: random.double(0.0...0.05),
        ]
        actions[.bundleToHub] = actions[.bundleExport]! * random.double(0.5...1.5)
        actions[.bundleToDevice] = actions[.bundleExport]! * random.double(0.5...1.5)
        // Sums in a fixed order: a dictionary's order changes from process to process, and a
        // last-bit difference in a probability could change a run.
        let total = Action.allCases.reduce(0) { $0 + actions[$1]! }
        actionProbability = actions.mapValues { $0 / total }

        var writes: [Write: Double] = [
            .registerDoorplate: random.double(0.08...0.2), .scanDoorplate: random.double(0.02...0.08),
            .updateDoorplate: random.double(0.05...0.15), .addHousehold: random.double(0.1...0.25),
            .updateHousehold: random.double(0.1...0.25), .recordVisit: random.double(0.1...0.25),
            .addTask: random.double(0.04...0.1), .moveTask: random.double(0.05...0.15),
            .addTaskNote: random.double(0.01...0.05), .detectDuplicates: random.double(0.01...0.04),
        ]
        let writeTotal = Write.allCases.reduce(0) { $0 + writes[$1]! }
        for key in writes.keys { writes[key]! /= writeTotal }
        writeProbability = writes

        dropRequestProbability = random.double(0...0.2)
        dropReplyProbability = random.double(0...0.2)
        duplicateReplyProbability = random.double(0...0.15)
        verifyProbability = random.double(0.3...1.0)
        pageSizeMax = random.int(1...50)
        syncRoundsMax = random.int(1...8)
        partitionProbability = random.double(0...0.04)
        partitionStepsMax = random.int(5...80)
        deviceCrashProbability = random.double(0...0.04)
        hubCrashProbability = random.double(0...0.02)
        skewedDeviceShare = random.double(0...0.6)
        skewMillisMax = random.int64(60_000...3 * 86_400_000)
        clockBackProbability = random.double(0.2...0.5)
        clockForwardProbability = random.double(0.1...0.4)
        resetDevice = random.chance(0.4) ? random.int(0...(initial - 1)) : nil
        resetStep = random.int(0...max(0, self.steps - 1))
        samePlateProbability = random.double(0.05...0.4)
        platesPerCell = random.int(4...20)
        moveHouseholdProbability = random.double(0...0.1)
        resolveProbability = random.double(0.4...0.8)
        releaseProbability = random.double(0.3...0.8)
        bundleReturnProbability = random.double(0.6...1.0)
    }

    public var description: String {
        func p(_ value: Double) -> String {
            let scaled = (value * 10_000).rounded() / 10_000
            return "\(scaled)"
        }
        var lines = [
            "seed \(seed): \(initialDevices) devices (up to \(devicesMax)), cells \(cells.joined(separator: ",")), \(steps) steps",
            "  actions: " + Action.allCases.map { "\($0.rawValue) \(p(actionProbability[$0] ?? 0))" }.joined(separator: ", "),
            "  writes: " + Write.allCases.map { "\($0.rawValue) \(p(writeProbability[$0] ?? 0))" }.joined(separator: ", "),
            "  network: dropRequest \(p(dropRequestProbability)), dropReply \(p(dropReplyProbability)) (half of them cut mid-body), duplicateReply \(p(duplicateReplyProbability)), verify when caught up \(p(verifyProbability)), pages 1...\(pageSizeMax), exchanges per sync 1...\(syncRoundsMax)",
            "  partitions: start \(p(partitionProbability)) per step, lasting up to \(partitionStepsMax) steps",
            "  crashes: device \(p(deviceCrashProbability)), hub \(p(hubCrashProbability)) per step",
            "  clocks: skewed devices \(p(skewedDeviceShare)), skew up to \(skewMillisMax / 60_000) min, events back \(p(clockBackProbability)) forward \(p(clockForwardProbability)), reset to 1970: "
                + (resetDevice.map { "device \($0) at step \(resetStep)" } ?? "none"),
            "  workload: samePlate \(p(samePlateProbability)), plates per cell \(platesPerCell), moveHousehold \(p(moveHouseholdProbability)), resolve \(p(resolveProbability)) (else held ops: release \(p(releaseProbability))), bundle carried back \(p(bundleReturnProbability))",
        ]
        lines.append("  reproduce: \(reproduceCommand)")
        return lines.joined(separator: "\n")
    }
}
