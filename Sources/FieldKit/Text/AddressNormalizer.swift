import Foundation

/// Parses free-text Chinese addresses into parts and turns addresses into matching keys.
///
/// ```swift
/// let address = AddressNormalizer.parse("朝阳区幸福路88號3棟2單元501室")
/// // district 朝阳区, street 幸福路, buildingNumber 88號, block 3棟, unit 2單元, room 501室
/// AddressNormalizer.matchingKey(forText: "幸福路 ８８号 3栋2单元501")
///     == AddressNormalizer.matchingKey(forText: "幸福路88號3棟2單元501室") // true
/// ```
///
/// Keys are for matching only; callers store what was typed. Rules on top of `TextNormalizer`:
/// - All white space is removed, so `88号`, `８８号`, `88 号` and ` 88號 ` are one key.
/// - Numbers become ASCII digits without leading zeros. Chinese numerals in a number slot become
///   digits when their reading is unambiguous (十二号 is 12号, 五零一室 is 501室, 一百零五 is 105);
///   colloquial forms such as 一百五 (150 or 105?) are left as written.
/// - Markers become one form: building number 号 (號), block 栋 (棟/幢/座/号楼), unit 单元 (單元),
///   floor 层 (楼/樓/層/F), room 室 (房). A bare number in a structured part gets its marker (unit "2"
///   is 2单元). `第` before a number is dropped.
/// - Near misses stay apart: 88号, 8号 and 88号之一 are three keys, and so are rooms 501 and 50.
///
/// `parse` reads, left to right: an optional district ending in 区 or 县 at the start; a building
/// number (N号, N-M号, N号之M) whose preceding text, when it ends in 路/街/道/巷/弄/胡同/里/村/屯, is the
/// street (a sub-district such as XX街道 or XX镇 before it goes to the remainder); blocks, units,
/// floors and rooms in any order; the common `3-2-501` shorthand for block-unit-room; and a trailing
/// bare number after a block, unit or floor as the room. Everything else stays in `remainder`.
/// Parts keep the typed characters (after NFKC and without spaces), not the key form.
public enum AddressNormalizer {
    /// Longest text, in characters without spaces, that `parse` splits; longer text is kept whole as the remainder.
    public static let addressLengthMax = 256

    /// Splits free text into address parts where the pattern is clear.
    public static func parse(_ text: String) -> Address {
        let compact = text.precomposedStringWithCompatibilityMapping.filter {
            !$0.isWhitespace && !TextNormalizer.isInvisible($0)
        }
        guard !compact.isEmpty else { return Address() }
        guard compact.count <= addressLengthMax else { return Address(remainder: compact) }
        return AddressScanner(display: Array(compact)).parse()
    }

    /// The address with every part in key form; empty parts become nil.
    public static func normalized(_ address: Address) -> Address {
        normalized(address, by: key)
    }

    /// The address with each part replaced by what `key` makes of it, by the part's kind.
    private static func normalized(_ address: Address, by key: (String?, PartKind) -> String?) -> Address {
        Address(
            district: key(address.district, .text),
            street: key(address.street, .text),
            buildingNumber: key(address.buildingNumber, .buildingNumber),
            block: key(address.block, .block),
            unit: key(address.unit, .unit),
            floor: key(address.floor, .floor),
            room: key(address.room, .room),
            remainder: key(address.remainder, .text))
    }

    /// One string that is equal for two addresses exactly when their normalized parts are equal.
    public static func matchingKey(for address: Address) -> String {
        joined(normalized(address))
    }

    /// `matchingKey(for:)` with each part's key remembered in `memo`: a district file names the
    /// same districts, streets and buildings thousands of times, and normalizing a part (NFKC,
    /// traditional to simplified, markers) costs far more than looking it up.
    public static func matchingKey(for address: Address, memo: PartKeyMemo) -> String {
        joined(normalized(address) { memo.key($0, as: $1) })
    }

    /// Normalized parts, in address order, as one key.
    private static func joined(_ parts: Address) -> String {
        [parts.district, parts.street, parts.buildingNumber, parts.block, parts.unit, parts.floor, parts.room, parts.remainder]
            .map { escaped($0 ?? "") }
            .joined(separator: "|")
    }

    /// Normalized address parts by (kind, part as typed), for one bulk job on one thread; at
    /// most `entriesMax` are kept (the memo starts afresh when full).
    public final class PartKeyMemo {
        private struct Entry: Hashable {
            let kind: PartKind
            let part: String
        }

        private var keys: [Entry: String?] = [:]
        public static let entriesMax = 65_536

        public init() {}

        func key(_ part: String?, as kind: PartKind) -> String? {
            guard let part else { return nil }
            let entry = Entry(kind: kind, part: part)
            if let known = keys[entry] { return known }
            let key = AddressNormalizer.key(part, as: kind)
            if keys.count >= Self.entriesMax { keys.removeAll(keepingCapacity: true) }
            keys[entry] = key
            return key
        }
    }

    /// The matching key of a free-text address: `matchingKey(for: parse(text))`.
    public static func matchingKey(forText text: String) -> String {
        matchingKey(for: parse(text))
    }

    enum PartKind {
        case text, buildingNumber, block, unit, floor, room
    }

    static func key(_ part: String?, as kind: PartKind) -> String? {
        guard let part else { return nil }
        let text = TextNormalizer.normalized(part).filter { !$0.isWhitespace }
        guard !text.isEmpty else { return nil }
        let reader = AddressScanner(display: Array(text))
        return reader.canonicalPart(kind) ?? text
    }

    /// Keeps the separator out of parts so that different splits never give the same key.
    private static func escaped(_ part: String) -> String {
        guard part.utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "|") }) else { return part }
        return part.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "|", with: "%7C")
    }
}

/// The left-to-right reader behind `AddressNormalizer`; works on characters without spaces.
struct AddressScanner {
    /// Characters as typed (NFKC, no spaces): parts are cut from these.
    let display: [Character]
    /// The same characters folded (lowercase ASCII, simplified, unified dashes): markers are matched on these.
    let folded: [Character]

    init(display: [Character]) {
        self.display = display
        self.folded = display.map { character in
            if let byte = character.asciiValue { return Character(Unicode.Scalar((0x41...0x5A).contains(byte) ? byte | 0x20 : byte)) }
            return TextNormalizer.folded(character)
        }
    }

    private static let streetMarkers: Set<Character> = ["路", "街", "道", "巷", "弄", "里", "村", "屯"]
    /// Characters before 区 that make it a compound (小区, 社区, 园区...) rather than a district.
    private static let compoundBeforeDistrict: Set<Character> = [
        "小", "社", "园", "校", "景", "厂", "片", "街", "住", "矿", "营", "库", "军",
    ]
    private static let districtSearchLengthMax = 12

    // MARK: Parsing free text

    func parse() -> Address {
        var address = Address()
        var remainderPieces: [String] = []
        var pendingStart: Int?
        var sawPart = false
        var index = 0

        if let end = districtEnd() {
            address.district = String(display[0..<end])
            index = end
        }

        func flushPending(upTo end: Int) {
            guard let start = pendingStart else { return }
            pendingStart = nil
            if !sawPart, address.street == nil, let split = streetSplit(start..<end) {
                if split.lowerBound > start { remainderPieces.append(String(display[start..<split.lowerBound])) }
                address.street = String(display[split])
            } else {
                remainderPieces.append(String(display[start..<end]))
            }
        }

        while index < display.count {
            if let token = token(at: index, in: address) {
                flushPending(upTo: index)
                sawPart = true
                token.apply(to: &address)
                index = token.end
            } else {
                if pendingStart == nil { pendingStart = index }
                index += 1
            }
        }
        flushPending(upTo: display.count)
        address.remainder = remainderPieces.isEmpty ? nil : remainderPieces.joined(separator: " ")
        return address
    }

    private struct Token {
        var end: Int
        var assignments: [(WritableKeyPath<Address, String?>, String)]

        func apply(to address: inout Address) {
            for (path, value) in assignments { address[keyPath: path] = value }
        }
    }

    private func text(_ range: Range<Int>) -> String {
        String(display[range])
    }

    private func token(at start: Int, in address: Address) -> Token? {
        let count = folded.count
        // 3-2-501: block-unit-room shorthand, only as the whole tail of the address.
        if address.block == nil, address.unit == nil, address.room == nil, let first = asciiDigitsEnd(at: start),
            isMarker("-", at: first), let second = asciiDigitsEnd(at: first + 1),
            isMarker("-", at: second), asciiDigitsEnd(at: second + 1) == count
        {
            return Token(
                end: count,
                assignments: [
                    (\.block, text(start..<first)), (\.unit, text(first + 1..<second)),
                    (\.room, text(second + 1..<count)),
                ])
        }
        if address.block == nil, let block = blockEnd(at: start) {
            return Token(end: block, assignments: [(\.block, text(start..<block))])
        }
        if address.unit == nil, let number = number(at: start), let end = markerEnd(["单元"], at: number.end) {
            return Token(end: end, assignments: [(\.unit, text(start..<end))])
        }
        if address.floor == nil, let number = number(at: start), let end = floorMarkerEnd(at: number.end) {
            return Token(end: end, assignments: [(\.floor, text(start..<end))])
        }
        if address.room == nil, let id = identifier(at: start), let end = markerEnd(["室", "房"], at: id.end) {
            return Token(end: end, assignments: [(\.room, text(start..<end))])
        }
        if let end = buildingNumberEnd(at: start, markerRequired: true) {
            if address.buildingNumber == nil, address.block == nil, address.unit == nil, address.floor == nil {
                return Token(end: end, assignments: [(\.buildingNumber, text(start..<end))])
            }
            if address.room == nil {  // 3栋2单元501号: after a block or unit, N号 is the room.
                return Token(end: end, assignments: [(\.room, text(start..<end))])
            }
        }
        if address.room == nil, address.block != nil || address.unit != nil || address.floor != nil,
            asciiDigitsEnd(at: start) == count
        {
            return Token(end: count, assignments: [(\.room, text(start..<count))])
        }
        return nil
    }

    private func districtEnd() -> Int? {
        let limit = min(folded.count, Self.districtSearchLengthMax)
        guard limit > 1, let marker = (1..<limit).first(where: { folded[$0] == "区" || folded[$0] == "县" }) else {
            return nil
        }
        let name = folded[0..<marker]
        let looksLikeStreetOrNumber = name.contains { $0.isASCII && $0.isNumber || Self.streetMarkers.contains($0) }
        guard !looksLikeStreetOrNumber, !Self.compoundBeforeDistrict.contains(folded[marker - 1]) else { return nil }
        return marker + 1
    }

    /// The street at the end of `range`, after any sub-district (街道, 社区, 镇, 乡) written before it.
    private func streetSplit(_ range: Range<Int>) -> Range<Int>? {
        guard let last = range.last else { return nil }
        let endsWithStreet = Self.streetMarkers.contains(folded[last]) || (last > range.lowerBound && isWord("胡同", at: last - 1))
        guard endsWithStreet, !(last > range.lowerBound && isWord("街道", at: last - 1)) else { return nil }
        var start = range.lowerBound
        // Split after the last sub-district marker that has a name before it and a street of 2+ characters after it.
        for marker in stride(from: last - 2, through: range.lowerBound + 1, by: -1) {
            let isSingle = folded[marker] == "镇" || folded[marker] == "乡"
            let isDouble = marker - 1 > range.lowerBound && (isWord("街道", at: marker - 1) || isWord("社区", at: marker - 1))
            if isSingle || isDouble {
                start = marker + 1
                break
            }
        }
        return start..<range.upperBound
    }

    // MARK: Canonical parts

    func canonicalPart(_ kind: AddressNormalizer.PartKind) -> String? {
        let count = folded.count
        switch kind {
        case .text:
            return nil
        case .buildingNumber:
            guard buildingNumberEnd(at: 0, markerRequired: false) == count else { return nil }
            return canonicalBuildingNumber()
        case .block:
            guard let id = identifier(at: 0) else { return nil }
            let end = markerEnd(["栋", "幢", "座", "号楼", "楼", "号"], at: id.end) ?? id.end
            return end == count ? id.value + "栋" : nil
        case .unit:
            guard let number = number(at: 0) else { return nil }
            let end = markerEnd(["单元"], at: number.end) ?? number.end
            return end == count ? number.value + "单元" : nil
        case .floor:
            guard let number = number(at: 0) else { return nil }
            let end = floorMarkerEnd(at: number.end) ?? number.end
            return end == count ? number.value + "层" : nil
        case .room:
            guard let id = identifier(at: 0) else { return nil }
            let end = markerEnd(["室", "房", "号"], at: id.end) ?? id.end
            return end == count ? id.value + "室" : nil
        }
    }

    /// Rebuilds N号, N-M号 or N号之M from a building number already known to be well formed.
    private func canonicalBuildingNumber() -> String? {
        guard let main = number(at: 0) else { return nil }
        var result = main.value
        var index = main.end
        if isMarker("-", at: index), let sub = number(at: index + 1) {
            result += "-" + sub.value
            index = sub.end
        }
        result += "号"
        if isMarker("号", at: index) { index += 1 }
        if isMarker("之", at: index), let sub = number(at: index + 1) {
            result += "之" + sub.value
        }
        return result
    }

    // MARK: Pieces

    /// N号, N-M号, N号之M (第 allowed before N); `markerRequired: false` also accepts a bare N or N-M.
    private func buildingNumberEnd(at start: Int, markerRequired: Bool) -> Int? {
        guard let main = number(at: start) else { return nil }
        var index = main.end
        if isMarker("-", at: index), let sub = number(at: index + 1) { index = sub.end }
        guard isMarker("号", at: index) else { return markerRequired ? nil : index }
        index += 1
        if isMarker("楼", at: index) { return nil }  // 3号楼 is a block
        if isMarker("之", at: index), let sub = number(at: index + 1) { index = sub.end }
        return index
    }

    private func blockEnd(at start: Int) -> Int? {
        guard let id = identifier(at: start) else { return nil }
        return markerEnd(["栋", "幢", "座", "号楼"], at: id.end)
    }

    private func floorMarkerEnd(at index: Int) -> Int? {
        if let end = markerEnd(["层", "楼"], at: index) { return end }
        // 5F, but not the start of a word (5floor).
        if isMarker("f", at: index), !(index + 1 < folded.count && folded[index + 1].isASCII && folded[index + 1].isLetter) {
            return index + 1
        }
        return nil
    }

    private func markerEnd(_ markers: [String], at index: Int) -> Int? {
        for marker in markers where isWord(marker, at: index) {
            return index + marker.count
        }
        return nil
    }

    private func isMarker(_ character: Character, at index: Int) -> Bool {
        index < folded.count && folded[index] == character
    }

    private func isWord(_ word: String, at index: Int) -> Bool {
        guard index >= 0 else { return false }
        var position = index
        for character in word {
            guard position < folded.count, folded[position] == character else { return false }
            position += 1
        }
        return true
    }

    /// A number (ASCII digits or an unambiguous Chinese numeral), optionally after 第, not starting mid-number.
    private func number(at start: Int) -> (end: Int, value: String)? {
        let begin = isMarker("第", at: start) ? start + 1 : start
        guard begin < folded.count else { return nil }
        if let digitsEnd = asciiDigitsEnd(at: begin) {
            return (digitsEnd, Self.withoutLeadingZeros(String(folded[begin..<digitsEnd])))
        }
        guard ChineseNumeral.isNumeral(folded[begin]), begin == 0 || !ChineseNumeral.isNumeral(folded[begin - 1]) else {
            return nil
        }
        var end = begin
        while end < folded.count, ChineseNumeral.isNumeral(folded[end]) { end += 1 }
        guard let value = ChineseNumeral.value(of: folded[begin..<end]) else { return nil }
        return (end, String(value))
    }

    /// A number, or a run of ASCII letters and digits (A座, 12b室), as its key form.
    private func identifier(at start: Int) -> (end: Int, value: String)? {
        let begin = isMarker("第", at: start) ? start + 1 : start
        guard begin < folded.count, folded[begin].isASCII, folded[begin].isLetter || folded[begin].isNumber,
            begin == 0 || !(folded[begin - 1].isASCII && (folded[begin - 1].isLetter || folded[begin - 1].isNumber))
        else {
            return number(at: start)
        }
        var end = begin
        while end < folded.count, folded[end].isASCII, folded[end].isLetter || folded[end].isNumber { end += 1 }
        let run = String(folded[begin..<end])
        return (end, run.allSatisfy(\.isNumber) ? Self.withoutLeadingZeros(run) : run)
    }

    /// A run of ASCII digits that does not start in the middle of another.
    private func asciiDigitsEnd(at start: Int) -> Int? {
        guard start < folded.count, folded[start].isASCII, folded[start].isNumber,
            start == 0 || !(folded[start - 1].isASCII && folded[start - 1].isNumber)
        else { return nil }
        var end = start
        while end < folded.count, folded[end].isASCII, folded[end].isNumber { end += 1 }
        return end
    }

    private static func withoutLeadingZeros(_ digits: String) -> String {
        let trimmed = digits.drop { $0 == "0" }
        return trimmed.isEmpty ? "0" : String(trimmed)
    }
}
