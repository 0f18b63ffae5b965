/// Reads Chinese numerals as they appear in address numbers, refusing readings that could be wrong.
///
/// ```swift
/// ChineseNumeral.value(of: Array("十二"))     // 12
/// ChineseNumeral.value(of: Array("五零一"))   // 501 (read digit by digit)
/// ChineseNumeral.value(of: Array("一百零五")) // 105
/// ChineseNumeral.value(of: Array("一百五"))   // nil: colloquially 150, literally 105
/// ```
enum ChineseNumeral {
    /// Largest value read; address numbers are far below it.
    static let valueMax = 99_999
    /// Longest digit-by-digit numeral read (五零一 has 3).
    static let digitsLengthMax = 5

    private static let digits: [Character: Int] = [
        "零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
    ]
    private static let units: [Character: Int] = ["十": 10, "百": 100, "千": 1_000, "万": 10_000]

    static func isNumeral(_ character: Character) -> Bool {
        digits[character] != nil || units[character] != nil
    }

    /// The value of a numeral made only of numeral characters, or nil when malformed or ambiguous.
    static func value(of characters: some Collection<Character>) -> Int? {
        guard !characters.isEmpty else { return nil }
        if !characters.contains(where: { units[$0] != nil }) {
            guard characters.count <= digitsLengthMax else { return nil }
            return characters.reduce(0) { $0 * 10 + (digits[$1] ?? 0) }
        }
        var total = 0
        var pending: Int?  // a digit waiting for its unit
        var lastUnit = Int.max
        var previousWasZero = false
        var lastUnitBeforeTail = Int.max
        for character in characters {
            if let unit = units[character] {
                guard unit < lastUnit else { return nil }  // units must fall: 十百 is malformed
                let multiplier: Int
                if let pending {
                    multiplier = pending
                } else if unit == 10, total == 0 {
                    multiplier = 1  // 十二 is 12
                } else {
                    return nil
                }
                guard multiplier > 0 else { return nil }  // 零十
                total += multiplier * unit
                pending = nil
                lastUnit = unit
                previousWasZero = false
            } else if let digit = digits[character] {
                guard pending == nil else { return nil }  // two digits in a row: 二三十
                if digit == 0 {
                    guard lastUnit != Int.max, !previousWasZero else { return nil }
                    previousWasZero = true
                    continue
                }
                pending = digit
                lastUnitBeforeTail = previousWasZero ? 1 : lastUnit
            } else {
                return nil
            }
        }
        if let pending {
            // 二十三 is 23, 一百零五 is 105, but 一百五 may mean 150: refuse that reading.
            guard lastUnitBeforeTail <= 10 || lastUnitBeforeTail == 1 else { return nil }
            total += pending
        } else if previousWasZero {
            return nil  // 一百零 ends on a zero
        }
        return total <= valueMax ? total : nil
    }
}
