import Foundation

/// A fresh temporary directory for the database files of one bench invocation, removed at the
/// end. Each trial takes a new file name and removes its file (with `-wal` and `-shm`) when done.
///
///     let scratch = try ScratchDirectory()
///     let path = scratch.newPath("ours")     // .../ours-1.db
///     defer { scratch.remove(path) }
final class ScratchDirectory {
    let url: URL
    private var counter = 0

    init() throws {
        let base = FileManager.default.temporaryDirectory
        url = base.appendingPathComponent("fieldsync-bench-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0 ... .max))")
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
        } catch {
            throw BenchError("cannot create a scratch directory in \(base.path): \(error.localizedDescription)")
        }
    }

    /// A path for a new database file, unique within this directory.
    func newPath(_ prefix: String) -> String {
        counter += 1
        return url.appendingPathComponent("\(prefix)-\(counter).db").path
    }

    /// Removes a database file and its WAL and shared-memory files. Call after closing it.
    func remove(_ path: String) {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            try? FileManager.default.removeItem(atPath: path + suffix)
        }
    }

    func removeAll() {
        try? FileManager.default.removeItem(at: url)
    }
}
