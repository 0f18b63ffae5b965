import FieldKit
import Foundation
import Synchronization
import SyncKit

/// The central node's logic without HTTP: a replica holding every cell, the central op log with
/// its sequence numbers, enrolled devices with their cells and tokens, and the audit log.
///
///     let hub = try Hub.open(path: "central.db", schema: schema)
///     let enrollment = try hub.enroll(device: "tablet-07", cells: ["JS-0412"], actor: "operator")
///     let response = try hub.handle(request, token: enrollment.token)
///
/// Every accepted operation gets a central sequence number (`cseq`) and is logged under the cell
/// of its record (and, when it moves the record, under the old cell too, with the record's whole
/// history copied under the new one, so devices of the new cell receive it whole).
public final class Hub: Sendable {
    public let replica: Replica
    /// Read-only connections for the exchanges' reads (nil for an in-memory node).
    let readers: ReaderPool?
    /// The one writer of devices' pushes, which commits several together.
    let writer: GroupCommit
    public let limits: HubLimits
    /// When devices that only pulled were last seen, written in batches (`flushLastSeen`).
    private let seen = Mutex(SeenDevices())

    struct SeenDevices {
        var pending: [String: Int64] = [:]
        var flushedAt: ContinuousClock.Instant = .now
    }

    /// Token length in random bytes (hex on the wire).
    public static let tokenBytes = 32
    public static let deviceNameLengthMax = 64
    public static let cellsPerDeviceMax = 256
    /// How long a pull-only device's last-seen time may wait in memory before it is written.
    static let lastSeenFlushInterval: Duration = .seconds(5)

    private init(replica: Replica, limits: HubLimits) {
        self.replica = replica
        self.limits = limits
        readers = replica.readerPool(countMax: limits.readersMax, waitingMax: limits.readsWaitingMax)
        writer = GroupCommit(replica: replica, limits: .init(queueMax: limits.pushesWaitingMax, batchMax: limits.pushesPerCommitMax))
    }

    public static func open(path: String, schema: Schema, options: ReplicaOptions = ReplicaOptions(), limits: HubLimits = HubLimits()) throws -> Hub {
        let replica = try Replica.open(path: path, schema: schema, options: options)
        try replica.withConnection { try $0.execute(HubLayout.createTables) }
        return Hub(replica: replica, limits: limits)
    }

    /// What the writer has committed so far: batches, pushes, the largest batch, pushes turned away.
    public var writerFigures: (batches: Int, pushes: Int, largestBatch: Int, turnedAway: Int) {
        let figures = writer.figures
        return (figures.batches, figures.jobs, figures.largestBatch, figures.turnedAway)
    }

    // MARK: Last seen

    /// A device that only pulled was seen now: remembered, written with the next write.
    func noteSeen(_ name: String, atMillis now: Int64) {
        seen.withLock { $0.pending[name] = now }
    }

    /// Writes the remembered last-seen times (inside a transaction of the writer).
    func flushLastSeen(access: CentralAccess) throws {
        let pending = seen.withLock { state -> [String: Int64] in
            defer { state.pending = [:]; state.flushedAt = .now }
            return state.pending
        }
        for (name, millis) in pending {
            try access.db.cached("UPDATE central_device SET last_seen_millis = max(coalesce(last_seen_millis, 0), ?) WHERE name = ?")
                .run([.int(millis), .text(name)])
        }
    }

    /// Writes every remembered last-seen time now (`central serve` does when it stops).
    public func flushLastSeen() throws {
        guard seen.withLock({ !$0.pending.isEmpty }) else { return }
        try replica.centralTransaction { try flushLastSeen(access: $0) }
    }

    /// Writes them when the oldest has waited `lastSeenFlushInterval`.
    func flushLastSeenIfDue() throws {
        let due = seen.withLock { !$0.pending.isEmpty && ContinuousClock.now - $0.flushedAt >= Self.lastSeenFlushInterval }
        guard due else { return }
        try replica.centralTransaction { try flushLastSeen(access: $0) }
    }

    // MARK: Devices

    /// Creates a device with its cells and returns its one-time token (only its hash is stored).
    public func enroll(device name: String, cells: [String], actor: String) throws -> Enrollment {
        try Self.checkDeviceName(name)
        let cells = try Self.checkCells(cells)
        var generator = SystemRandomNumberGenerator()
        let token = (0..<Self.tokenBytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        try replica.centralTransaction { access in
            guard try access.db.scalar("SELECT 1 FROM central_device WHERE name = ?", [.text(name)]) == nil else {
                throw SyncError(.alreadyExists, "device \"\(name)\" is already enrolled; revoke it first or choose another name")
            }
            try access.db.cached("INSERT INTO central_device(name, token_hash, enrolled_millis) VALUES (?, ?, ?)")
                .run([.text(name), .blob(Self.hash(token)), .int(access.nowMillis)])
            try Self.setCells(cells, device: name, access: access)
            try Self.audit(access, actor: actor, action: "enroll", detail: "device \(name) cells \(cells.joined(separator: ","))")
        }
        return Enrollment(device: name, token: token, cells: cells)
    }

    /// Revokes a device at once: its token stops working and its later pushes are refused.
    public func revoke(device name: String, actor: String) throws {
        try replica.centralTransaction { access in
            try access.db.cached("UPDATE central_device SET revoked = 1 WHERE name = ?").run([.text(name)])
            guard access.db.changes == 1 else { throw SyncError(.notFound, "no device named \"\(name)\"") }
            try Self.audit(access, actor: actor, action: "revoke", detail: "device \(name)")
        }
    }

    /// Replaces a device's cells. Cells it served before stay writable for its pushes, so work
    /// done offline before a reassignment is not lost.
    public func setCells(device name: String, cells: [String], actor: String) throws {
        let cells = try Self.checkCells(cells)
        try replica.centralTransaction { access in
            guard try access.db.scalar("SELECT 1 FROM central_device WHERE name = ?", [.text(name)]) != nil else {
                throw SyncError(.notFound, "no device named \"\(name)\"")
            }
            try Self.setCells(cells, device: name, access: access)
            try Self.audit(access, actor: actor, action: "cells", detail: "device \(name) cells \(cells.joined(separator: ","))")
        }
    }

    public func devices() throws -> [DeviceInfo] {
        let pending = seen.withLock { $0.pending }
        return try replica.withConnection { db in
            let select = try db.prepare("""
                SELECT name, replica, revoked, enrolled_millis, last_seen_millis,
                       (SELECT group_concat(cell, ',') FROM (SELECT cell FROM central_device_cell c WHERE c.name = d.name AND current = 1 ORDER BY cell))
                FROM central_device d ORDER BY name
                """)
            var result: [DeviceInfo] = []
            while try select.step() {
                result.append(DeviceInfo(name: select.text(at: 0), replica: select.isNull(at: 1) ? nil : ReplicaID(bytes: select.bytes(at: 1)),
                                         cells: select.isNull(at: 5) ? [] : select.text(at: 5).split(separator: ",").map(String.init),
                                         revoked: select.int64(at: 2) != 0, enrolledMillis: select.int64(at: 3),
                                         lastSeenMillis: [select.isNull(at: 4) ? nil : select.int64(at: 4), pending[select.text(at: 0)]].compactMap { $0 }.max()))
            }
            return result
        }
    }

    /// The audit log, newest last: (time, actor, action, detail).
    public func audit(limit: Int = 1_000) throws -> [(atMillis: Int64, actor: String, action: String, detail: String)] {
        try replica.withConnection { db in
            let select = try db.prepare("SELECT at_millis, actor, action, detail FROM central_audit ORDER BY id DESC LIMIT ?")
            try select.bind([.int(Int64(limit))])
            var rows: [(Int64, String, String, String)] = []
            while try select.step() { rows.append((select.int64(at: 0), select.text(at: 1), select.text(at: 2), select.text(at: 3))) }
            return rows.reversed().map { (atMillis: $0.0, actor: $0.1, action: $0.2, detail: $0.3) }
        }
    }

    // MARK: Helpers

    static func hash(_ token: String) -> [UInt8] { SHA256.hash(Array(token.utf8)) }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    static func checkDeviceName(_ name: String) throws {
        guard !name.isEmpty, name.utf8.count <= deviceNameLengthMax,
              name.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0) }) else {
            throw SyncError(.invalidInput, "device name \"\(name.prefix(80))\" is not valid: use 1 to \(deviceNameLengthMax) letters, digits, - _ .")
        }
    }

    /// A cell name as the node reads it wherever it comes from (the CLI, an HTTP query, a sync
    /// request): a grid cell in any spelling FieldKit reads (`js0401`, full-width, hyphen
    /// optional) in its canonical form (`JS-0401`); any other name trimmed, as given.
    public static func cellName(_ name: String) -> String {
        if let cell = try? GridCell(parsing: name) { return cell.id }
        return name.trimmingCharacters(in: .whitespaces)
    }

    static func checkCells(_ cells: [String]) throws -> [String] {
        let unique = Array(Set(cells.map(cellName))).sorted()
        guard !unique.isEmpty, unique.count <= cellsPerDeviceMax else {
            throw SyncError(.invalidInput, "a device serves 1 to \(cellsPerDeviceMax) cells; got \(unique.count)")
        }
        for cell in unique where cell.isEmpty || cell.utf8.count > 64 {
            throw SyncError(.invalidInput, "cell id \"\(cell.prefix(80))\" is not valid: 1 to 64 characters")
        }
        return unique
    }

    private static func setCells(_ cells: [String], device name: String, access: CentralAccess) throws {
        try access.db.cached("UPDATE central_device_cell SET current = 0 WHERE name = ?").run([.text(name)])
        for cell in cells {
            try access.db.cached("INSERT INTO central_device_cell(name, cell, current) VALUES (?, ?, 1) ON CONFLICT(name, cell) DO UPDATE SET current = 1")
                .run([.text(name), .text(cell)])
        }
    }

    static func audit(_ access: CentralAccess, actor: String, action: String, detail: String) throws {
        try access.db.cached("INSERT INTO central_audit(at_millis, actor, action, detail) VALUES (?, ?, ?, ?)")
            .run([.int(access.nowMillis), .text(actor), .text(action), .text(detail)])
    }
}

/// How much work the central node takes on at once; past these a request is answered at once
/// with 503 and a `Retry-After` instead of waiting (Design.md section 14, "Overload").
public struct HubLimits: Sendable {
    /// Reader connections at most: reads beyond them wait for one (two cores serve this machine).
    public var readersMax = 4
    /// Reads waiting for a reader connection at most.
    public var readsWaitingMax = 256
    /// Pushes waiting for the writer at most.
    public var pushesWaitingMax = 256
    /// Pushes committed together in one transaction at most (group commit).
    public var pushesPerCommitMax = 32

    public init() {}
}
