import Foundation

/// The device side of the sync protocol: what a transport needs from a replica.
extension Replica {
    /// Per grid cell, the last central sequence number applied (cells never synced are absent).
    public func syncCursors() throws -> [String: UInt64] {
        try withEngine { try $0.cursors() }
    }

    /// Central time minus this device's clock, as measured at the last sync.
    public func clockOffsetMillis() -> Int64 {
        withEngine { $0.clockOffsetMillis }
    }

    /// The request for the next exchange: the oldest unacknowledged local operations and the
    /// per-cell cursors.
    ///
    /// Everything is read in one read transaction: another process writing to the file (`fieldsync
    /// record set` while `fieldsync sync` runs) must not slip an operation between the digests and
    /// the outbox, or the node, having applied it, would find the digests differ and the cell
    /// would be taken again whole (found by the crash test).
    public func nextSyncRequest(pushOpsMax: Int = SyncProtocol.pushOpsMax, pullOpsMax: Int = SyncProtocol.pageOpsMax,
                                verify: Bool = false) throws -> SyncRequest {
        try withEngine { engine in
            let read = { () throws -> SyncRequest in
                let (cursors, bootstrapping) = (try engine.cursors(), try engine.bootstrapping())
                var digests: [String: String]?
                if verify {
                    digests = [:]
                    for cell in cursors.keys where !cell.isEmpty && bootstrapping[cell] == nil {
                        digests?[cell] = try engine.digest(collection: nil, cell: cell)
                    }
                }
                // Every local operation past the acknowledged one is in the outbox (compaction
                // keeps them), so the count needs no scan.
                let acked = try engine.ackedSeq
                let unsynced = Int(clamping: engine.localSeq > acked ? engine.localSeq - acked : 0)
                return SyncRequest(device: self.id, cursors: cursors, push: try engine.outbox(limit: pushOpsMax), pullOpsMax: pullOpsMax,
                                   digests: digests, snapshots: bootstrapping.isEmpty ? nil : bootstrapping, snapshotForm: SnapshotForm.newest,
                                   clockMillis: engine.options.clock.nowMillis(), unsynced: unsynced)
            }
            return engine.db.isInTransaction ? try read() : try engine.db.read(read)
        }
    }

    /// Takes a central reply in one transaction: acknowledges what the central node stored,
    /// applies the page, advances the cursors, records the clock offset, and lets go of the
    /// records of cells the device no longer serves (except records with unsynced local
    /// changes, which stay until they are pushed). A sync cut at any point took the whole reply
    /// or none of it, so the next exchange resumes without loss or double application.
    @discardableResult
    public func ingest(_ response: SyncResponse, for request: SyncRequest) throws -> ApplyReport {
        guard response.ops.count <= max(request.pullOpsMax, 0) else {
            throw SyncError(.invalidInput, "the central node sent \(response.ops.count) operations; this device asked for at most \(request.pullOpsMax)")
        }
        // The clock offset is taken from this reading: one that is not a time would push every
        // later stamp of this device to 1970 or to the end of the clock's range.
        guard response.serverTimeMillis >= 0, response.serverTimeMillis <= Int64(HLCTimestamp.millisMax) else {
            throw SyncError(.invalidInput, "the central node's clock reads \(response.serverTimeMillis) ms, which is not a time; the reply is damaged")
        }
        // Sequence numbers are SQLite integers: a cursor past Int64.max would trap where it is stored.
        if let (cell, cseq) = response.cursors.first(where: { $0.value > UInt64(Int64.max) }) {
            throw SyncError(.invalidInput, "the central node sent cursor \(cseq) for cell \(cell.prefix(40)), past the largest sequence number; the reply is damaged")
        }
        let report = try withEngineTransaction(origin: .remote) { engine in
            if engine.wipedMillis != nil {
                throw SyncError(.invalidInput, "this device's data was erased at the office's request (reported lost or stolen); it takes nothing more: enroll it again to use it")
            }
            guard response.acceptedThroughSeq <= engine.localSeq else {
                throw SyncError(.invalidInput,
                    "the central node says it stored this device's operations through \(response.acceptedThroughSeq), but this replica has written only \(engine.localSeq): was the replica file restored from a backup? Contact an operator")
            }
            let cursors = try engine.cursors()
            for (cell, cseq) in response.cursors where cseq < cursors[cell] ?? 0 {
                throw SyncError(.invalidInput,
                    "the central node moved this device's cursor for cell \(cell) back from \(cursors[cell] ?? 0) to \(cseq): was the central node restored from a backup? Contact an operator")
            }
            if response.acceptedThroughSeq > UInt64(try engine.state("acked_seq") ?? 0) {
                try engine.setState("acked_seq", Int64(response.acceptedThroughSeq))
            }
            try engine.noteHeld(response.held, atMillis: response.serverTimeMillis)
            // The clock offset first: the page is judged against the central node's time (a device
            // whose clock went back since its last sync would otherwise hold the page's operations
            // in its own quarantine, where nothing ever retries them).
            let offset = response.serverTimeMillis &- engine.options.clock.nowMillis()
            engine.clockOffsetMillis = offset
            try engine.setState("clock_offset", offset)
            var report = ApplyReport()
            // A snapshot's first page (a cell started, or a bundle's whole cell) replaces what the
            // device holds of the cell, unsent work aside: records the snapshot lacks (they left
            // the cell while the device did not follow its log) would otherwise stay, stale, for good.
            let retaken = Set(response.snapshots.filter { cell, snapshot in
                request.snapshots?[cell] == nil && cursors[cell].map { $0 <= snapshot.cseq } ?? true
            }.keys)
            if !retaken.isEmpty { try engine.evict(keepingCells: Set(response.cells).subtracting(retaken)) }
            for (cell, snapshot) in response.snapshots.sorted(by: { $0.key < $1.key }) {
                // A snapshot older than what the device holds of the cell (an old bundle) is not taken.
                if let have = cursors[cell], have > snapshot.cseq { continue }
                for record in snapshot.records {
                    try engine.install(record)
                    report.installed += 1
                }
                if let next = snapshot.next {
                    try engine.db.cached("INSERT OR REPLACE INTO _fs_bootstrap(cell, after) VALUES (?, ?)").run([.text(cell), .text(next)])
                } else {
                    try engine.db.cached("DELETE FROM _fs_bootstrap WHERE cell = ?").run([.text(cell)])
                }
            }
            try engine.applyRemote(batch: response.ops[...], report: &report)
            try engine.db.execute("DELETE FROM _fs_cursor")
            let resync = Set(response.resync)
            for (cell, cseq) in response.cursors where !resync.contains(cell) {
                try engine.db.cached("INSERT INTO _fs_cursor(cell, cseq) VALUES (?, ?)").run([.text(cell), .int(Int64(cseq))])
            }
            // Cells that left the scope, and cells that failed verification, are dropped; the
            // latter come back whole from cursor 0.
            try engine.evict(keepingCells: Set(response.cells).subtracting(resync))
            // The newest central time taken, so that a bundle carried late is known to be older.
            let newest = try engine.state("server_millis") ?? .min
            if response.serverTimeMillis > newest { try engine.setState("server_millis", response.serverTimeMillis) }
            // Whether the device is now caught up (compaction's rule for other replicas'
            // operations, section 4). A reply older than one already taken (a bundle carried
            // late) says nothing about where the device stands now: the flag stays as it was.
            if response.serverTimeMillis >= newest {
                let caughtUp = try request.pullOpsMax > 0 && !response.more && response.resync.isEmpty
                    && (try engine.db.scalar("SELECT count(*) FROM _fs_bootstrap")?.int ?? 0) == 0
                try engine.setState(Engine.caughtUpKey, caughtUp ? 1 : 0)
            }
            let caughtUp = try engine.state(Engine.caughtUpKey) == 1
            // Once caught up (the end of a sync), what the central node now holds need not stay in
            // the log (bounded work). Not part way: while a long outbox is being pushed, every
            // reply would look again at everything still unsent (it halved `push_http`).
            let allSent = try engine.state("acked_seq") ?? 0 >= Int64(engine.localSeq)
            if caughtUp && allSent && engine.options.compactOpsPerSyncMax > 0 { _ = try engine.compact(opsMax: engine.options.compactOpsPerSyncMax) }
            return report
        }
        truncateLogIfRecordsLeft()
        return report
    }

    /// After records left the device (cells it no longer serves, a cell taken again whole), the
    /// write-ahead log still holds their pages: a checkpoint that truncates it leaves their
    /// values nowhere in the files (`secure_delete` zeroed them in the database itself; Design.md
    /// section 4, "Personal data in the files"). A checkpoint that cannot run now (a reader holds
    /// the log) is left to SQLite's next automatic one.
    func truncateLogIfRecordsLeft() {
        withEngine { engine in
            guard engine.recordsLeft else { return }
            engine.recordsLeft = false
            try? engine.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        }
    }
}

/// One of this device's operations the central node holds for its operators instead of applying
/// it (a clock far ahead, a cell the device never served, a field the node does not know…): it
/// left the outbox, and the office releases or discards it.
public struct HeldOperation: Sendable, Equatable {
    public let op: OpID
    public let reason: String
    public let detail: String?
    /// The central node's time when it said so.
    public let heldMillis: Int64
}

extension Replica {
    /// The device's operations the central node said it holds, newest first (the last
    /// `Engine.heldRememberedMax`), for the collector to see what the office has to decide.
    public func heldByCentral(limit: Int = 100) throws -> [HeldOperation] {
        try withEngine { engine in
            let select = try engine.db.cached("SELECT seq, reason, detail, held_millis FROM _fs_held ORDER BY seq DESC LIMIT ?")
            defer { select.reset() }
            try select.bind([.int(Int64(max(0, limit)))])
            var result: [HeldOperation] = []
            while try select.step() {
                result.append(HeldOperation(op: OpID(replica: id, seq: UInt64(select.int64(at: 0))), reason: select.text(at: 1),
                                            detail: select.isNull(at: 2) ? nil : select.text(at: 2), heldMillis: select.int64(at: 3)))
            }
            return result
        }
    }
}

extension Engine {
    /// Held operations a device remembers (older ones are forgotten first).
    static let heldRememberedMax = 1_000

    /// Remembers which of this replica's operations a reply says the central node holds.
    func noteHeld(_ held: [SyncResponse.Held], atMillis millis: Int64) throws {
        var noted = false
        for entry in held where entry.op.replica == localID && entry.op.seq <= localSeq {
            try db.cached("INSERT OR REPLACE INTO _fs_held(seq, reason, detail, held_millis) VALUES (?, ?, ?, ?)")
                .run([.int(Int64(entry.op.seq)), .text(String(entry.reason.prefix(64))),
                      entry.detail.map { .text(String($0.prefix(1_000))) } ?? .null, .int(millis)])
            noted = true
        }
        if noted {
            try db.cached("DELETE FROM _fs_held WHERE seq <= coalesce((SELECT seq FROM _fs_held ORDER BY seq DESC LIMIT 1 OFFSET ?), 0)")
                .run([.int(Int64(Self.heldRememberedMax))])
        }
    }

    func cursors() throws -> [String: UInt64] {
        let select = try db.cached("SELECT cell, cseq FROM _fs_cursor")
        defer { select.reset() }
        var result: [String: UInt64] = [:]
        while try select.step() { result[select.text(at: 0)] = UInt64(select.int64(at: 1)) }
        return result
    }

    /// Cells whose snapshot is part way in, with the key to resume after.
    func bootstrapping() throws -> [String: String] {
        let select = try db.cached("SELECT cell, after FROM _fs_bootstrap")
        defer { select.reset() }
        var result: [String: String] = [:]
        while try select.step() { result[select.text(at: 0)] = select.text(at: 1) }
        return result
    }

    /// Removes the records (and their log entries and covers) of cells outside `cells`, except
    /// records with local operations not yet acknowledged. If the cell comes back, it comes back
    /// whole as a snapshot.
    func evict(keepingCells cells: Set<String>) throws {
        let acked = try state("acked_seq") ?? 0
        try db.cached("DELETE FROM _fs_bootstrap WHERE cell NOT IN (SELECT value FROM json_each(?))")
            .run([.text(JSONText.array(cells.sorted().map(Value.text)))])
        // Records with unacknowledged local operations stay (one range scan of the outbox).
        var pending = Set<String>()
        let unacked = try db.cached("SELECT DISTINCT collection, entity FROM _fs_op WHERE replica = ? AND seq > ?")
        defer { unacked.reset() }
        try unacked.bind([.int(StoreLayout.localReplicaIndex), .int(acked)])
        while try unacked.step() { pending.insert("\(unacked.int64(at: 0))/\(unacked.text(at: 1))") }
        for table in catalog.byName.values {
            guard let cellField = table.schema.cellField else { continue }
            // SQLite finds the rows outside the kept cells; usually there are none.
            let keep = JSONText.array(cells.sorted().map(Value.text))
            var doomed: [String] = []
            let live = try db.cached("SELECT id FROM \(table.table) WHERE coalesce(\(StoreLayout.quoted(cellField)), '') NOT IN (SELECT value FROM json_each(?))")
            defer { live.reset() }
            try live.bind([.text(keep)])
            while try live.step() { doomed.append(live.text(at: 0)) }
            let tombs = try db.cached("SELECT entity FROM _fs_tombstone WHERE collection = ? AND coalesce(cell, '') NOT IN (SELECT value FROM json_each(?))")
            defer { tombs.reset() }
            try tombs.bind([.int(table.id), .text(keep)])
            while try tombs.step() { doomed.append(tombs.text(at: 0)) }
            let leaving = doomed.filter { !pending.contains("\(table.id)/\($0)") }
            guard !leaving.isEmpty else { continue }
            recordsLeft = true
            for entity in leaving {
                if lastRecord?.key == RecordKey(collection: table.id, entity: entity) { lastRecord = nil }
                try db.cached(table.deleteSQL).run([.text(entity)])
                try db.cached("DELETE FROM _fs_tombstone WHERE collection = ? AND entity = ?").run([.int(table.id), .text(entity)])
                try db.cached("DELETE FROM _fs_conflict WHERE collection = ? AND entity = ?").run([.int(table.id), .text(entity)])
                try deleteCovers(table, EntityID(unchecked: entity))
                touched.append((table.schema.name, EntityID(unchecked: entity)))
            }
            // Their history leaves too (personal data of cells no longer served): one pass over the log.
            try db.cached("DELETE FROM _fs_op WHERE collection = ? AND entity IN (SELECT value FROM json_each(?))")
                .run([.int(table.id), .text(JSONText.array(leaving.map(Value.text)))])
        }
    }
}
