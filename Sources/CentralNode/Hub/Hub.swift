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
        /// Hints of devices' last exchanges, written with the last-seen times (a hint lost to a
        /// failed write is replaced by the device's next one).
        var hints: [String: DeviceHint] = [:]
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
        try replica.withConnection { db in
            try db.execute(HubStore.createTables)
            try HubStore.upgrade(db)
        }
        let hub = Hub(replica: replica, limits: limits)
        if hub.holdsFieldModel { try replica.withConnection { try $0.execute(HubStore.createConsoleIndexes) } }
        return hub
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

    /// A device's hints of this exchange: remembered, written with the last-seen times.
    func noteHint(_ name: String, _ request: SyncRequest, atMillis now: Int64) {
        guard let hint = DeviceHint(request, nowMillis: now) else { return }
        seen.withLock { $0.hints[name] = hint }
    }

    /// Writes the remembered last-seen times (inside a transaction of the writer). Returns what
    /// it took, for `remember` to put back if the transaction does not commit.
    @discardableResult
    func flushLastSeen(access: CentralAccess) throws -> [String: Int64] {
        let (pending, hints) = seen.withLock { state -> ([String: Int64], [String: DeviceHint]) in
            defer { state.pending = [:]; state.hints = [:]; state.flushedAt = .now }
            return (state.pending, state.hints)
        }
        let store = HubStore(access)
        for (name, millis) in pending { try store.noteSeen(name, atMillis: millis) }
        for (name, hint) in hints { try store.setHint(hint, of: name) }
        return pending
    }

    /// Puts back last-seen times whose write did not commit (newer ones noted since are kept).
    private func remember(_ times: [String: Int64]) {
        seen.withLock { state in
            for (name, millis) in times { state.pending[name] = max(state.pending[name] ?? millis, millis) }
        }
    }

    /// Writes every remembered last-seen time now (`central serve` does when it stops).
    public func flushLastSeen() throws {
        guard seen.withLock({ !$0.pending.isEmpty || !$0.hints.isEmpty }) else { return }
        try writeLastSeen()
    }

    /// Writes them when the oldest has waited `lastSeenFlushInterval`. A failure (another
    /// process holds the file) keeps them for the next write: the exchange that called this has
    /// its answer already, and must not lose it for a last-seen time.
    func flushLastSeenIfDue() {
        let due = seen.withLock { !$0.pending.isEmpty && ContinuousClock.now - $0.flushedAt >= Self.lastSeenFlushInterval }
        guard due else { return }
        try? writeLastSeen()
    }

    private func writeLastSeen() throws {
        var taken: [String: Int64] = [:]
        do {
            try replica.centralTransaction { taken = try flushLastSeen(access: $0) }
        } catch {
            remember(taken)
            throw error
        }
    }

    // MARK: Devices

    /// Creates a device with its cells and returns its one-time token (only its hash is stored).
    public func enroll(device name: String, cells: [String], actor: String) throws -> Enrollment {
        try Self.checkDeviceName(name)
        let cells = try Self.checkCells(cells)
        var generator = SystemRandomNumberGenerator()
        let token = (0..<Self.tokenBytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        try replica.centralTransaction { access in
            let store = HubStore(access)
            guard try !store.deviceExists(name) else {
                throw SyncError(.alreadyExists, "device \"\(name)\" is already enrolled; revoke it first or choose another name")
            }
            try store.insertDevice(name, tokenHash: Self.hash(token), enrolledMillis: access.nowMillis)
            try store.setCells(cells, of: name)
            try Self.audit(access, actor: actor, action: "enroll", detail: "device \(name) cells \(cells.joined(separator: ","))")
        }
        return Enrollment(device: name, token: token, cells: cells)
    }

    /// Revokes a device at once: its token stops working and its later pushes are refused.
    /// With `wipe` (`lost` or `stolen`), the device is also told, at its next contact, to erase
    /// everything it holds, and says when it has (`DeviceInfo.wipe`).
    public func revoke(device name: String, actor: String, wipe: String? = nil) throws {
        if let wipe, !Self.wipeReasons.contains(wipe) {
            throw SyncError(.invalidInput, "a wipe's reason is lost or stolen, not \"\(wipe.prefix(20))\"")
        }
        try replica.centralTransaction { access in
            let store = HubStore(access)
            let found = try wipe.map { try store.requestWipe(name, reason: $0, atMillis: access.nowMillis) } ?? store.revoke(name)
            guard found else { throw SyncError(.notFound, "no device named \"\(name)\"") }
            try Self.audit(access, actor: actor, action: "revoke", detail: "device \(name)" + (wipe.map { "; wipe (\($0))" } ?? ""))
        }
    }

    public static let wipeReasons: Set<String> = ["lost", "stolen"]

    /// Replaces a device's cells. Cells it served before stay writable for its pushes, so work
    /// done offline before a reassignment is not lost.
    public func setCells(device name: String, cells: [String], actor: String) throws {
        let cells = try Self.checkCells(cells)
        try replica.centralTransaction { access in
            let store = HubStore(access)
            guard try store.deviceExists(name) else {
                throw SyncError(.notFound, "no device named \"\(name)\"")
            }
            try store.setCells(cells, of: name)
            try Self.audit(access, actor: actor, action: "cells", detail: "device \(name) cells \(cells.joined(separator: ","))")
        }
    }

    public func devices() throws -> [DeviceInfo] {
        let (pending, hints) = seen.withLock { ($0.pending, $0.hints) }
        // A device that only pulled may have been seen since its time was last written.
        return try replica.centralRead { try HubStore($0).devices() }.map { device in
            DeviceInfo(name: device.name, replica: device.replica, cells: device.cells, revoked: device.revoked, enrolledMillis: device.enrolledMillis,
                       lastSeenMillis: [device.lastSeenMillis, pending[device.name]].compactMap { $0 }.max(),
                       hint: hints[device.name] ?? device.hint, wipe: device.wipe)
        }
    }

    /// The audit log, newest last: (time, actor, action, detail).
    public func audit(limit: Int = 1_000) throws -> [(atMillis: Int64, actor: String, action: String, detail: String)] {
        try replica.centralRead { try HubStore($0).audit(limit: limit) }
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

    static func audit(_ access: CentralAccess, actor: String, action: String, detail: String) throws {
        try HubStore(access).appendAudit(atMillis: access.nowMillis, actor: actor, action: action, detail: detail)
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
