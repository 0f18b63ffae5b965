import Foundation
import SyncKit
import Testing

@testable import FieldKit

@Suite struct DistrictGeneratorTests {
    /// The checked-in sample: `FIELDSYNC_WRITE_FIXTURES=1` rewrites it.
    static let sampleSeed: UInt64 = 20_260_105
    static let sampleDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/sample-district")

    static func sampleFiles() throws -> [String: Data] {
        let generator = DistrictGenerator(seed: sampleSeed)
        let cells = Array(generator.cells)
        let writer = CSVWriter(lineEnding: .lf, includesByteOrderMark: false)
        return [
            "doorplates.csv": writer.data(from: try DistrictCSV.doorplateTable(cells.flatMap(\.doorplates))),
            "households.csv": writer.data(from: try DistrictCSV.householdTable(cells.flatMap(\.households))),
        ]
    }

    @Test func regeneratingTheSampleWithItsSeedReproducesTheCheckedInFilesByteForByte() throws {
        let files = try Self.sampleFiles()
        if ProcessInfo.processInfo.environment["FIELDSYNC_WRITE_FIXTURES"] == "1" {
            try FileManager.default.createDirectory(at: Self.sampleDirectory, withIntermediateDirectories: true)
            for (name, data) in files { try data.write(to: Self.sampleDirectory.appendingPathComponent(name)) }
        }
        for (name, data) in files.sorted(by: { $0.key < $1.key }) {
            let stored = try Data(contentsOf: Self.sampleDirectory.appendingPathComponent(name))
            #expect(stored == data, "\(name) differs from the generator's output; rerun with FIELDSYNC_WRITE_FIXTURES=1 if the change is intended")
        }
    }

    @Test func theSampleImportsCleanlyAndRaisesNoDuplicateByAccident() throws {
        let (store, _) = try makeStore(1)
        let files = try Self.sampleFiles()
        let plates = try DistrictCSV.importDoorplates(from: try #require(files["doorplates.csv"]), into: store)
        let households = try DistrictCSV.importHouseholds(from: try #require(files["households.csv"]), into: store)
        #expect(plates + households >= 200)
        #expect(try store.detectDuplicates().isEmpty)
        for cell in DistrictGenerator(seed: Self.sampleSeed).cells {
            for task in cell.tasks { try store.addTask(task) }
        }
        #expect(try store.tasks().count == 24)
    }

    @Test func cellsAreTheSameWhateverOrderTheyAreGeneratedIn() {
        let generator = DistrictGenerator(seed: 99, options: .init(cellCount: 5))
        let forward = Array(generator.cells)
        let backward = (0..<5).reversed().map { generator.cell(at: $0) }.reversed()
        #expect(forward == Array(backward))
        #expect(forward.map(\.cell.id) == ["JS-0401", "JS-0402", "JS-0403", "JS-0404", "JS-0405"])
        #expect(DistrictGenerator(seed: 100, options: .init(cellCount: 5)).cell(at: 0) != forward[0])
    }

    @Test func generatedValuesAreRealisticAndValid() throws {
        let cell = DistrictGenerator(seed: 7, options: .init(cellCount: 1, doorplatesPerCell: 300)).cell(at: 0)
        for household in cell.households {
            let checked = try FieldStore.validated(household.details)
            #expect(checked == household.details)
            if let phone = household.details.phone { #expect(phone.count == 11 && phone.hasPrefix("1")) }
            #expect((2...8).contains(household.headName.count))
        }
        for plate in cell.doorplates {
            #expect(plate.address.district == "金山区")
            #expect(plate.address.street?.isEmpty == false)
            #expect(plate.cell == cell.cell)
        }
        let names = Set(cell.households.map { TextNormalizer.normalizedName($0.headName) })
        #expect(names.count == cell.households.count)
    }
}
