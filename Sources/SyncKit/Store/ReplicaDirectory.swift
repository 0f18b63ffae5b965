/// The replicas a file knows, each with a small local number so that merge metadata and the op
/// log store 1 to 3 bytes instead of 16 per reference. Entry 1 is the local replica.
final class ReplicaDirectory {
    private var indexByID: [ReplicaID: Int64] = [:]
    private var idByIndex: [Int64: ReplicaID] = [:]
    /// The last id looked up and its number: a record's metadata names one or two replicas
    /// again and again, and this spares hashing a 16-byte id each time.
    private var recent: (id: ReplicaID, index: Int64)?
    private let db: Connection

    init(db: Connection) throws {
        self.db = db
        try reload()
    }

    // Another process may register replicas in the same file (a bundle imported by the CLI
    // while `central serve` runs): a number or id missing here is looked up in the file before
    // it is called unknown.

    /// The local number of a replica, if it is known.
    func existingIndex(of id: ReplicaID) throws -> Int64? {
        if let recent, recent.id == id { return recent.index }
        if let index = indexByID[id] {
            recent = (id, index)
            return index
        }
        guard let index = try db.scalar("SELECT idx FROM _fs_replica WHERE id = ?", [.blob(id.bytes)])?.int else { return nil }
        remember(id, index)
        return index
    }

    /// The local number of a replica, registering it (inside the caller's transaction) if new.
    /// On rollback the caller must call `reload()`.
    func index(of id: ReplicaID) throws -> Int64 {
        if let index = try existingIndex(of: id) { return index }
        try db.cached("INSERT INTO _fs_replica(id) VALUES (?)").run([.blob(id.bytes)])
        let index = try db.scalar("SELECT idx FROM _fs_replica WHERE id = ?", [.blob(id.bytes)])!.int!
        remember(id, index)
        return index
    }

    func replica(at index: Int64) throws -> ReplicaID {
        if let recent, recent.index == index { return recent.id }
        if let id = idByIndex[index] {
            recent = (id, index)
            return id
        }
        guard let bytes = try db.scalar("SELECT id FROM _fs_replica WHERE idx = ?", [.int(index)])?.blob else {
            throw SyncError(.corrupt, "stored data names unknown replica number \(index)")
        }
        guard let id = ReplicaID(bytes: bytes) else { throw SyncError(.corrupt, "replica table holds an id that is not 16 bytes") }
        remember(id, index)
        return id
    }

    private func remember(_ id: ReplicaID, _ index: Int64) {
        indexByID[id] = index
        idByIndex[index] = id
    }

    /// Loads the entries from the file (again after a rolled-back transaction: entries it added
    /// are gone).
    func reload() throws {
        var byID: [ReplicaID: Int64] = [:], byIndex: [Int64: ReplicaID] = [:]
        let select = try db.prepare("SELECT idx, id FROM _fs_replica")
        while try select.step() {
            guard let id = ReplicaID(bytes: select.bytes(at: 1)) else {
                throw SyncError(.corrupt, "replica table holds an id that is not 16 bytes")
            }
            byID[id] = select.int64(at: 0)
            byIndex[select.int64(at: 0)] = id
        }
        indexByID = byID
        idByIndex = byIndex
        recent = nil
    }
}
