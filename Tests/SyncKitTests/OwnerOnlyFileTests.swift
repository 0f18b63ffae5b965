import Foundation
import Synchronization
import Testing
@testable import SyncKit

/// Files holding personal data are owner-only (0600) from the moment they exist, through the mode
/// given to open(2), not the process's umask: these tests run with umask 000, under which anything
/// that relied on the umask (or on SQLite's default 0644) would be open to every local user.
///
/// Serialized: the umask belongs to the whole test process. While one of these tests runs, files
/// other suites create may get wider modes than usual; none of them checks modes.
@Suite(.serialized) struct OwnerOnlyFileTests {
    /// Runs `body` with the process's umask set to `mask`, then restores it.
    static func withUmask<T>(_ mask: mode_t, _ body: () throws -> T) rethrows -> T {
        let previous = umask(mask)
        defer { umask(previous) }
        return try body()
    }

    static func mode(_ path: String) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    static func octal(_ mode: Int) -> String { String(mode, radix: 8) }

    /// Collects the notices reported while `body` runs, then restores the default handler.
    static func notices(_ body: () throws -> Void) rethrows -> [OwnerOnlyFile.Notice] {
        let collected = Mutex<[OwnerOnlyFile.Notice]>([])
        OwnerOnlyFile.reportNotices { notice in collected.withLock { $0.append(notice) } }
        defer { OwnerOnlyFile.reportNotices(to: nil) }
        try body()
        return collected.withLock { $0 }
    }

    @Test func aNewDatabaseAndItsWalAndShmAreOwnerOnlyWhateverTheUmask() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("device.db").path
        try Self.withUmask(0) {
            let (replica, _) = try makeReplica(1, path: path)
            try replica.write { _ = try $0.insert("items", ["cell": "C1", "name": "张伟"]) }
            // While the replica is open SQLite keeps its -wal and -shm; they take the main file's mode.
            for file in [path, path + "-wal", path + "-shm"] {
                #expect(FileManager.default.fileExists(atPath: file), "\(file) exists while the replica is open")
                #expect(Self.octal(try Self.mode(file)) == "600", "\(file)")
            }
            withExtendedLifetime(replica) {}
        }
    }

    @Test func aDatabaseLeftOpenToOthersIsMadeOwnerOnlyWhenOpenedAndSaysSoOnce() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("central.db").path
        let id = try {
            let (replica, _) = try makeReplica(1, path: path)
            return try replica.write { try $0.insert("items", ["cell": "C1", "name": "张伟"]) }
        }()
        // As an older version left it: the file and a -wal at SQLite's default mode.
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        #expect(FileManager.default.createFile(atPath: path + "-wal", contents: nil, attributes: [.posixPermissions: 0o644]))

        let first = try Self.notices {
            let (replica, _) = try makeReplica(1, path: path)
            #expect(try replica.record("items", id)?.values["name"] == .text("张伟"), "the data is untouched")
        }
        #expect(first.map(\.path) == [path, path + "-wal"])
        #expect(first.allSatisfy { $0.previousMode == 0o644 && $0.mode == 0o600 && $0.tightened })
        #expect(first.first?.message == "“\(path)” was open to other local users (mode 0644) and holds personal data; it is now owner-only (mode 0600)")
        #expect(Self.octal(try Self.mode(path)) == "600")
        let again = try Self.notices { _ = try makeReplica(1, path: path) }
        #expect(again.isEmpty, "said once: the file is owner-only now")
    }

    @Test func aNewDatabaseInAMissingDirectoryIsRefusedWithWhatToDo() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("nowhere/device.db").path
        let error = try #require(throws: SyncError.self) { _ = try makeReplica(1, path: path) }
        #expect(error.code == .invalidInput)
        #expect(error.message == "cannot create the database “\(path)”: the directory “\(directory.path)/nowhere” does not exist; create it or give another path")
    }

    @Test func inMemoryAndURIDatabasesAreLeftToSQLite() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(!Connection.isFilePath(":memory:") && !Connection.isFilePath("") && !Connection.isFilePath("file:x.db?mode=memory"))
        #expect(Connection.isFilePath("central.db") && Connection.isFilePath("/var/lib/fieldsync/central.db"))
        let uri = "file:\(directory.path)/uri.db"
        let (replica, _) = try makeReplica(1, path: uri)
        try replica.write { _ = try $0.insert("items", ["cell": "C1"]) }
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("uri.db").path), "SQLite opened the URI")
        #expect(!FileManager.default.fileExists(atPath: uri), "no file named like the URI was made")
    }

    @Test func writeReplacesAFileAtomicallyWithAnOwnerOnlyOneWhateverTheUmask() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("out.bundle").path
        try Self.withUmask(0) {
            try OwnerOnlyFile.write(Data("first".utf8), toPath: path)
            #expect(Self.octal(try Self.mode(path)) == "600")
            // A target an older version left at 0644 is replaced by an owner-only file.
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
            try OwnerOnlyFile.write(Data("second".utf8), toPath: path)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data("second".utf8))
        #expect(Self.octal(try Self.mode(path)) == "600")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["out.bundle"], "no temporary file is left")
    }

    @Test func writeRefusesAMissingDirectoryOrADirectoryAndLeavesNothing() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let missing = directory.appendingPathComponent("nowhere/out.csv").path
        let noDirectory = try #require(throws: SyncError.self) { try OwnerOnlyFile.write(Data("x".utf8), toPath: missing) }
        #expect(noDirectory.code == .invalidInput)
        #expect(noDirectory.message == "cannot write “\(missing)”: the directory “\(directory.path)/nowhere” does not exist; create it or give another path")
        let isDirectory = try #require(throws: SyncError.self) { try OwnerOnlyFile.write(Data("x".utf8), toPath: directory.path) }
        #expect(isDirectory.message == "cannot write “\(directory.path)”: it is a directory; give a file name")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }
}
