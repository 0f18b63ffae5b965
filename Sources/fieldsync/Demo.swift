import FieldKit
import Foundation
import SyncKit

/// The demo scenario: two collectors' devices work offline on the same households, then
/// exchange operation logs (as a bundle file or a sync would) and converge; the conflict they
/// made is shown and resolved.
struct Demo {
    let keepFiles: Bool

    static let households = CollectionSchema("households", cellField: "cell", fields: [
        .text("cell"), .text("doorplate_code"), .text("head_name", review: true), .int("member_count", review: true),
        .text("phone", review: true), .counter("visit_count"), .set("tags"),
    ])

    func say(_ text: String) { print(text) }

    func show(_ replica: Replica, _ name: String, _ id: EntityID) throws {
        guard let record = try replica.record("households", id) else { return say("  \(name): (no record)") }
        say("  \(name): head=\(record["head_name"]) phone=\(record["phone"]) members=\(record["member_count"]) visits=\(record["visit_count"]) tags=\(record.elements("tags").map(\.description))")
    }

    func run() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fieldsync-demo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { if !keepFiles { try? FileManager.default.removeItem(at: directory) } }
        let schema = try Schema([Self.households])
        let li = try Replica.open(path: directory.appendingPathComponent("li.db").path, schema: schema)
        let zhao = try Replica.open(path: directory.appendingPathComponent("zhao.db").path, schema: schema)

        let plate = try DoorplateCode(parsing: "js0412-00088")
        say("FieldSync demo: two collectors, one household, no network.\n")
        say("1. Collector Li registers a household at doorplate \(plate.canonical) (QR payload \(QRPayload.encode(plate))).")
        let id = try li.write {
            try $0.insert("households", ["cell": .text(plate.cellID), "doorplate_code": .text(plate.canonical),
                                         "head_name": "张伟", "member_count": 3, "phone": "13800138000"])
        }
        try show(li, "Li  ", id)

        say("\n2. Li's device syncs once, so Zhao's device has the household too.")
        try zhao.apply(try li.outbox())
        try show(zhao, "Zhao", id)

        say("\n3. Offline, both visit. Li fixes the phone and counts a visit; Zhao types another phone,")
        say("   adds a member, counts a visit and tags the household.")
        try li.write { tx in
            try tx.update("households", id, ["phone": "13800138001"])
            try tx.increment("households", id, "visit_count")
        }
        try zhao.write { tx in
            try tx.update("households", id, ["phone": "13912345678", "member_count": 4])
            try tx.increment("households", id, "visit_count")
            try tx.add("households", id, "tags", "elderly")
        }
        try show(li, "Li  ", id)
        try show(zhao, "Zhao", id)
        say("   unsynced changes: Li \(try li.unsyncedCount()), Zhao \(try zhao.unsyncedCount())")

        say("\n4. Back in coverage: each device applies the other's log (in any order, twice: harmless).")
        let fromLi = try li.operations(), fromZhao = try zhao.operations()
        let toZhao = try zhao.apply(fromLi.reversed() + fromLi)
        let toLi = try li.apply(fromZhao + fromZhao)
        say("   Zhao applied \(toZhao.applied) ops (\(toZhao.duplicates) duplicates ignored); Li applied \(toLi.applied) (\(toLi.duplicates) duplicates)")
        try show(li, "Li  ", id)
        try show(zhao, "Zhao", id)
        let digestLi = try li.digest(), digestZhao = try zhao.digest()
        say("   digests: Li \(digestLi.prefix(16))…  Zhao \(digestZhao.prefix(16))…  equal: \(digestLi == digestZhao)")

        say("\n5. The phone was changed concurrently: a deterministic winner is shown, and the conflict is kept for review.")
        for conflict in try li.conflicts() {
            say("   conflict on \(conflict.field) (review: \(conflict.review)): " + conflict.candidates.map { "\($0.value) [\($0.op.replica.hex.prefix(6))…]" }.joined(separator: " vs "))
        }

        say("\n6. An operator picks Li's number; the resolution is an ordinary op that reaches both devices.")
        guard let conflict = try li.conflicts().first,
              let pick = conflict.candidates.first(where: { $0.value == "13800138001" }) else {
            throw SyncError(.notFound, "the demo expected a phone conflict")
        }
        try li.write { try $0.resolve("households", id, "phone", pick: pick.op) }
        try zhao.apply(try li.operations())
        try show(li, "Li  ", id)
        try show(zhao, "Zhao", id)
        say("   open conflicts: Li \(try li.conflicts().count), Zhao \(try zhao.conflicts().count); digests equal: \(try li.digest() == zhao.digest())")
        if keepFiles {
            say("\nReplica files kept in \(directory.path): open them with `sqlite3 li.db 'SELECT * FROM households'`.")
        }
        guard try li.digest() == zhao.digest() else { throw SyncError(.corrupt, "the demo replicas did not converge") }
    }
}
