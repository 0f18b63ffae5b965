import Foundation
import FuzzChecks
import Testing

/// `make fuzz` seeds libFuzzer from `Fixtures/fuzz/TARGET`: every target of `ParserChecks` has
/// seeds there, and every seed passes its target's checks (a seed that failed them would be a
/// finding before the first mutation).
struct LibFuzzerSeedTests {
    @Test func everyParserTargetHasSeedsThatPassItsChecks() throws {
        let root = Fuzzer.fixturesDirectory.appendingPathComponent("fuzz")
        let folders = try FileManager.default.contentsOfDirectory(atPath: root.path).sorted()
        #expect(folders == ParserChecks.targets.map(\.name).sorted())
        for target in ParserChecks.targets {
            let folder = root.appendingPathComponent(target.name)
            let seeds = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            #expect(!seeds.isEmpty, "no seeds for \(target.name) in Fixtures/fuzz")
            for seed in seeds {
                let input = [UInt8](try Data(contentsOf: folder.appendingPathComponent(seed)))
                #expect(throws: Never.self, "Fixtures/fuzz/\(target.name)/\(seed)") { try target.check(input) }
            }
        }
    }
}
