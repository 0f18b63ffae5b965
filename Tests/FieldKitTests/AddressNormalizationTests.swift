import Foundation
import SyncKit
import Testing

@testable import FieldKit

@Suite struct AddressNormalizationTests {
    // MARK: TextNormalizer

    @Test(arguments: [
        ("  幸福路　８８號 ", "幸福路 88号"),
        ("ＡＢＣ１２３", "abc123"),
        ("A栋\t\n 2单元", "a栋 2单元"),
        ("東陽區廣華路", "东阳区广华路"),
        ("88—1号", "88-1号"),
        ("88——1号", "88-1号"),
        ("3－2－501", "3-2-501"),
        ("88‐1", "88-1"),
        ("张三、李四，王五", "张三,李四,王五"),
        ("1～3号", "1~3号"),
        ("1〜3号", "1~3号"),
        ("\u{200B}幸福路\u{FEFF}", "幸福路"),
        ("", ""),
        ("   ", ""),
    ])
    func textIsFoldedForMatching(_ input: String, _ expected: String) {
        #expect(TextNormalizer.normalized(input) == expected)
    }

    @Test func namesMatchAcrossSpacesMiddleDotsAndTraditionalForms() {
        let spellings = ["陈小明", "陳小明", " 陳 小 明 ", "陈　小明", "陳·小明"]
        #expect(Set(spellings.map(TextNormalizer.normalizedName)) == ["陈小明"])
        let transliterated = ["阿卜杜拉·买买提", "阿卜杜拉・买买提", "阿卜杜拉 买买提", "阿卜杜拉.买买提", "阿卜杜拉•买买提", "阿卜杜拉･买买提"]
        #expect(Set(transliterated.map(TextNormalizer.normalizedName)) == ["阿卜杜拉买买提"])
        #expect(TextNormalizer.normalizedName("Zhang San") == TextNormalizer.normalizedName("ZHANGSAN"))
        #expect(TextNormalizer.normalizedName("陈小明") != TextNormalizer.normalizedName("陈小鸣"))
    }

    @Test func traditionalTableIsWellFormedAndCoversTheCommonCharacters() {
        let pairs = TextNormalizer.traditionalSimplifiedPairs.split(whereSeparator: \.isWhitespace)
        #expect(pairs.allSatisfy { $0.count == 2 }, "every entry must be one traditional and one simplified character")
        #expect(pairs.allSatisfy { $0.first != $0.last }, "no entry may map a character to itself")
        #expect(Set(pairs.map(\.first)).count == pairs.count, "no traditional character may appear twice")
        let table = TextNormalizer.simplifiedByTraditional
        #expect(table.count == pairs.count)
        let required = "號号樓楼區区門门棟栋單单東东陽阳廣广華华國国龍龙興兴寧宁橋桥莊庄灣湾園园層层衛卫鄉乡鎮镇縣县開开發发"
            + "張张陳陈黃黄劉刘趙赵吳吴楊杨鄭郑謝谢馮冯鄧邓許许蕭萧葉叶"
        let requiredPairs = Array(required)
        for index in stride(from: 0, to: requiredPairs.count, by: 2) {
            #expect(table[requiredPairs[index]] == requiredPairs[index + 1], "missing \(requiredPairs[index])")
        }
        // Simplified characters are already in matching form.
        #expect(Set(table.values).isDisjoint(with: Set(table.keys)))
    }

    @Test func normalizingTwiceChangesNothing() {
        let seed = testSeed(default: 0x7E47_0001)
        var random = SplitMix64(seed: seed)
        let pieces = [
            "號", "号", "８", "8", "Ａ", "a", " ", "　", "\t", "—", "－", "、", "·", "・", "陳", "路", "幢", "單元", "\u{200B}",
            "Ⅻ", "ﬁ", "é", "e\u{301}", "😀", "〜", "--",
        ]
        for _ in 0..<2_000 {
            let text = (0..<Int.random(in: 0...12, using: &random)).map { _ in random.element(of: pieces) }.joined()
            let once = TextNormalizer.normalized(text)
            #expect(TextNormalizer.normalized(once) == once, "text \(text.debugDescription); FIELDSYNC_SEED=\(seed)")
            #expect(once == once.trimmingCharacters(in: .whitespaces), "FIELDSYNC_SEED=\(seed)")
            #expect(!once.contains("  "), "FIELDSYNC_SEED=\(seed)")
        }
    }

    // MARK: Matching keys

    @Test(arguments: [
        ["幸福路88号", "幸福路８８号", "幸福路88 号", " 幸福路 88号 ", "幸福路88號", "幸福路８８號", "幸 福 路 88 号"],
        ["幸福路88号3栋2单元501室", "幸福路88號3棟2單元501室", "幸福路88号3幢2单元501室", "幸福路88号3号楼2单元501",
         "幸福路 88 号 3 栋 2 单元 501 房", "幸福路88号3-2-501", "幸福路88号3－2－501", "幸福路88号第3栋第2单元501室"],
        ["幸福路十二号", "幸福路12号", "幸福路１２號"],
        ["朝阳区幸福路88号", "朝陽區幸福路88號", "朝阳区 幸福路 88号"],
        ["幸福小区A座1201", "幸福小区a座1201室", "幸福小區Ａ座１２０１室"],
        ["幸福路88号5楼", "幸福路88号5层", "幸福路88號5樓", "幸福路88号5F", "幸福路88号五楼"],
        ["幸福路88号之一", "幸福路88号之1", "幸福路88號之一"],
        ["幸福路88号3栋2单元五零一室", "幸福路88号3栋2单元501室"],
    ])
    func equivalentSpellingsHaveOneKey(_ spellings: [String]) {
        let keys = spellings.map(AddressNormalizer.matchingKey(forText:))
        #expect(Set(keys).count == 1, "keys: \(Array(zip(spellings, keys)))")
    }

    @Test(arguments: [
        ("幸福路88号", "幸福路8号"),
        ("幸福路88号", "幸福路88号之一"),
        ("幸福路8号", "幸福路88号之一"),
        ("幸福路88号", "幸福东路88号"),
        ("幸福路88号", "康宁路88号"),
        ("幸福路88号3栋2单元501室", "幸福路88号3栋2单元50室"),
        ("幸福路88号3栋2单元501室", "幸福路88号3栋2单元5010室"),
        ("幸福路88号3栋2单元501室", "幸福路88号3栋1单元501室"),
        ("幸福路88号3栋2单元501室", "幸福路88号2栋3单元501室"),
        ("幸福路88号3栋", "幸福路88号3楼"),
        ("幸福路88号", "幸福路88-1号"),
        ("幸福路12号", "幸福路21号"),
        ("幸福小区A座1201", "幸福小区B座1201"),
        ("朝阳区幸福路88号", "海淀区幸福路88号"),
    ])
    func nearMissesHaveDifferentKeys(_ first: String, _ second: String) {
        #expect(AddressNormalizer.matchingKey(forText: first) != AddressNormalizer.matchingKey(forText: second))
    }

    @Test func structuredAndFreeTextAddressesShareKeys() {
        let typed = Address(
            street: " 幸福路 ", buildingNumber: "88", block: "3棟", unit: "2", floor: nil, room: "501房")
        #expect(AddressNormalizer.matchingKey(for: typed) == AddressNormalizer.matchingKey(forText: "幸福路88號3栋2单元501室"))
        let normalized = AddressNormalizer.normalized(typed)
        #expect(normalized.street == "幸福路")
        #expect(normalized.buildingNumber == "88号")
        #expect(normalized.block == "3栋")
        #expect(normalized.unit == "2单元")
        #expect(normalized.room == "501室")
        #expect(AddressNormalizer.normalized(Address(district: "  ", remainder: "")) == Address())
    }

    @Test(arguments: [
        (Address(buildingNumber: "十二号"), "12号"),
        (Address(buildingNumber: "088"), "88号"),
        (Address(buildingNumber: "12-3号"), "12-3号"),
        (Address(buildingNumber: "一百零五号"), "105号"),
        (Address(buildingNumber: "一百五号"), "一百五号"),
        (Address(buildingNumber: "88號之一"), "88号之1"),
        (Address(buildingNumber: "甲88号"), "甲88号"),
        (Address(block: "二十三號樓"), "23栋"),
        (Address(block: "Ａ座"), "a栋"),
        (Address(floor: "-1"), "-1"),
        (Address(floor: "十楼"), "10层"),
        (Address(room: "0501"), "501室"),
    ])
    func structuredPartsGetOneMarkerAndPlainDigits(_ address: Address, _ expected: String) {
        let normalized = AddressNormalizer.normalized(address)
        let parts = [normalized.buildingNumber, normalized.block, normalized.floor, normalized.room].compactMap { $0 }
        #expect(parts == [expected])
    }

    // MARK: Parsing

    @Test func fullAddressIsSplitIntoItsParts() {
        let address = AddressNormalizer.parse("朝阳区幸福路88号3栋2单元501室")
        #expect(
            address
                == Address(
                    district: "朝阳区", street: "幸福路", buildingNumber: "88号", block: "3栋", unit: "2单元", room: "501室"))
    }

    @Test func partsKeepTheTypedCharactersButNotTheSpaces() {
        let address = AddressNormalizer.parse(" 朝陽區 幸福路 ８８號 3棟 2單元 501 ")
        #expect(
            address
                == Address(
                    district: "朝陽區", street: "幸福路", buildingNumber: "88號", block: "3棟", unit: "2單元", room: "501"))
    }

    @Test(arguments: [
        ("幸福小区3栋2单元501", Address(block: "3栋", unit: "2单元", room: "501", remainder: "幸福小区")),
        ("幸福路88号3-2-501", Address(street: "幸福路", buildingNumber: "88号", block: "3", unit: "2", room: "501")),
        ("幸福街道幸福路88号", Address(street: "幸福路", buildingNumber: "88号", remainder: "幸福街道")),
        ("海淀区花园镇李家村12号", Address(district: "海淀区", street: "李家村", buildingNumber: "12号", remainder: "花园镇")),
        ("幸福路88号之一", Address(street: "幸福路", buildingNumber: "88号之一")),
        ("五一路8号", Address(street: "五一路", buildingNumber: "8号")),
        ("幸福路88号院3号楼5层", Address(street: "幸福路", buildingNumber: "88号", block: "3号楼", floor: "5层", remainder: "院")),
        ("幸福小区A座1201室", Address(block: "A座", room: "1201室", remainder: "幸福小区")),
        ("杏花胡同7号", Address(street: "杏花胡同", buildingNumber: "7号")),
        ("幸福路", Address(street: "幸福路")),
        ("幸福小区", Address(remainder: "幸福小区")),
        ("3栋2单元501号", Address(block: "3栋", unit: "2单元", room: "501号")),
        ("", Address()),
    ])
    func freeTextIsSplitWhereThePatternIsClear(_ text: String, _ expected: Address) {
        #expect(AddressNormalizer.parse(text) == expected)
    }

    @Test func overlongTextIsKeptWholeAsTheRemainder() {
        let text = String(repeating: "幸福路88号", count: 100)
        let address = AddressNormalizer.parse(text)
        #expect(address == Address(remainder: text))
        #expect(AddressNormalizer.matchingKey(forText: text) == AddressNormalizer.matchingKey(forText: text + " "))
    }

    @Test func arbitraryTextNeverTrapsAndAlwaysGivesTheSameKey() {
        let seed = testSeed(default: 0x7E47_0002)
        var random = SplitMix64(seed: seed)
        let pieces = [
            "号", "號", "栋", "楼", "层", "单元", "室", "区", "路", "之", "第", "十", "百", "零", "一", "五", "-", "－", "8", "0",
            "a", "F", " ", "|", "%", "街道", "镇", "胡同", "😀",
        ]
        for _ in 0..<3_000 {
            let text = (0..<Int.random(in: 0...14, using: &random)).map { _ in random.element(of: pieces) }.joined()
            let key = AddressNormalizer.matchingKey(forText: text)
            #expect(key == AddressNormalizer.matchingKey(forText: " " + text + " "), "FIELDSYNC_SEED=\(seed) text \(text)")
            #expect(key.split(separator: "|", omittingEmptySubsequences: false).count == 8, "FIELDSYNC_SEED=\(seed)")
        }
    }

    @Test func aMemoOfPartKeysGivesTheSameKeysAsNormalizingEachTime() {
        let seed = testSeed(default: 0x7E47_0003)
        var random = SplitMix64(seed: seed)
        // Few distinct parts, reused across kinds: the same text as a street and as a room must
        // not share a memo entry, and a part seen again must give its first key.
        let parts: [String?] = [nil, "", " ", "8", "８８號", "3栋", "3", "2单元", "五层", "501室", "501", "幸福路", "朝陽區", "a-1", "B座", "|%", "第十一"]
        let memo = AddressNormalizer.PartKeyMemo()
        for _ in 0..<2_000 {
            let address = Address(district: random.element(of: parts), street: random.element(of: parts), buildingNumber: random.element(of: parts),
                                  block: random.element(of: parts), unit: random.element(of: parts), floor: random.element(of: parts),
                                  room: random.element(of: parts), remainder: random.element(of: parts))
            #expect(AddressNormalizer.matchingKey(for: address, memo: memo) == AddressNormalizer.matchingKey(for: address),
                    "FIELDSYNC_SEED=\(seed) \(address)")
        }
    }

    // MARK: Value semantics

    @Test func normalizingNeverChangesWhatItWasGiven() {
        let original = "  朝陽區 幸福路 ８８號 3棟 "
        let bytesBefore = Array(original.utf8)
        var copy = original
        _ = TextNormalizer.normalized(copy)
        _ = TextNormalizer.normalizedName(copy)
        _ = AddressNormalizer.parse(copy)
        _ = AddressNormalizer.matchingKey(forText: copy)
        #expect(Array(copy.utf8) == bytesBefore)
        #expect(Array(original.utf8) == bytesBefore)
        copy += "!"  // the copy is independent of the original
        #expect(Array(original.utf8) == bytesBefore)

        let address = Address(street: "幸福路 ", buildingNumber: "８８號", remainder: " 院 ")
        let addressBefore = address
        let normalized = AddressNormalizer.normalized(address)
        _ = AddressNormalizer.matchingKey(for: address)
        #expect(address == addressBefore)
        #expect(Array(address.buildingNumber!.utf8) == Array("８８號".utf8))
        #expect(normalized.buildingNumber == "88号")
    }

    @Test func addressesEncodeToJSONAndBack() throws {
        let address = Address(district: "朝阳区", street: "幸福路", buildingNumber: "88号", remainder: "院")
        let decoded = try JSONDecoder().decode(Address.self, from: JSONEncoder().encode(address))
        #expect(decoded == address)
    }

    // MARK: Chinese numerals

    @Test(arguments: [
        ("十", 10), ("十二", 12), ("二十", 20), ("二十三", 23), ("一百", 100), ("一百零五", 105), ("一百一十", 110),
        ("两百", 200), ("一千零二十", 1_020), ("五零一", 501), ("〇", 0), ("一", 1), ("九九九九九", 99_999),
    ])
    func chineseNumeralsWithOneReadingAreRead(_ text: String, _ value: Int) {
        #expect(ChineseNumeral.value(of: Array(text)) == value)
    }

    @Test(arguments: ["一百五", "三千二", "二三十", "十百", "零十", "一百零", "十十", "一二三四五六", "", "一万万"])
    func ambiguousOrMalformedChineseNumeralsAreLeftAlone(_ text: String) {
        #expect(ChineseNumeral.value(of: Array(text)) == nil)
    }
}
