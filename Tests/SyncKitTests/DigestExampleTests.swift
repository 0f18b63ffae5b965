import Foundation
import Testing
@testable import SyncKit

/// The worked example of PROTOCOL.md, "Digest": a replica with one record of every kind of
/// field and one conflict, whose cell digest the document derives byte by byte. A client in
/// another language checks its digest code against these figures (the Python client does, in
/// `make test`).
struct DigestExampleTests {
    static let schema = try! Schema([
        CollectionSchema("notes", cellField: "cell", fields: [
            .text("cell"), .text("title", review: true), .counter("views"), .set("tags"), .real("score"),
        ]),
    ])

    /// The example's record: written by replica 1 at 2026-01-01, then a concurrent title from
    /// replica 2 (a conflict), then a tag added.
    static func exampleReplica() throws -> Replica {
        let clock = ManualClock(millis: testEpochMillis)
        let (a, _) = try makeReplica(1, clock: clock, schema: schema)
        let (b, _) = try makeReplica(2, clock: clock, schema: schema)
        let id = try EntityID("N1")
        try a.write { tx in
            _ = try tx.insert("notes", id: id, ["cell": "C1", "title": "Hello", "score": 1.5], elements: ["tags": ["b", "a"]])
            try tx.increment("notes", id, "views", by: 2)
        }
        try b.apply(try a.operations())
        clock.advance(byMillis: 1_000)
        try a.write { try $0.update("notes", id, ["title": "Hi"]) }
        try b.write { try $0.update("notes", id, ["title": "Hey"]) }
        try a.apply(try b.operations())
        return a
    }

    @Test func theWorkedExampleHasTheDocumentedBytesAndDigest() throws {
        let replica = try Self.exampleReplica()
        // The record's canonical bytes, as PROTOCOL.md spells them.
        var record = ByteWriter()
        record.write("N1"); record.write(byte: 1)
        record.write("cell"); record.write(Value.text("C1"))
        record.write("score"); record.write(Value.real(1.5))
        record.write("tags"); record.write(Value.text(#"["a","b"]"#))
        record.write("title"); record.write(Value.text("Hey"))
        record.write("views"); record.write(Value.int(2))
        record.write("title"); record.writeVarint(2); record.write(Value.text("Hey")); record.write(Value.text("Hi"))
        var collection = ByteWriter()
        collection.write("notes"); collection.writeVarint(1)
        let collectionDigest = SHA256.hash(collection.bytes + SHA256.hash(record.bytes))
        let cellDigest = Hex.encode(SHA256.hash(collectionDigest))
        #expect(try replica.digest(cell: "C1") == cellDigest)
        #expect(Hex.encode(record.bytes) == Self.recordHex, "\(Hex.encode(record.bytes))")
        #expect(cellDigest == Self.cellDigest, "\(cellDigest)")
    }

    static let recordHex = "024e31010463656c6c030243310573636f7265023ff8000000000000047461677303095b2261222c2262225d057469746c6503034865790576696577730104057469746c6502030348657903024869"
    static let cellDigest = "bdc3439e415bc0b34d13008d3240fe2693f1982442ffec5cb1cb1466ec1f9b8d"
}
