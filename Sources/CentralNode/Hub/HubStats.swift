/// What an operator sees at a glance: records per cell, devices, operations per day, and the
/// review queue's size.
///
///     let stats = try hub.stats()
///     stats.recordsByCell["JS-0412"]?["households"]   // 49
///     stats.operationsPerDay.last                      // DayCount(day: "2026-01-05", operations: 147)
///
/// The tallying is pure (the functions below take what was read and return values); `Hub.stats()`
/// does the reading.
public struct HubStats: Sendable, Equatable {
    /// Operations stored on one UTC day.
    public struct DayCount: Sendable, Equatable {
        /// `YYYY-MM-DD`, UTC.
        public let day: String
        public let operations: Int

        public init(day: String, operations: Int) {
            self.day = day
            self.operations = operations
        }
    }

    /// Live records by cell, then by collection (`""` is the pseudo-cell of collections without
    /// a cell field). Every collection of a listed cell is present, zero included.
    public let recordsByCell: [String: [String: Int]]
    public let devices: [DeviceInfo]
    /// Distinct operations of the central log by the UTC day of their hybrid-clock reading (when
    /// they were written, on the writer's corrected clock), oldest first; days without any are left out.
    public let operationsPerDay: [DayCount]
    /// Open review items by kind, every kind present (zero included).
    public let openReviewItems: [String: Int]

    public init(recordsByCell: [String: [String: Int]], devices: [DeviceInfo], operationsPerDay: [DayCount], openReviewItems: [String: Int]) {
        self.recordsByCell = recordsByCell
        self.devices = devices
        self.operationsPerDay = operationsPerDay
        self.openReviewItems = openReviewItems
    }

    static let millisPerDay: Int64 = 86_400_000

    /// Record counts by cell and collection with every collection present (zero included)
    /// under every cell that has any record.
    static func completed(_ counts: [String: [String: Int]], collections: [String]) -> [String: [String: Int]] {
        counts.mapValues { byCollection in
            var all = Dictionary(uniqueKeysWithValues: collections.map { ($0, 0) })
            all.merge(byCollection) { $0 + $1 }
            return all
        }
    }

    /// Operation counts per day number (days since 1970-01-01 UTC) as dated rows, oldest first.
    static func operationsPerDay(_ counts: [(dayNumber: Int64, operations: Int)]) -> [DayCount] {
        var merged: [Int64: Int] = [:]
        for (day, operations) in counts where operations > 0 { merged[day, default: 0] += operations }
        return merged.keys.sorted().map { DayCount(day: date(dayNumber: $0), operations: merged[$0]!) }
    }

    /// Open items by kind name, with every kind of `kinds` present.
    static func tally(kinds: [String], items: some Sequence<String>) -> [String: Int] {
        var result = Dictionary(uniqueKeysWithValues: kinds.map { ($0, 0) })
        for kind in items { result[kind, default: 0] += 1 }
        return result
    }

    /// `YYYY-MM-DD` of a day number, proleptic Gregorian (Howard Hinnant's `civil_from_days`):
    /// no Calendar or time zone involved, so every machine prints the same day.
    static func date(dayNumber: Int64) -> String {
        let z = dayNumber + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    private static func pad(_ number: Int64, _ width: Int) -> String {
        let digits = String(number)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
