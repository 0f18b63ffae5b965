import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Files that hold personal data or secrets, readable and writable by their owner only (0600).
///
///     try OwnerOnlyFile.write(try replica.exportBundle(), toPath: "tablet-07.bundle")
///     // a new file, mode 0600 from its first byte, put in place atomically
///
/// The mode is given to `open(2)` when a file is created, never set by `chmod` once it holds
/// data, so no other local user can open it at any moment, whatever the process's umask (a umask
/// can only narrow the mode). A library cannot lean on the umask: it belongs to the whole
/// process, which an embedding app owns. `write` is atomic: a temporary file created 0600 in the
/// target's directory is written, fsync'd and renamed over the target, so a reader finds the old
/// file or the new one, never half of one, and a target left wider by an older version is
/// replaced by an owner-only file. `Connection` creates database files owner-only the same way
/// and tightens wider ones it finds (`prepareDatabase`; Design.md, sections 4 and 15).
public enum OwnerOnlyFile {
    /// Read and write for the owner, nothing for the group or others.
    public static let mode: mode_t = 0o600
    /// Fresh temporary names tried before giving up: names are random, so a clash means
    /// something else is making files of those names.
    static let temporaryAttemptsMax = 8
    /// The files SQLite keeps beside a database. It creates them with the main file's mode, so
    /// a main file created owner-only gives owner-only companions.
    static let databaseCompanionSuffixes = ["-wal", "-shm", "-journal"]

    /// Replaces (or creates) the file at `path` with `data`: written to a 0600 temporary file in
    /// the same directory, fsync'd, renamed over `path`. On a throw `path` is as it was and no
    /// temporary file is left.
    public static func write(_ data: Data, toPath path: String) throws {
        let target = URL(fileURLWithPath: path)
        let directory = target.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        if path.hasSuffix("/") || (FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue) {
            throw SyncError(.invalidInput, "cannot write “\(path)”: it is a directory; give a file name")
        }
        var temporary = ""
        var descriptor: Int32 = -1
        for _ in 0..<temporaryAttemptsMax {
            // A random name, not core logic: nothing depends on it beyond being unused.
            temporary = directory + "/." + target.lastPathComponent + "." + String(UInt64.random(in: .min ... .max), radix: 16) + ".tmp"
            descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
            if descriptor >= 0 || errno != EEXIST { break }
        }
        guard descriptor >= 0 else { throw failure(errno, "write", path, directory: directory) }
        var renamed = false
        defer { if !renamed { unlink(temporary) } }
        do {
            try writeAll(data, to: descriptor, path: path, directory: directory)
            guard fsync(descriptor) == 0 else { throw failure(errno, "write", path, directory: directory) }
        } catch {
            close(descriptor)
            throw error
        }
        guard close(descriptor) == 0 else { throw failure(errno, "write", path, directory: directory) }
        guard rename(temporary, path) == 0 else { throw failure(errno, "write", path, directory: directory) }
        renamed = true
        // The rename is durable once the directory is synced; the data is safe in the file either way.
        let directoryDescriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            _ = fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }

    private static func writeAll(_ data: Data, to descriptor: Int32, path: String, directory: String) throws {
        try data.withUnsafeBytes { raw in
            guard var next = raw.baseAddress else { return }
            var left = raw.count
            while left > 0 {
                let written = Glibc.write(descriptor, next, left)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw failure(errno, "write", path, directory: directory)
                }
                next += written
                left -= written
            }
        }
    }

    // MARK: Databases

    /// Run before SQLite opens the database at `path` (a file path, not ':memory:' or a URI).
    /// When `creating` and the file does not exist, creates it empty and owner-only: SQLite then
    /// opens it as a new database and gives its -wal, -shm and -journal the same mode. A file
    /// already there (or a companion) that is open to other users, made by an older version or
    /// by hand, is made owner-only, and a `Notice` says so once (afterwards it is owner-only).
    package static func prepareDatabase(atPath path: String, creating: Bool) throws {
        if creating {
            // O_EXCL: never opens what exists, symbolic links included; those are left to SQLite.
            let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
            if descriptor >= 0 {
                close(descriptor)
            } else if errno != EEXIST {
                throw failure(errno, "create the database", path,
                              directory: URL(fileURLWithPath: path).deletingLastPathComponent().path)
            }
        }
        // Companions too, even of a new file: a -wal left by a deleted database would be reused.
        for file in [path] + databaseCompanionSuffixes.map({ path + $0 }) {
            tightenIfWider(file)
        }
    }

    /// Removes the group's and others' permissions from a regular file that has any.
    static func tightenIfWider(_ file: String) {
        var info = stat()
        guard stat(file, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return }
        let permissions = info.st_mode & 0o7777
        guard permissions & 0o077 != 0 else { return }
        let narrowed = permissions & 0o700
        if chmod(file, narrowed) == 0 {
            report(Notice(path: file, previousMode: Int(permissions), mode: Int(narrowed), failure: nil))
        } else {
            report(Notice(path: file, previousMode: Int(permissions), mode: Int(permissions), failure: String(cString: strerror(errno))))
        }
    }

    /// The error for a failed create, write, fsync or rename: what to do about it, by errno.
    static func failure(_ code: Int32, _ action: String, _ path: String, directory: String) -> SyncError {
        let reason = String(cString: strerror(code))
        switch code {
        case ENOENT, ENOTDIR:
            return SyncError(.invalidInput, "cannot \(action) “\(path)”: the directory “\(directory)” does not exist; create it or give another path")
        case EISDIR:
            return SyncError(.invalidInput, "cannot \(action) “\(path)”: it is a directory; give a file name")
        case EACCES, EPERM, EROFS:
            return SyncError(.fileSystem, "cannot \(action) “\(path)”: no permission to create files in “\(directory)” (\(reason)); give a directory you may write to")
        case ENOSPC, EDQUOT:
            return SyncError(.fileSystem, "cannot \(action) “\(path)”: the disk is full (\(reason)); free some space and run it again")
        default:
            return SyncError(.fileSystem, "cannot \(action) “\(path)”: \(reason)")
        }
    }
}

// MARK: Notices

extension OwnerOnlyFile {
    /// A database file found open to other local users when it was opened, and what was done:
    /// made owner-only, or (not its owner) left as it was with the command that fixes it.
    public struct Notice: Sendable, Hashable, CustomStringConvertible {
        /// The file, as the database path was given (or with its -wal, -shm, -journal suffix).
        public let path: String
        /// Its permission bits when found, e.g. 0o644.
        public let previousMode: Int
        /// Its permission bits now: owner-only unless `failure`.
        public let mode: Int
        /// Why it could not be changed (`chmod` failed), or nil.
        public let failure: String?

        public var tightened: Bool { failure == nil }

        public var message: String {
            let found = "“\(path)” was open to other local users (mode \(Self.octal(previousMode))) and holds personal data"
            if let failure {
                return found + "; it could not be made owner-only (\(failure)): its owner should run `chmod go= \(path)`"
            }
            return found + "; it is now owner-only (mode \(Self.octal(mode)))"
        }

        public var description: String { message }

        static func octal(_ mode: Int) -> String { "0" + String(mode, radix: 8) }
    }

    /// Where notices go from now on, for the whole process; nil restores the default, one line
    /// on stderr. A server that logs structured lines passes its logger.
    public static func reportNotices(to handler: (@Sendable (Notice) -> Void)?) {
        noticeHandler.withLock { $0 = handler ?? writeToStandardError }
    }

    static func report(_ notice: Notice) {
        let handler = noticeHandler.withLock { $0 }
        handler(notice)
    }

    private static let noticeHandler = Mutex<@Sendable (Notice) -> Void>(writeToStandardError)

    private static let writeToStandardError: @Sendable (Notice) -> Void = { notice in
        let line = Array("FieldSync: \(notice.message)\n".utf8)
        line.withUnsafeBytes { _ = Glibc.write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }
}
