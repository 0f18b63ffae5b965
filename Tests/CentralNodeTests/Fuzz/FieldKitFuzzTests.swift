import FuzzChecks
import Foundation
import Testing
@testable import FieldKit
@testable import SyncKit

/// What a collector scans or an office imports: QR payloads, typed doorplate codes, CSV files.
extension FuzzTests {
    static let codeTokens = ["FSP1:", "FSP2:", "fsp1:", "FSP", ":", "-", "－", "—", "Ｊ", "Ｓ", "０", "９", "*", "K", "JS", "0412", "00088",
                             "\u{3000}", "\u{FF1A}", "\u{2212}", "\u{1D7D8}", "\u{0663}"]

    static var codeSeeds: [Data] {
        ["JS0412-00088", "js-0412-00088", "ＪＳ０４１２－０００８８", " JS041200088\n", "AB0000-00000", "ZZ9999-99999", "JS-0412-00089"].map { Data($0.utf8) }
    }

    @Test func qrPayloadsParseOrFailCleanlyAndRoundTrip() async throws {
        var seeds = ["FSP1:JS0412-00088K", "fsp1:js0412-00088k", "ＦＳＰ１：ＪＳ０４１２－０００８８Ｋ", "FSP1:AB0000-00000*\r\n"].map { Data($0.utf8) }
        seeds += try ["JS0001-00001", "ZZ9999-99999", "QA1234-56789"].map { Data(QRPayload.encode(try DoorplateCode(parsing: $0)).utf8) }
        try await Fuzzer.run(FuzzTarget(name: "doorplate.qr", seeds: seeds, tokens: Self.codeTokens, iterations: 3_000,
                                        check: ParserChecks.qrPayload))
    }

    @Test func typedDoorplateCodesParseOrFailCleanlyAndRoundTrip() async throws {
        try await Fuzzer.run(FuzzTarget(name: "doorplate.code", seeds: Self.codeSeeds, tokens: Self.codeTokens, iterations: 2_000,
                                        check: ParserChecks.doorplateCode))
    }

    /// The sample district's header and first rows, and small files with every quoting rule.
    static func csvSeeds() throws -> [Data] {
        var seeds: [Data] = []
        for name in ["doorplates.csv", "households.csv"] {
            let text = String(decoding: try Fuzzer.fixture("sample-district/\(name)"), as: UTF8.self)
            seeds.append(Data(text.split(separator: "\n", omittingEmptySubsequences: false).prefix(7).joined(separator: "\n").utf8))
            seeds.append(Data(("\u{FEFF}" + text.split(separator: "\n").prefix(3).joined(separator: "\r\n") + "\r\n").utf8))
        }
        seeds += [
            "name,note\r\n\"陈, 小明\",\"says \"\"hi\"\"\r\ntwice\"\r\n,\r\n",
            "a\rb\rc\r",
            "only\n\n\n",
            "x,y\n1,2\n\n3,4",
            "\"\"\"\",\"\"\n",
        ].map { Data($0.utf8) }
        return seeds
    }

    @Test func csvFilesParseOrFailCleanlyAndRoundTrip() async throws {
        let tokens = ["\"", "\"\"", ",", "\r\n", "\r", "\n", "\u{FEFF}", ",,,,,,,,", "\"a,b\"", "code", "cell", "Code ", "ＣＯＤＥ"]
        try await Fuzzer.run(FuzzTarget(name: "csv.reader", seeds: try Self.csvSeeds(), tokens: tokens, iterations: 2_000,
                                        check: ParserChecks.csv))
    }

    @Test func districtFilesImportWhollyOrNotAtAll() async throws {
        let holder = StoreHolder()
        let tokens = ["JS0401-00001*", "JS-0401", "JS0401-00002Y", ",installed,", ",issued,", "2026-02-30", "9999-12-31", "-0.0", "1e308",
                      "nan", "91", "-181", ";", "low_income;low_income", "active", "moved", "120", "-1", "\"", "\r\n", ","]
        try await Fuzzer.run(FuzzTarget(name: "csv.district-import", seeds: try Self.csvSeeds().prefix(4).map { $0 }, tokens: tokens, iterations: 300) { input in
            let store = try holder.store()
            let before = try Fuzzer.contents(of: store.replica)
            let data = Data(input)
            let header = String(decoding: input.prefix(400), as: UTF8.self)
            let imported = try ParserChecks.clean {
                header.contains("head_name") ? try DistrictCSV.importHouseholds(from: data, into: store)
                                              : try DistrictCSV.importDoorplates(from: data, into: store)
            }
            guard imported != nil else {
                return try Fuzzer.expectUnchanged(before, try Fuzzer.contents(of: store.replica), "CSV import")
            }
            holder.used()
            // What was imported exports, and the export imports into a fresh store identically.
            let fresh = try StoreHolder.makeStore()
            if header.contains("head_name") {
                let table = try DistrictCSV.exportHouseholds(from: store)
                guard try ParserChecks.clean({ try fresh.importRecords(doorplates: [], households: try DistrictCSV.readHouseholds(table)) }) != nil,
                      try DistrictCSV.exportHouseholds(from: fresh) == table else {
                    throw FuzzViolation("imported households do not export and import again identically")
                }
            } else {
                let table = try DistrictCSV.exportDoorplates(from: store)
                guard try ParserChecks.clean({ try fresh.importRecords(doorplates: try DistrictCSV.readDoorplates(table), households: []) }) != nil,
                      try DistrictCSV.exportDoorplates(from: fresh) == table else {
                    throw FuzzViolation("imported doorplates do not export and import again identically")
                }
            }
        })
    }
}

/// An empty FieldStore for the import target, replaced after an import that wrote. Used by the
/// fuzzer's worker thread only, so the unchecked Sendable is safe.
final class StoreHolder: @unchecked Sendable {
    private var current: FieldStore?

    static func makeStore() throws -> FieldStore {
        let clock = ManualClock(millis: FuzzWorld.epochMillis)
        var options = ReplicaOptions()
        options.clock = clock
        options.replicaID = ReplicaID(high: 7, low: 7)
        options.randomSeed = 7
        return FieldStore(replica: try Replica.open(path: ":memory:", schema: FieldModel.schema, options: options), clock: clock)
    }

    func store() throws -> FieldStore {
        if let current { return current }
        let made = try Self.makeStore()
        current = made
        return made
    }

    func used() { current = nil }
}
