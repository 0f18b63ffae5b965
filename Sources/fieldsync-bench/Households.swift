import SyncKit

/// The household collection the benchmarks write: the shape of a census field app's main
/// record (registers, review fields, a counter and a set), and the plain table SQLite would
/// hold for it.
enum Households {
    static let collection = "households"

    static let schema = CollectionSchema(collection, cellField: "cell", fields: [
        .text("cell"), .text("doorplate_code"), .text("unit_room"), .text("head_name", review: true),
        .int("member_count", review: true), .text("phone", review: true), .text("status"),
        .counter("visit_count"), .text("last_visit_date"), .set("tags"), .text("notes"),
    ])

    static func replicaSchema() throws -> Schema { try Schema([schema]) }

    /// Replica options for one benchmark replica: seeded ids, default chunking and limits, and
    /// the system clock (what an app pays for reading time) unless a clock is given.
    static func options(seed: UInt64, clock: (any PhysicalClock)? = nil) -> ReplicaOptions {
        var options = ReplicaOptions()
        options.randomSeed = seed
        if let clock { options.clock = clock }
        return options
    }
}
