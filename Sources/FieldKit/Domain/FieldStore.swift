import Foundation
import SyncKit

/// The field domain on top of a SyncKit replica: doorplates, households, tasks and review
/// items as typed values, validated before they are written.
///
/// ```swift
/// let store = try FieldStore.open(path: "device.db")
/// let plate = try store.addDoorplate(DoorplateDraft(code: code, address: AddressNormalizer.parse("幸福路88号")))
/// switch try store.addHousehold(HouseholdDraft(doorplate: code, headName: "张伟", memberCount: 3)) {
/// case .created(let household): print(household.id)
/// case .suspects(let suspects): print("already registered?", suspects.map(\.household.headName))
/// }
/// try store.replica.apply(opsFromCentral)
/// try store.detectDuplicates()      // after every remote apply: raises review items
/// ```
///
/// Every method is one local write transaction (or a read); sync goes through `replica`.
/// Thread-safe: all state is in the replica, which serializes access.
public final class FieldStore: Sendable {
    /// The replica the store reads and writes; sync and digests go through it.
    public let replica: Replica
    /// Where "when" in task history and notes comes from.
    let clock: any PhysicalClock

    /// Wraps a replica opened with `FieldModel.schema` (or a schema that extends it).
    public init(replica: Replica, clock: any PhysicalClock = SystemClock()) {
        for collection in FieldModel.collections {
            precondition(replica.schema.collection(named: collection.name) != nil,
                         "FieldStore needs a replica opened with FieldModel.schema; \(collection.name) is missing")
        }
        self.replica = replica
        self.clock = clock
    }

    /// Opens (or creates) a replica file with `FieldModel.schema`.
    public static func open(path: String, options: ReplicaOptions = ReplicaOptions()) throws -> FieldStore {
        FieldStore(replica: try Replica.open(path: path, schema: FieldModel.schema, options: options), clock: options.clock)
    }

    /// The id this device writes into task history: the replica id in hex.
    public var deviceID: String { replica.id.hex }

    /// Records read per page when a whole cell or collection is scanned.
    static let pageRecordsMax = 1_000

    /// Milliseconds for history and notes: the device clock, but never behind the replica's
    /// hybrid logical clock (a phone reset to 1970 still writes a plausible time).
    func nowMillis() -> Int64 {
        max(clock.nowMillis(), Int64(replica.clock.millis))
    }

    /// Every live record of a collection (of one cell), page by page.
    func forEachRecord(_ collection: String, cell: GridCell?, _ body: (Record) throws -> Void) throws {
        var after: EntityID?
        while true {
            let page = try replica.records(collection, cell: cell?.id, after: after, limit: Self.pageRecordsMax)
            for record in page { try body(record) }
            guard page.count == Self.pageRecordsMax, let last = page.last else { return }
            after = last.id
        }
    }

    /// Conflicted field names by record id, for one collection.
    func conflictedFields(_ collection: String) throws -> [EntityID: [String]] {
        var result: [EntityID: [String]] = [:]
        for conflict in try replica.conflicts(collection: collection) {
            result[conflict.entity, default: []].append(conflict.field)
        }
        return result
    }

    func conflictedFields(_ collection: String, _ id: EntityID) throws -> [String] {
        try replica.conflicts(collection: collection).filter { $0.entity == id }.map(\.field)
    }

    /// The fields of `new` that differ from `old`: an edit writes only what the person changed,
    /// so a field they did not touch never becomes a conflict.
    static func changes(from old: [String: Value], to new: [String: Value]) -> [String: Value] {
        new.filter { old[$0.key] != $0.value }
    }
}
