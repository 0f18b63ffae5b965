import Foundation
import Testing
@testable import SyncKit

struct SchemaEvolutionTests {
    @Test func addingACollectionAndANullableFieldKeepsRecordsAndOldOps() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("r.db").path
        let v1 = try Schema([TestSchema.items])
        var id: EntityID
        do {
            let (replica, _) = try makeReplica(1, schema: v1, path: path)
            id = try replica.write { try $0.insert("items", ["cell": "C1", "name": "old"]) }
        }
        let v2 = try Schema([CollectionSchema("items", cellField: "cell", fields: TestSchema.items.fields + [.text("remark"), .counter("checks")]),
                             TestSchema.plates])
        let (replica, _) = try makeReplica(1, schema: v2, path: path)
        let record = try #require(try replica.record("items", id))
        #expect(record["name"] == "old")
        #expect(record["remark"] == .null)
        #expect(record["checks"] == 0)
        try replica.write { tx in
            try tx.update("items", id, ["remark": "new field"])
            try tx.increment("items", id, "checks")
            try tx.insert("plates", ["code": "Z9", "cell": "C1"])
        }
        #expect(try replica.record("items", id)?["remark"] == "new field")
        // Old ops replay on a fresh replica of the new schema.
        let (fresh, _) = try makeReplica(2, schema: v2)
        try deliver(replica, to: fresh)
        #expect(try fresh.digest() == replica.digest())
    }

    @Test func changingAFieldTypeOrPolicyIsRefusedWithAClearMessage() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("r.db").path
        _ = try makeReplica(1, schema: try Schema([TestSchema.items]), path: path)
        let changed = try Schema([CollectionSchema("items", cellField: "cell", fields: TestSchema.items.fields.map {
            $0.name == "size" ? .text("size") : $0
        })])
        let error = #expect(throws: SyncError.self) { _ = try makeReplica(1, schema: changed, path: path) }
        #expect(error?.code == .schemaMismatch)
        #expect(error?.message.contains("items.size") == true)
        let dropped = try Schema([CollectionSchema("items", cellField: "cell", fields: TestSchema.items.fields.filter { $0.name != "flag" })])
        let dropError = #expect(throws: SyncError.self) { _ = try makeReplica(1, schema: dropped, path: path) }
        #expect(dropError?.message.contains("items.flag") == true)
    }

    @Test func addingAFieldDoesNotRewriteExistingRows() throws {
        // ALTER TABLE ADD COLUMN of a nullable column changes only the schema: the table's pages
        // are untouched, so the cost does not grow with the number of rows.
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("r.db").path
        do {
            let (replica, _) = try makeReplica(1, schema: try Schema([TestSchema.items]), path: path)
            try replica.write { tx in for n in 0..<2_000 { try tx.insert("items", ["cell": "C1", "name": .text("n\(n)")]) } }
        }
        let pagesBefore = try Connection(path: path).scalar("PRAGMA page_count")?.int
        let changesBefore = try Connection(path: path).scalar("PRAGMA data_version")
        _ = changesBefore
        let v2 = try Schema([CollectionSchema("items", cellField: "cell", fields: TestSchema.items.fields + [.text("remark")])])
        let (replica, _) = try makeReplica(1, schema: v2, path: path)
        #expect(try replica.records("items", limit: 5_000).count == 2_000)
        let pagesAfter = try Connection(path: path).scalar("PRAGMA page_count")?.int
        #expect(pagesAfter == pagesBefore)
    }

    @Test func invalidSchemasAreRefusedWhenDeclared() {
        #expect(throws: SyncError.self) { try Schema([CollectionSchema("Bad Name", fields: [])]) }
        #expect(throws: SyncError.self) { try Schema([CollectionSchema("a", fields: [.text("x"), .int("x")])]) }
        #expect(throws: SyncError.self) { try Schema([CollectionSchema("a", cellField: "nope", fields: [.text("x")])]) }
        #expect(throws: SyncError.self) { try Schema([CollectionSchema("a", naturalKey: NaturalKey(fields: ["t"]), fields: [.set("t")])]) }
        #expect(throws: SyncError.self) { try Schema([CollectionSchema("a", fields: [.text("id")])]) }
        #expect(throws: SyncError.self) { try Lifecycle(initial: ["x"], transitions: [:], precedence: ["a"]) }
    }
}
