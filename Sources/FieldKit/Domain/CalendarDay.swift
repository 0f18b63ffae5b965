import Foundation

/// A calendar day without a time or time zone, written `YYYY-MM-DD`: due dates, visit dates,
/// installation dates.
///
/// ```swift
/// let due = try CalendarDay(parsing: "2026-03-01")
/// due.description                               // "2026-03-01" (sorts as text in date order)
/// CalendarDay(millis: 1_767_225_600_000, utcOffsetSeconds: 8 * 3600)  // 2026-01-01 in China
/// ```
public struct CalendarDay: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// Years accepted; a date outside is a typing mistake.
    public static let yearRange = 1900...2199

    public init(year: Int, month: Int, day: Int) throws {
        guard Self.yearRange.contains(year), (1...12).contains(month), (1...Self.daysIn(month, of: year)).contains(day) else {
            throw FieldError(.invalidValue,
                "\(String(format: "%04d-%02d-%02d", year, month, day)) is not a date between \(Self.yearRange.lowerBound) and \(Self.yearRange.upperBound); write dates as YYYY-MM-DD, e.g. 2026-03-01")
        }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Reads `YYYY-MM-DD` (full-width digits and dash variants accepted).
    public init(parsing text: String) throws {
        let folded = text.precomposedStringWithCompatibilityMapping.trimmingCharacters(in: .whitespaces)
        let parts = folded.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2])
        else {
            throw FieldError(.invalidValue, "“\(text.prefix(24))” is not a date; write dates as YYYY-MM-DD, e.g. 2026-03-01")
        }
        try self.init(year: year, month: month, day: day)
    }

    /// The day at `millis` since 1970 UTC, in a zone `utcOffsetSeconds` east of UTC
    /// (China: 8 * 3600).
    public init(millis: Int64, utcOffsetSeconds: Int) {
        let days = (millis / 1000 + Int64(utcOffsetSeconds)).floorDivided(by: 86_400)
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468
        let era = z.floorDivided(by: 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        year = Int(yoe + era * 400 + (m <= 2 ? 1 : 0))
        month = Int(m)
        day = Int(d)
    }

    /// The day `count` days later (earlier when negative).
    public func adding(days count: Int) -> CalendarDay {
        CalendarDay(millis: (daysSince1970 + Int64(count)) * 86_400_000, utcOffsetSeconds: 0)
    }

    /// Days since 1970-01-01.
    public var daysSince1970: Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = y.floorDivided(by: 400)
        let yoe = y - era * 400
        let mp = Int64(month > 2 ? month - 3 : month + 9)
        let doy = (153 * mp + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public var description: String {
        String(format: "%04d-%02d-%02d", year, month, day)
    }

    public static func < (lhs: CalendarDay, rhs: CalendarDay) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    private static func daysIn(_ month: Int, of year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}

extension Int64 {
    fileprivate func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
