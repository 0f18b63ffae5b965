import SyncKit

/// The operations `remote_apply` feeds a fresh replica: written (untimed) by 4 other replicas
/// that each insert records, exchange their inserts, then update records of all four without
/// syncing again, so many updates are concurrent on the same records (a hot subset makes sure).
///
///     let workload = try RemoteWorkload.build(scratch: scratch, seed: 42)
///     workload.ops.count   // 100,000, shuffled with the seed
struct RemoteWorkload {
    static let writerCount = 4
    static let insertsPerWriter = 10_000
    static let updatesPerWriter = 15_000
    /// Records that a quarter of the updates go to, so that writers collide on them.
    static let hotRecordCount = 2_000
    /// The writers' manual clocks start here (2024-06-01) and advance 1 s per transaction: in
    /// the past of the receiving replica's system clock, so no op trips the drift bound.
    static let startMillis: Int64 = 1_717_200_000_000

    /// Exported with `Replica.operations()`, then shuffled with the seed.
    let ops: [Op]
    let insertCount: Int
    let updateCount: Int

    static func build(scratch: ScratchDirectory, seed: UInt64) throws -> RemoteWorkload {
        var generator = HouseholdGenerator(seed: seed)
        let paths = (0..<writerCount).map { _ in scratch.newPath("writer") }
        defer { for path in paths { scratch.remove(path) } }
        let (inserts, updates) = try write(paths: paths, seed: seed, generator: &generator)
        var ops = inserts + updates
        var shuffler = SplitMix64(seed: seed ^ 0x5EED)
        ops.shuffle(using: &shuffler)
        return RemoteWorkload(ops: ops, insertCount: inserts.count, updateCount: updates.count)
    }

    /// Runs the writers and returns their own inserts and updates. The replicas close on return.
    private static func write(paths: [String], seed: UInt64, generator: inout HouseholdGenerator) throws -> (inserts: [Op], updates: [Op]) {
        let clocks = paths.map { _ in ManualClock(millis: startMillis) }
        let writers = try paths.indices.map { try Fixture.openReplica(paths[$0], seed: seed &+ UInt64($0) &+ 1, clock: clocks[$0]) }

        var insertsByWriter: [[Op]] = []
        var ids: [EntityID] = []
        for (writer, clock) in zip(writers, clocks) {
            let households = (0..<insertsPerWriter).map { _ in generator.household() }
            for batch in households.chunks(of: Fixture.batchWritesMax) {
                try Fixture.insert(batch, into: writer)
                clock.advance(byMillis: 1_000)
            }
            ids += households.map(\.id)
            insertsByWriter.append(try ownOperations(of: writer))
        }
        for (index, writer) in writers.enumerated() {
            let others = insertsByWriter.indices.filter { $0 != index }.flatMap { insertsByWriter[$0] }
            let report = try writer.apply(others)
            guard report.applied == others.count else {
                throw BenchError("writer \(index) applied \(report.applied) of \(others.count) inserts from the others (\(report))")
            }
        }

        ids.shuffle(using: &generator)
        let hot = Array(ids.prefix(hotRecordCount))
        for _ in 0..<(updatesPerWriter / Fixture.batchWritesMax) {
            // The writers take turns, one transaction each, with clocks moving together: their
            // updates are concurrent with each other's, as on devices that do not sync.
            for (writer, clock) in zip(writers, clocks) {
                try writer.write { tx in
                    for _ in 0..<Fixture.batchWritesMax {
                        let id = generator.below(4) == 0 ? generator.pick(hot) : generator.pick(ids)
                        try update(tx, id, &generator)
                    }
                }
                clock.advance(byMillis: 1_000)
            }
        }

        var inserts: [Op] = [], updates: [Op] = []
        for (writer, own) in zip(writers, insertsByWriter) {
            let ops = try ownOperations(of: writer)
            inserts += own
            updates += ops.filter { $0.id.seq > UInt64(own.count) }
        }
        let expected = writerCount * (insertsPerWriter + updatesPerWriter)
        guard inserts.count + updates.count == expected else {
            throw BenchError("the writers logged \(inserts.count + updates.count) operations of their own; expected \(expected)")
        }
        return (inserts, updates)
    }

    /// One update of a mix like a field team's: mostly phones and names, status changes,
    /// visit counts, tags, notes.
    private static func update(_ tx: WriteTransaction, _ id: EntityID, _ generator: inout HouseholdGenerator) throws {
        let collection = Households.collection
        switch generator.below(100) {
        case ..<40: try tx.update(collection, id, ["phone": .text(generator.phone())])
        case ..<50: try tx.update(collection, id, ["head_name": .text(generator.name())])
        case ..<62: try tx.update(collection, id, ["status": .text(generator.status())])
        case ..<70: try tx.update(collection, id, ["member_count": .int(generator.memberCount())])
        case ..<85: try tx.increment(collection, id, "visit_count")
        case ..<95: try tx.add(collection, id, "tags", .text(generator.tag()))
        default: try tx.update(collection, id, ["notes": .text(generator.pick(HouseholdGenerator.notePool)), "status": .text(generator.status())])
        }
    }

    private static func ownOperations(of writer: Replica) throws -> [Op] {
        try writer.operations().filter { $0.id.replica == writer.id }
    }
}
