import SyncKit

/// The FieldKit schema: doorplates, households, tasks and review items, as SyncKit collections.
///
/// ```swift
/// let replica = try Replica.open(path: "device.db", schema: FieldModel.schema)
/// let store = FieldStore(replica: replica)
/// // or extend it: try Schema(FieldModel.collections + [myCollection])
/// ```
///
/// Every collection has a text register `cell` declared as its cell field (SyncKit indexes it and
/// digests per cell). Text is stored exactly as typed; the `*_key` fields hold matching keys
/// computed at write time (`AddressNormalizer`, `TextNormalizer.normalizedName`), so duplicate
/// search compares short keys of one cell instead of re-normalizing every record.
///
/// - `doorplates`: natural key `code` (the canonical doorplate code, so two devices that create
///   the same plate offline create one record and its details merge field by field). Address
///   parts are `review` registers; `status` is the `DoorplateStatus` lifecycle.
/// - `households`: random ids. `head_name`, `member_count` and `phone` are `review` registers;
///   they, the name's matching key and `notes` are `personal` (what an erasure removes; the
///   dwelling, cell, status, visits and tags say where and how a household was served, not who);
///   `visit_count` is a counter; `visit_days` (the last visit is the latest), `tags` and
///   `distinct_from` (ids the collector saw as suspects and still chose to create this household
///   beside) are add-wins sets. A register for the last visit would let the later clock win
///   over the later day.
/// - `tasks`: random ids (`notes`, free text about a visit, is `personal`); `status` is the
///   `TaskStatus` lifecycle (review); `history` and `notes`
///   are add-wins sets of entries, so concurrent transitions and notes are all kept.
/// - `review_items`: natural key (`kind`, `first_id`, `second_id`) with the pair sorted, so every
///   replica that detects the same duplicate creates the same record.
public enum FieldModel {
    public static let doorplates = "doorplates"
    public static let households = "households"
    public static let tasks = "tasks"
    public static let reviewItems = "review_items"

    /// Doorplate codes normalize to their canonical form; anything else (never written by
    /// FieldStore) falls back to SyncKit's default.
    static let doorplateKey = NaturalKey(fields: ["code"], normalizer: "doorplate-code") { text in
        (try? DoorplateCode(parsing: text))?.canonical ?? NaturalKey.defaultNormalize(text)
    }

    public static let doorplateCollection = CollectionSchema(doorplates, cellField: "cell", naturalKey: doorplateKey, fields: [
        .text("code"), .text("cell"),
        .text("district", review: true), .text("street", review: true), .text("building_number", review: true),
        .text("block", review: true), .text("unit", review: true), .text("floor", review: true),
        .text("room", review: true), .text("remainder"), .text("address_key"),
        .real("latitude"), .real("longitude"),
        .lifecycle("status", DoorplateStatus.lifecycle, review: true),
        .text("installed_on"), .text("notes"),
    ])

    public static let householdCollection = CollectionSchema(households, cellField: "cell", fields: [
        .text("cell"), .text("doorplate"), .text("unit"), .text("room"), .text("dwelling_key"),
        .text("head_name", review: true, personal: true), .text("head_name_key", personal: true),
        .int("member_count", review: true, personal: true), .text("phone", review: true, personal: true),
        .text("status"), .counter("visit_count"), .set("visit_days"),
        .set("tags"), .set("distinct_from"), .text("notes", personal: true),
        // Set on a household merged into another (then deleted): the redirect.
        .text("merged_into"),
    ])

    public static let taskCollection = CollectionSchema(tasks, cellField: "cell", fields: [
        .text("cell"), .text("kind"), .text("target"), .text("assignee"), .text("priority"), .text("due_on"),
        .lifecycle("status", TaskStatus.lifecycle, review: true), .text("completed_by"),
        .set("notes", personal: true), .set("history"),
    ])

    static let reviewStatus: Lifecycle = {
        do {
            return try Lifecycle(initial: ["open"], transitions: ["open": ["dismissed", "resolved"]],
                                 precedence: ["open", "dismissed", "resolved"])
        } catch {
            preconditionFailure("review lifecycle table is malformed: \(error)")
        }
    }()

    public static let reviewItemCollection = CollectionSchema(
        reviewItems, cellField: "cell", naturalKey: NaturalKey(fields: ["kind", "first_id", "second_id"], normalizer: "identity") { $0 },
        fields: [
            .text("cell"), .text("kind"), .text("first_id"), .text("second_id"), .text("reason"),
            .lifecycle("status", reviewStatus), .text("kept_id"),
        ])

    /// The household fields duplicate suspicion reads: an operation that writes none of them (a
    /// visit counted, a phone or a note edited) and does not bring a deleted household back
    /// cannot make a new suspected pair, so the central node need not look for one after it.
    /// (Every write also assigns the existence register, so that alone says nothing.)
    public static let duplicateMatchingFields: Set<String> = ["cell", "dwelling_key", "head_name_key", "distinct_from"]

    /// The four collections, for apps that extend the schema with their own.
    public static let collections = [doorplateCollection, householdCollection, taskCollection, reviewItemCollection]

    /// The schema a FieldKit replica is opened with.
    public static let schema: Schema = {
        do {
            return try Schema(collections)
        } catch {
            preconditionFailure("FieldKit schema is malformed: \(error)")
        }
    }()
}
