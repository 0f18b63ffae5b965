import Foundation

/// Runs one seeded simulation in a fresh temporary directory and removes it afterwards (kept
/// on failure when asked, to open the files with sqlite3).
///
///     switch SimulationRunner.run(SimulationConfig(seed: 42)) {
///     case .success(let report): print(report)
///     case .failure(let failure): print(failure)        // ends with the command that replays it
///     }
public enum SimulationRunner {
    /// Where runs keep their files: `FIELDSYNC_SIM_DIR`, else /dev/shm when there is one (memory:
    /// the simulation tests logic, not disks, and fsync there costs nothing), else the temporary
    /// directory.
    public static var baseDirectory: URL {
        if let chosen = ProcessInfo.processInfo.environment["FIELDSYNC_SIM_DIR"] { return URL(fileURLWithPath: chosen) }
        if FileManager.default.isWritableFile(atPath: "/dev/shm") { return URL(fileURLWithPath: "/dev/shm") }
        return FileManager.default.temporaryDirectory
    }

    public static func run(_ config: SimulationConfig, keepFilesOnFailure: Bool = false) -> Result<SimulationReport, SimulationFailure> {
        let directory = baseDirectory.appendingPathComponent("fieldsync-sim-\(config.seed)-\(UUID().uuidString.prefix(8))")
        var keep = false
        defer { if !keep { try? FileManager.default.removeItem(at: directory) } }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            return .success(try Simulation(config: config, directory: directory).run())
        } catch let failure as SimulationFailure {
            keep = keepFilesOnFailure
            return .failure(failure)
        } catch {
            keep = keepFilesOnFailure
            return .failure(SimulationFailure(seed: config.seed, phase: "setup", invariant: "noUnexpectedErrors",
                                              detail: "\(type(of: error)): \(error)" + (keep ? " (files kept in \(directory.path))" : ""),
                                              reproduceCommand: config.reproduceCommand))
        }
    }
}
