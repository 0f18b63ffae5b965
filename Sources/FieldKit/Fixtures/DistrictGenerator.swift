import Foundation
import SyncKit

/// Generates a realistic sample district, deterministically from a seed: cells, doorplates with
/// Chinese addresses, households with names and phones, and tasks.
///
/// ```swift
/// let generator = DistrictGenerator(seed: 42, options: .init(cellCount: 1_344, doorplatesPerCell: 300))
/// for cell in generator.cells {            // streamed: one cell in memory at a time (~400,000 households)
///     try store.importRecords(doorplates: cell.doorplates, households: cell.households)
/// }
/// generator.cell(at: 7) == generator.cell(at: 7)   // any cell, directly, identical every time
/// ```
///
/// Each cell is generated from its own generator seeded by (seed, cell index), so cells can be
/// produced in any order, in parallel, or one at a time. A cell is an urban compound (street,
/// building number, block, unit, room) or a village (house numbers). Most plates have one
/// household; some none (not registered yet); a few two (a shared dwelling, declared distinct).
/// Head names are unique within a cell so the sample raises no duplicate suspicion by accident.
public struct DistrictGenerator: Sendable {
    public struct Options: Sendable, Hashable {
        /// The district's area letters (cell ids `JS-0401`, ...).
        public var areaLetters = "JS"
        public var districtName = "金山区"
        /// The first cell number; cells are numbered consecutively from it.
        public var firstCellNumber = 401
        public var cellCount = 3
        public var doorplatesPerCell = 50
        public var tasksPerCell = 8
        /// Tasks fall due within 30 days of this day; visits and installations lie before it.
        public var startDay: CalendarDay
        /// Centre of the district (WGS-84 degrees).
        public var latitude = 30.741
        public var longitude = 121.342

        public init(cellCount: Int = 3, doorplatesPerCell: Int = 50, tasksPerCell: Int = 8) {
            self.cellCount = cellCount
            self.doorplatesPerCell = doorplatesPerCell
            self.tasksPerCell = tasksPerCell
            // 2026-01-05 is a valid constant date.
            startDay = (try? CalendarDay(year: 2026, month: 1, day: 5)) ?? CalendarDay(millis: 0, utcOffsetSeconds: 0)
        }
    }

    public let seed: UInt64
    public let options: Options

    /// Most plates in one cell (5-digit plate numbers).
    public static let doorplatesPerCellMax = 90_000

    public init(seed: UInt64, options: Options = Options()) {
        precondition((1...DoorplateCode.cellNumberMax).contains(options.cellCount)
                     && options.firstCellNumber + options.cellCount - 1 <= DoorplateCode.cellNumberMax,
                     "cells must fit in 4-digit cell numbers")
        precondition((0...Self.doorplatesPerCellMax).contains(options.doorplatesPerCell), "at most \(Self.doorplatesPerCellMax) plates per cell")
        self.seed = seed
        self.options = options
    }

    /// Every cell, generated lazily in order.
    public var cells: LazyMapSequence<Range<Int>, GeneratedCell> {
        (0..<options.cellCount).lazy.map { cell(at: $0) }
    }

    /// The cell at `index` (0-based), the same for the same seed and options.
    public func cell(at index: Int) -> GeneratedCell {
        precondition((0..<options.cellCount).contains(index), "cell index \(index) is out of range")
        // Mixed, not offset: SplitMix64 streams whose seeds differ by its increment overlap.
        var rng = SplitMix64(seed: Self.mixed(seed ^ Self.mixed(UInt64(index) &+ 0x632B_E59B_D9B4_E019)))
        let cellNumber = options.firstCellNumber + index
        guard let firstCode = try? DoorplateCode(areaLetters: options.areaLetters, cellNumber: cellNumber, plateNumber: 1) else {
            preconditionFailure("area letters \(options.areaLetters) must be two letters A-Z")
        }
        let cell = GridCell(of: firstCode)
        let plates = doorplates(cellNumber: cellNumber, rng: &rng)
        let households = self.households(at: plates, rng: &rng)
        let tasks = self.tasks(cell: cell, plates: plates, households: households, rng: &rng)
        return GeneratedCell(cell: cell, doorplates: plates, households: households, tasks: tasks)
    }

    // MARK: Pieces

    private func doorplates(cellNumber: Int, rng: inout SplitMix64) -> [DoorplateDraft] {
        let isVillage = Int.random(in: 0..<10, using: &rng) < 3
        let street = rng.element(of: GeneratorVocabulary.streets)
        let compound = rng.element(of: GeneratorVocabulary.compounds)
        let village = rng.element(of: GeneratorVocabulary.villages)
        var buildingNumber = Int.random(in: 1...300, using: &rng)
        let cellLatitude = options.latitude + Double(Int.random(in: -2_000...2_000, using: &rng)) / 100_000
        let cellLongitude = options.longitude + Double(Int.random(in: -2_000...2_000, using: &rng)) / 100_000
        var block = 1, unit = 1, floor = 1, door = 1
        var plates: [DoorplateDraft] = []
        plates.reserveCapacity(options.doorplatesPerCell)
        for plateNumber in stride(from: 1, through: options.doorplatesPerCell, by: 1) {
            guard let code = try? DoorplateCode(areaLetters: options.areaLetters, cellNumber: cellNumber, plateNumber: plateNumber) else {
                preconditionFailure("plate number \(plateNumber) out of range")
            }
            var address = Address(district: options.districtName)
            if isVillage {
                address.street = village
                address.buildingNumber = "\(buildingNumber)号"
                buildingNumber += Int.random(in: 1...3, using: &rng)
            } else {
                address.street = street
                address.buildingNumber = "\(buildingNumber)号"
                address.block = "\(block)栋"
                address.unit = "\(unit)单元"
                address.room = "\(floor)\(door < 10 ? "0" : "")\(door)室"
                if Int.random(in: 0..<4, using: &rng) == 0 { address.remainder = compound }
                door += 1
                if door > 2 { door = 1; floor += 1 }
                if floor > 6 { floor = 1; unit += 1 }
                if unit > 3 { unit = 1; block += 1 }
            }
            let roll = Int.random(in: 0..<100, using: &rng)
            let status: DoorplateStatus = roll < 80 ? .installed : roll < 95 ? .issued : roll < 99 ? .damaged : .retired
            let installed = status == .installed || status == .damaged
                ? options.startDay.adding(days: -Int.random(in: 1...365, using: &rng)) : nil
            let hasFix = status != .issued && Int.random(in: 0..<10, using: &rng) < 8
            plates.append(DoorplateDraft(
                code: code, address: address,
                latitude: hasFix ? Self.rounded(cellLatitude + Double(Int.random(in: -300...300, using: &rng)) / 1_000_000) : nil,
                longitude: hasFix ? Self.rounded(cellLongitude + Double(Int.random(in: -300...300, using: &rng)) / 1_000_000) : nil,
                status: status, installedOn: installed,
                notes: status == .damaged ? "二维码被划伤，需更换" : ""))
        }
        return plates
    }

    private func households(at plates: [DoorplateDraft], rng: inout SplitMix64) -> [Household] {
        var households: [Household] = []
        households.reserveCapacity(plates.count)
        var usedNames = Set<String>()
        for plate in plates where plate.status != .retired {
            let roll = Int.random(in: 0..<100, using: &rng)
            let count = roll < 8 ? 0 : roll < 93 ? 1 : 2
            var first: EntityID?
            for index in 0..<count {
                let id = EntityID.random(using: &rng)
                let name = uniqueName(&usedNames, rng: &rng)
                let statusRoll = Int.random(in: 0..<100, using: &rng)
                let status: HouseholdStatus = statusRoll < 92 ? .active : statusRoll < 97 ? .movedOut : .vacant
                let members = status == .vacant ? 0 : rng.element(of: [1, 1, 2, 2, 2, 3, 3, 3, 3, 4, 4, 5, 6])
                var tags = Set<String>()
                for _ in 0..<rng.element(of: [0, 0, 0, 1, 1, 2]) { tags.insert(rng.element(of: GeneratorVocabulary.tags)) }
                let visits = rng.element(of: [0, 0, 1, 1, 2, 3, 5])
                var days = Set<CalendarDay>()
                for _ in 0..<min(visits, 3) { days.insert(options.startDay.adding(days: -Int.random(in: 1...200, using: &rng))) }
                let details = HouseholdDraft(
                    doorplate: plate.code, unit: nil, room: count > 1 ? "\(index == 0 ? "东" : "西")间" : nil,
                    headName: name, memberCount: members,
                    phone: Int.random(in: 0..<10, using: &rng) == 0 ? nil : Self.phone(rng: &rng), status: status, tags: tags,
                    notes: Int.random(in: 0..<8, using: &rng) == 0 ? rng.element(of: GeneratorVocabulary.notes) : "")
                households.append(Household(id: id, details: details, visitCount: visits, visitDays: Array(days),
                                            distinctFrom: first.map { [$0] } ?? []))
                first = first ?? id
            }
        }
        return households
    }

    private func tasks(cell: GridCell, plates: [DoorplateDraft], households: [Household], rng: inout SplitMix64) -> [TaskDraft] {
        guard !plates.isEmpty else { return [] }
        return (0..<options.tasksPerCell).map { _ in
            let kind = rng.element(of: TaskKind.allCases)
            let target: TaskTarget
            if kind == .installDoorplate || kind == .verifyDoorplate || households.isEmpty {
                target = .doorplate(rng.element(of: plates).code)
            } else {
                target = .household(rng.element(of: households).id)
            }
            return TaskDraft(
                kind: households.isEmpty && kind == .visitHousehold ? .verifyDoorplate : kind, target: target, cell: cell,
                dueOn: options.startDay.adding(days: Int.random(in: 0...30, using: &rng)),
                assignee: Int.random(in: 0..<4, using: &rng) == 0 ? nil : "collector-\(cell.id)",
                priority: rng.element(of: [.low, .normal, .normal, .normal, .high, .urgent]))
        }
    }

    private func uniqueName(_ used: inout Set<String>, rng: inout SplitMix64) -> String {
        for attempt in 0..<20 {
            let name: String
            if Int.random(in: 0..<200, using: &rng) == 0 {
                name = rng.element(of: GeneratorVocabulary.dottedNames)
            } else {
                // Favour common surnames: the smaller of two draws.
                let surname = GeneratorVocabulary.surnames[min(Int.random(in: 0..<100, using: &rng), Int.random(in: 0..<100, using: &rng))]
                let length = attempt > 10 || Int.random(in: 0..<3, using: &rng) > 0 ? 2 : 1
                name = surname + (0..<length).map { _ in rng.element(of: GeneratorVocabulary.givenCharacters) }.joined()
            }
            if used.insert(TextNormalizer.normalizedName(name)).inserted { return name }
        }
        return rng.element(of: GeneratorVocabulary.surnames) + "某"
    }

    private static func phone(rng: inout SplitMix64) -> String {
        let prefixes = ["13", "15", "17", "18", "19"]
        var digits = prefixes[Int.random(in: 0..<prefixes.count, using: &rng)]
        for _ in 0..<9 { digits.append(Character(String(Int.random(in: 0...9, using: &rng)))) }
        return digits
    }

    /// SplitMix64's finalizer: a bijection that scatters nearby inputs.
    private static func mixed(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    private static func rounded(_ degrees: Double) -> Double {
        (degrees * 1_000_000).rounded() / 1_000_000
    }
}

extension SplitMix64 {
    fileprivate mutating func element<T>(of array: [T]) -> T {
        array[Int.random(in: 0..<array.count, using: &self)]
    }
}
