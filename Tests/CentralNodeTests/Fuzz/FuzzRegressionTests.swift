import FuzzChecks
import FieldKit
import Foundation
import Testing
@testable import CentralNode
@testable import SyncKit

/// Inputs the fuzzer and the crash test (Tests/CLITests/CrashRestartTests.swift) found, minimized
/// by hand and kept with the behaviour they now get. The first four crashed the process (a Swift
/// trap) before their fix; the others returned a wrong result, and are fixed too.
struct FuzzRegressionTests {
    /// Found by `hub.sync`: a device with a valid token sent a cursor of 2^64 - 1; the hub bound
    /// it to SQLite with `Int64(cursor)` and the central node's process died (Hub+Sync.swift).
    @Test func aRequestWithACursorPastTheLargestSequenceNumberIsRefusedNotATrap() throws {
        let world = try FuzzWorld()
        let device = world.zhao.replica.id.hex
        let before = try Fuzzer.contents(of: world.hub.replica)
        for cursor in ["9223372036854775808", "18446744073709551615"] {
            let body = #"{"cursors":{"JS-0412":\#(cursor)},"device":"\#(device)","protocol":1,"pullOpsMax":100,"push":[]}"#
            let request = try SyncProtocol.decode(SyncRequest.self, from: Data(body.utf8))
            let error = #expect(throws: SyncError.self) { try world.hub.handle(request, token: world.tokens["zhao"]!) }
            #expect(error?.code == .invalidInput)
            #expect(error?.message.contains("past the largest sequence number") == true, "\(error?.message ?? "")")
            // The same request carried in a bundle file.
            let bundle = FuzzTests.seal(Array(body.utf8), kind: .devicePush, device: world.zhao.replica.id)
            #expect(throws: SyncError.self) { try world.hub.importBundle(bundle, device: "zhao", actor: "fuzz") }
        }
        #expect(try Fuzzer.contents(of: world.hub.replica) == before)
        // The largest sequence number SQLite holds is still a cursor.
        let largest = #"{"cursors":{"JS-0412":9223372036854775807},"device":"\#(device)","protocol":1,"pullOpsMax":100,"push":[]}"#
        let request = try SyncProtocol.decode(SyncRequest.self, from: Data(largest.utf8))
        #expect(try world.hub.handle(request, token: world.tokens["zhao"]!).ops.isEmpty)
    }

    /// Found by `device.ingest`: a reply moving a cursor to 2^63 trapped in `Replica.ingest`
    /// (Replica+Sync.swift, `Int64(cseq)`) after the page was applied.
    @Test func aReplyWithACursorPastTheLargestSequenceNumberIsRefusedWithNothingWritten() throws {
        let world = try FuzzWorld()
        let before = try Fuzzer.contents(of: world.li.replica)
        let body = #"{"acceptedThroughSeq":0,"cells":["JS-0412"],"cursors":{"":9223372036854775808},"held":[],"more":false,"ops":[],"protocol":1,"serverTimeMillis":1767225600000}"#
        let response = try SyncProtocol.decode(SyncResponse.self, from: Data(body.utf8))
        let request = try world.li.replica.nextSyncRequest()
        let error = #expect(throws: SyncError.self) { try world.li.replica.ingest(response, for: request) }
        #expect(error?.message.contains("past the largest sequence number") == true, "\(error?.message ?? "")")
        // The same reply carried in a bundle file.
        let bundle = FuzzTests.seal(Array(body.utf8), kind: .centralPull, device: world.li.replica.id)
        #expect(throws: SyncError.self) { try world.li.replica.importBundle(bundle) }
        #expect(try Fuzzer.contents(of: world.li.replica) == before)
    }

    /// Found by `bundle.device-import`: a reply whose `serverTimeMillis` was -2^63 set the
    /// device's clock offset so far out that the next operation stamped ahead of it overflowed
    /// computing how far ahead it was (Engine+Remote.swift, the drift message).
    @Test func aReplyWhoseClockIsNotATimeIsRefusedWithNothingWritten() throws {
        let world = try FuzzWorld()
        let before = try Fuzzer.contents(of: world.li.replica)
        for millis in ["-9223372036854775808", "-1", "9223372036854775807"] {
            let body = #"{"acceptedThroughSeq":0,"cells":["JS-0412"],"cursors":{},"held":[],"more":false,"ops":[],"protocol":1,"serverTimeMillis":\#(millis)}"#
            let response = try SyncProtocol.decode(SyncResponse.self, from: Data(body.utf8))
            let request = try world.li.replica.nextSyncRequest()
            let error = #expect(throws: SyncError.self) { try world.li.replica.ingest(response, for: request) }
            #expect(error?.message.contains("not a time") == true)
        }
        #expect(try Fuzzer.contents(of: world.li.replica) == before)
    }

    /// The crash site itself: a device whose time reads far before 1970 quarantines an operation
    /// stamped today (it is beyond the drift bound) instead of overflowing.
    @Test func anOperationFarAheadOfAClockFarInThePastIsQuarantinedNotATrap() throws {
        var options = ReplicaOptions()
        options.clock = ManualClock(millis: Int64.min + 1)
        options.replicaID = ReplicaID(high: 9, low: 9)
        let replica = try Replica.open(path: ":memory:", schema: FieldModel.schema, options: options)
        // The record id is the one the code derives (a wrong one is quarantined as invalid first).
        let entity = try replica.naturalID("doorplates", ["code": "JS0412-00088"])
        let op = try SyncProtocol.decode(Op.self, from: Data(#"""
            {"assignments":[{"field":"_exists","prev":[],"set":{"bool":true}},{"field":"code","prev":[],"set":{"text":"JS0412-00088"}},{"field":"cell","prev":[],"set":{"text":"JS-0412"}}],"collection":"doorplates","entity":"ENTITY","hlc":"1767225600000.0","id":"00000000000000020000000000000002.1"}
            """#.replacingOccurrences(of: "ENTITY", with: entity.rawValue).utf8))
        let report = try replica.apply([op])
        #expect(report.quarantined == 1)
        #expect(try replica.quarantined().first?.reason == .clockDrift)
    }

    /// Found by `bundle.hub-import` (FIELDSYNC_SEED=1): a pushed increment of -2^63 trapped in
    /// the limit check `abs(delta)` (Engine+Remote.swift) and took the central node down; the
    /// same check guarded local increments and a counter's starting value (WriteTransaction.swift),
    /// which `fieldsync record set … visit_count+=-9223372036854775808` reached.
    @Test func anIncrementOfTheSmallestInt64IsHeldOrRefusedNotATrap() throws {
        let world = try FuzzWorld()
        let household = try #require(try world.zhao.households().first?.id.rawValue)
        let wang = ReplicaID(high: 3, low: 3)
        let token = try world.hub.enroll(device: "wang", cells: ["JS-0412"], actor: "fuzz").token
        let body = #"{"cursors":{},"device":"\#(wang.hex)","protocol":1,"pullOpsMax":100,"push":[{"assignments":[{"field":"visit_count","increment":-9223372036854775808}],"collection":"households","entity":"\#(household)","hlc":"1767225601000.0","id":"\#(wang.hex).1"}]}"#
        let request = try SyncProtocol.decode(SyncRequest.self, from: Data(body.utf8))
        // Held as invalid, or the push refused whole (422): either way an answer, not a trap.
        do {
            let response = try world.hub.handle(request, token: token)
            #expect(response.held.map(\.reason) == ["invalid"])
        } catch let refusal as SyncRefusal {
            #expect(refusal.code == "invalid" && refusal.refusesPush, "\(refusal)")
        }

        let report = try world.li.replica.apply(request.push)
        #expect(report.quarantined == 1)
        let id = try EntityID(household)
        #expect(throws: SyncError.self) { try world.zhao.replica.write { try $0.increment("households", id, "visit_count", by: .min) } }
        #expect(throws: SyncError.self) {
            try world.zhao.replica.write { _ = try $0.insert("households", ["cell": .text("JS-0412"), "visit_count": .int(.min)]) }
        }
    }

    /// Found by `enrollment.payload`: a URL of characters that are percent-encoded twice (once
    /// by URL, once by the payload) makes a payload longer than `lengthMax`, so an operator could
    /// print a code no device accepts. Fixed: `init(url:token:)` refuses a URL whose payload
    /// would be too long, saying to shorten it; a payload that is accepted always reads back.
    @Test func anAcceptedEnrollmentPayloadReadsBackFromItsOwnText() throws {
        let input = "fieldsync:enroll?v=1&token=3f9a0c1d2e3f405162738495a6b7c8d9&url=https://node.example/" + String(repeating: "[", count: 500)
        let refused = #expect(throws: SyncError.self) { try EnrollmentPayload(parsing: input) }
        #expect(refused?.message.contains("use a shorter URL") == true)
        let fine = try EnrollmentPayload(parsing: "fieldsync:enroll?v=1&token=3f9a0c1d2e3f405162738495a6b7c8d9&url=https://node.example/" + String(repeating: "[", count: 100))
        #expect(try EnrollmentPayload(parsing: fine.text) == fine)
    }

    /// Found by the crash test: every `fieldsync` command is a process that reopens the replica,
    /// and the clock resumes from its persisted lease (`Engine.hlcLeaseMillis`, 10 s ahead of the
    /// last stamp), so each command's stamps are 10 s later than the last one's. After about 60
    /// quick commands a collector's operations are stamped more than `driftMillisMax` (10 min)
    /// ahead and the central node holds them all (clockDrift); the verify that follows drops them
    /// from the device. Fixed (Engine.init): the clock resumes from the last stamp issued.
    @Test func reopeningAReplicaDoesNotMoveItsClockAhead() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fieldsync-lease-\(UUID().uuidString).db").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let clock = ManualClock(millis: FuzzWorld.epochMillis)
        var options = ReplicaOptions()
        options.clock = clock
        var last = HLCTimestamp.zero
        for command in 0..<70 {
            let replica = try Replica.open(path: path, schema: FieldModel.schema, options: options)
            try replica.write { _ = try $0.insert("households", ["cell": .text("JS-0412"), "head_name": .text("户主\(command)")]) }
            last = replica.clock
            clock.advance(byMillis: 30)   // one `fieldsync record set` every 30 ms
        }
        let aheadMillis = Int64(last.millis) - clock.nowMillis()
        #expect(aheadMillis < options.driftMillisMax, "stamps run \(aheadMillis / 1000) s ahead after 70 commands")
    }

    /// Found by the crash test: `fieldsync sync` and `fieldsync record set` are two processes on
    /// one replica file. The sync's replica read its last sequence number when it opened; the
    /// writer then commits more, the sync pushes them (its outbox reads the file) and the central
    /// node acknowledges them; `ingest` compares the acknowledgement with the stale number and
    /// refuses the reply ("was the replica file restored from a backup?", exit 2). Nothing is
    /// lost (the next sync pushes again), but no sync concurrent with a write succeeded. Fixed
    /// (Engine.transaction continues after operations another process wrote).
    @Test func aSyncAcceptsAcknowledgementsOfOperationsWrittenByAnotherProcess() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fieldsync-stale-\(UUID().uuidString).db").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let world = try FuzzWorld()
        let token = try world.hub.enroll(device: "tablet", cells: ["JS-0412"], actor: "fuzz").token
        var options = ReplicaOptions()
        options.clock = world.clock
        let syncing = try Replica.open(path: path, schema: FieldModel.schema, options: options)   // `fieldsync sync`
        let writing = try Replica.open(path: path, schema: FieldModel.schema, options: options)   // `fieldsync record set`
        try writing.write { _ = try $0.insert("households", ["cell": .text("JS-0412"), "visit_count": .int(1)]) }
        let request = try syncing.nextSyncRequest()
        #expect(request.push.count == 1)
        let response = try world.hub.handle(request, token: token)
        #expect(response.acceptedThroughSeq == 1)
        try syncing.ingest(response, for: request)
        #expect(try syncing.unsyncedCount() == 0)
    }

    /// Found by `bundle.device-import` (FIELDSYNC_SEED=1) as an SQLiteError ("UNIQUE constraint
    /// failed: _fs_cursor.cell") for a reply with cursors for cells "" and "\u0000": text is
    /// bound to SQLite as a C string (`sqlite3_bind_text(…, -1, …)` in Statement.swift), so it
    /// ends at the first NUL. The same cuts any text value holding U+0000, which JSON, CSV and
    /// the API all accept: the stored field differed from the operation that wrote it. Fixed
    /// (Statement.bind passes the byte count).
    @Test func textWithANulCharacterIsStoredWhole() throws {
        let world = try FuzzWorld()
        let id = try world.li.replica.write { try $0.insert("households", ["cell": .text("JS-0412"), "head_name": .text("张\u{0}伟")]) }
        let stored = try world.li.replica.record("households", id)?.values["head_name"]
        #expect(stored == .text("张\u{0}伟"))
    }

    /// Found by `csv.reader` (FIELDSYNC_SEED=1): a field holding a quote followed by a combining
    /// mark (`"\u{301}`, read from `"says ""hi""\u{301}"`) is written by CSVWriter with the quote
    /// not doubled, because `replacingOccurrences(of: "\"", …)` compares Characters and `"\u{301}`
    /// is one Character; CSVReader then refuses the export ("follows the closing quote"). A
    /// district export with such a note could not be imported again. Fixed (CSVWriter doubles
    /// quotes scalar by scalar).
    @Test func aQuoteFollowedByACombiningMarkSurvivesACSVRoundTrip() throws {
        let table = try CSVTable(header: ["note"], rows: [["says \"hi\"\u{301}"]])
        let written = CSVWriter().data(from: table)
        let again = try CSVReader().table(from: written)
        #expect(again == table)
    }

    /// Found by libFuzzer (`make fuzz`, target `protocol.messages`, after 92,000 inputs): a
    /// snapshot whose `refs` named one operation twice with two clock readings was accepted, its
    /// heads taking either reading; encoding it again kept one, so the record changed in a round
    /// trip and a device could install a state the central node never had. The decoder now
    /// refuses a repeated ref.
    @Test func aSnapshotNamingOneOperationWithTwoClockReadingsIsRefused() throws {
        let record = #"{"collection":"households","covers":{"00000000000000020000000000000002":2},"entity":"JXC3BQGWJXBCXFY88R80QZ0Y88","#
            + #""exists":[[0,{"bool":true}],[1,{"bool":true}]],"refs":[["00000000000000020000000000000002.2","1767225600000.1"],"#
            + #"["00000000000000020000000000000002.2","1767225006000.1"]]}"#
        let body = #"{"acceptedThroughSeq":0,"cells":["JS-0412"],"cursors":{"JS-0412":4},"held":[],"more":false,"ops":[],"protocol":1,"#
            + #""serverTimeMillis":1767225600000,"snapshots":{"JS-0412":{"cseq":4,"records":[\#(record)]}}}"#
        let error = #expect(throws: SyncError.self) { try SyncProtocol.decode(SyncResponse.self, from: Data(body.utf8)) }
        #expect(error?.message.contains("ref 1 repeats operation 00000000000000020000000000000002.2") == true, "\(error?.message ?? "")")
        #expect(throws: SyncError.self) { try SyncProtocol.decode(SnapshotRecord.self, from: Data(record.utf8)) }
        #expect(throws: Never.self) { try ParserChecks.syncMessages(Array(body.utf8)) }
        // The same record with the operation listed once decodes, and round-trips exactly.
        let once = record.replacingOccurrences(of: #",["00000000000000020000000000000002.2","1767225006000.1"]"#, with: "")
            .replacingOccurrences(of: "[1,{", with: "[0,{")
        let decoded = try SyncProtocol.decode(SnapshotRecord.self, from: Data(once.utf8))
        #expect(decoded.exists.heads.count == 2 && Set(decoded.exists.heads.map(\.hlc)).count == 1)
    }
}
