import Foundation
import Testing
@testable import SyncKit

/// The wire JSON (`WireJSON`, the protocol's one codec): on seeded random messages, our bytes are
/// JSON to Foundation's parser, read back to the same message, and re-encode to themselves. On
/// failure the seed is printed. (The bytes themselves are held by the golden fixtures in
/// `Fixtures/protocol/`.)
struct WireJSONTests {
    struct Generator {
        var rng: SplitMix64

        mutating func below(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }

        mutating func text() -> String {
            let pool: [Unicode.Scalar] = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\u{0}", "\u{1F}", "\u{7F}", "é", "张", "伟", "\u{FEFF}",
                                          "\u{2028}", "😀", "𝄞", "{", "}", "[", ",", ":"]
            var s = String.UnicodeScalarView()
            for _ in 0..<below(12) { s.append(pool[below(pool.count)]) }
            return String(s)
        }

        mutating func value() -> Value {
            switch below(7) {
            case 0: return .null
            case 1: return .int([0, 1, -1, Int64.max, Int64.min, Int64(bitPattern: rng.next())][below(6)])
            case 2:
                let reals: [Double] = [0, -0.0, 1.5, -2.25e-8, 1e308, 5e-324, 0.1, Double(Int64(bitPattern: rng.next()) % 1_000_000) / 7]
                return .real(reals[below(reals.count)])
            case 3: return .bool(below(2) == 0)
            case 4: return .blob((0..<below(9)).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
            default: return .text(text())
            }
        }

        mutating func opID() -> OpID { OpID(replica: ReplicaID(high: rng.next(), low: rng.next()), seq: 1 + rng.next() % (UInt64(Int64.max) - 1)) }
        mutating func hlc() -> HLCTimestamp { HLCTimestamp(millis: rng.next() % HLCTimestamp.millisMax, counter: rng.next() % 1000) }
        mutating func ids() -> [OpID] { (0..<below(3)).map { _ in opID() } }

        mutating func op() -> Op {
            let assignments = (0..<1 + below(4)).map { _ -> Assignment in
                let change: Change = switch below(4) {
                case 0: .set(value(), prev: ids())
                case 1: .increment(Int64(bitPattern: rng.next()))
                case 2: .add(value())
                default: .remove(value(), tags: ids())
                }
                return Assignment(field: text(), change: change)
            }
            return Op(id: opID(), hlc: hlc(), collection: text(), entity: EntityID.random(using: &rng), assignments: assignments)
        }

        mutating func record() -> SnapshotRecord {
            func heads(_ g: inout Generator) -> [SnapshotRecord.Head] { (0..<g.below(3)).map { _ in .init(op: g.opID(), hlc: g.hlc(), value: g.value()) } }
            var registers: [String: SnapshotRecord.Register] = [:]
            for _ in 0..<below(4) { registers[text()] = .init(heads: heads(&self), pending: below(2) == 0 ? nil : [opID()]) }
            var sets: [String: SnapshotRecord.SetField] = [:]
            for _ in 0..<below(3) {
                sets[text()] = .init(elements: (0..<below(3)).map { _ in .init(value: value(), tags: [opID()]) },
                                     pending: below(2) == 0 ? nil : [.init(value: value(), tag: opID())])
            }
            // Pending lists that the compact form leaves out when empty are absent, not empty.
            for (name, register) in registers where register.heads.isEmpty && register.pending == nil { registers[name] = nil }
            for (name, set) in sets where set.elements.isEmpty && set.pending == nil { sets[name] = nil }
            return SnapshotRecord(collection: text(), entity: EntityID.random(using: &rng),
                                  covers: [ReplicaID(high: rng.next(), low: 1).hex: rng.next() % 1000],
                                  exists: .init(heads: [.init(op: opID(), hlc: hlc(), value: .bool(true))], pending: below(2) == 0 ? nil : [opID()]),
                                  registers: registers, counters: below(2) == 0 ? [:] : [text(): Int64(bitPattern: rng.next())], sets: sets)
        }

        mutating func response() -> SyncResponse {
            var snapshots: [String: CellSnapshot] = [:]
            for _ in 0..<below(3) { snapshots[text()] = CellSnapshot(cseq: rng.next() % 10_000, records: (0..<below(3)).map { _ in record() }, next: below(2) == 0 ? nil : text()) }
            return SyncResponse(serverTimeMillis: Int64(bitPattern: rng.next()), acceptedThroughSeq: rng.next(),
                                held: (0..<below(2)).map { _ in .init(op: opID(), reason: text()) }, ops: (0..<below(4)).map { _ in op() },
                                cursors: Dictionary([(text(), rng.next()), ("", 0)], uniquingKeysWith: { a, _ in a }), more: below(2) == 0, cells: [text(), text()], resync: [text()], snapshots: snapshots)
        }

        mutating func request() -> SyncRequest {
            SyncRequest(device: ReplicaID(high: rng.next(), low: rng.next()), cursors: [text(): rng.next()], push: (0..<below(4)).map { _ in op() },
                        pullOpsMax: below(2_000), digests: below(2) == 0 ? nil : [text(): text()], snapshots: below(2) == 0 ? nil : [text(): text()],
                        clockMillis: below(2) == 0 ? nil : Int64(below(1 << 40)), unsynced: below(2) == 0 ? nil : below(100_000))
        }
    }

    /// What is wrong with one message's round trip through the one codec (empty: nothing): its
    /// bytes must be JSON to an independent parser (Foundation's), read back to the same value,
    /// and encode again to the same bytes.
    static func check<T: WireMessage & Equatable>(_ message: T, seed: UInt64) throws -> [String] {
        var problems: [String] = []
        let ours = try SyncProtocol.encode(message)
        if (try? JSONSerialization.jsonObject(with: ours, options: [.fragmentsAllowed])) == nil { problems.append("our \(T.self) is not JSON to Foundation's parser") }
        if try SyncProtocol.decode(T.self, from: ours) != message { problems.append("we do not read back our \(T.self)") }
        if try SyncProtocol.encode(try SyncProtocol.decode(T.self, from: ours)) != ours { problems.append("\(T.self) does not re-encode to the same bytes") }
        return problems.map { "\($0) (FIELDSYNC_SEED=\(seed))" }
    }

    @Test func everyMessageRoundTripsThroughTheOneCodec() async throws {
        // On a thread of its own: a long synchronous loop on the cooperative pool starves the
        // suite's async tests. Problems come back and are recorded here, in the test's task.
        let problems = try await offPool { () -> [String] in
            var problems: [String] = []
            for seed in PropertySeeds.seeds(base: 0x4A50_0000, default: 200) {
                var g = Generator(rng: SplitMix64(seed: seed))
                problems += try Self.check(g.op(), seed: seed)
                problems += try Self.check(g.request(), seed: seed)
                problems += try Self.check(g.response(), seed: seed)
                problems += try Self.check(g.record(), seed: seed)
                problems += try Self.check(SyncErrorReply(code: g.text(), message: g.text()), seed: seed)
            }
            return problems
        }
        for problem in problems { Issue.record(Comment(rawValue: problem)) }
    }

    /// The compact snapshot form (`SnapshotForm.compact`) carries every record of a page exactly,
    /// re-encodes to the same bytes, and is smaller than the records spelled out.
    @Test func compactSnapshotPagesCarryTheirRecordsExactly() throws {
        var problems: [String] = []
        for seed in PropertySeeds.seeds(base: 0x4A51_0000, default: 300) {
            var g = Generator(rng: SplitMix64(seed: seed))
            var records = (0..<g.below(6)).map { _ in g.record() }
            // Records of one collection sharing field names, as a cell's households do.
            if g.below(2) == 0, let first = records.first {
                records = records.map { var r = $0; r.collection = first.collection; r.registers = first.registers; return r }
            }
            let page = CellSnapshot(cseq: g.rng.next() % 10_000, records: records, next: g.below(2) == 0 ? nil : g.text(), form: SnapshotForm.compact)
            let bytes = try SyncProtocol.encode(page)
            let decoded = try SyncProtocol.decode(CellSnapshot.self, from: bytes)
            if decoded.records != page.records { problems.append("records change through the compact form (FIELDSYNC_SEED=\(seed))") }
            if try SyncProtocol.encode(decoded) != bytes { problems.append("a compact page does not re-encode to the same bytes (FIELDSYNC_SEED=\(seed))") }
            if WireJSON.fitsCompact(records), decoded.form != SnapshotForm.compact { problems.append("a page that fits was not written compact (FIELDSYNC_SEED=\(seed))") }
        }
        for problem in problems { Issue.record(Comment(rawValue: problem)) }
    }

    @Test func compactPagesThatAreDamagedAreRefusedWithWhereItWentWrong() throws {
        let good = #"{"cseq":4,"fields":{"households":[["cell","r"]]},"form":2,"records":[[0,"JXC3BQGWJXBCXFY88R80QZ0Y88",[[0,2,1767225600000,1]],[[0,2]],true,["JS-0412"]]],"replicas":["00000000000000020000000000000002"]}"#
        #expect(try SyncProtocol.decode(CellSnapshot.self, from: Data(good.utf8)).records.first?.registers["cell"]?.heads.first?.value == "JS-0412")
        let cases: [(String, String)] = [
            (good.replacingOccurrences(of: #""form":2"#, with: #""form":3"#), "snapshot form 3 is unknown"),
            (good.replacingOccurrences(of: "[[0,2]]", with: "[[5,2]]"), "replica 5 is not in replicas"),
            (good.replacingOccurrences(of: #"["JS-0412"]]]"#, with: #"["JS-0412",1]]]"#), "has 2 entries for the 1 fields"),
            (good.replacingOccurrences(of: "[[0,2,1767225600000,1]]", with: "[]"), "names ref 0, and the record lists no refs"),
            (good.replacingOccurrences(of: #"[[0,"JXC3"#, with: #"[[4,"JXC3"#), "collection 4 is not in the page's fields"),
            (good.replacingOccurrences(of: #""r"]"#, with: #""x"]"#), "a field kind is r, c or s"),
        ]
        for (text, says) in cases {
            let error = #expect(throws: SyncError.self) { try SyncProtocol.decode(CellSnapshot.self, from: Data(text.utf8)) }
            #expect(error?.message.contains(says) == true, "\(says): \(error?.message ?? "no error")")
        }
    }

    @Test func malformedJSONIsRefusedWithWhereItWentWrong() throws {
        let cases: [(String, String)] = [
            (#"{"protocol":1,"#, "expected a quoted key at byte 14"),
            (#"{"protocol":01}"#, "leading zero"),
            (#"[1,]"#, "unexpected character"),
            (#"{"a":"\ud800"}"#, "lone UTF-16 surrogate"),
            ("{\"a\":\"tab\u{9}inside\"}", "control character"),
            (#"{"a":1} x"#, "after the JSON value"),
            (String(repeating: "[", count: 100) + String(repeating: "]", count: 100), "nested deeper than 64"),
            (#"{"cursors":{},"device":"00000000000000010000000000000001","protocol":2,"pullOpsMax":1,"push":[]}"#, "protocol version 2; this build speaks version 1"),
            (#"{"cursors":{"C1":-3},"device":"00000000000000010000000000000001","protocol":1,"pullOpsMax":1,"push":[]}"#, "unsigned 64-bit integer, got -3 at cursors.C1"),
            (#"{"cursors":{},"device":"00000000000000010000000000000001","protocol":1,"push":[]}"#, "missing key \"pullOpsMax\""),
            (#"{"cursors":{},"device":"xyz","protocol":1,"pullOpsMax":1,"push":[]}"#, "replica id \"xyz\" is not 32 hex digits at device"),
        ]
        for (text, says) in cases {
            let error = #expect(throws: SyncError.self, "\(text.prefix(40))") { try SyncProtocol.decode(SyncRequest.self, from: Data(text.utf8)) }
            #expect(error?.message.contains(says) == true, "\(text.prefix(40)): \(error?.message ?? "no error")")
        }
        var bytes = Array(#"{"a":"x"}"#.utf8)
        bytes[6] = 0xFF
        let invalid = #expect(throws: SyncError.self) { try SyncProtocol.decode(SyncRequest.self, from: Data(bytes)) }
        #expect(invalid?.message.contains("not valid UTF-8") == true)
    }
}
