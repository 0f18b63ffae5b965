import Foundation

/// Folds the ways people type the same Chinese text into one form, for matching only.
///
/// ```swift
/// TextNormalizer.normalized("  幸福路　８８號 ")  // "幸福路 88号"
/// TextNormalizer.normalized("A栋－3")            // "a栋-3"
/// TextNormalizer.normalizedName("陳 小·明")       // "陈小明"
/// ```
///
/// The result is a matching key, never something to store or show: callers keep the text exactly as
/// typed. Rules, in order:
/// 1. NFKC: full-width digits, letters and punctuation become ASCII, the ideographic space a space.
/// 2. Case folding (lowercase).
/// 3. Traditional characters common in addresses and names become simplified (`simplifiedByTraditional`).
/// 4. Separator punctuation is unified: dash variants to "-", 、 to ",", 。 to ".", wave dashes to
///    "~", middle-dot variants to "·"; runs of dashes become one dash (—— is one Chinese dash).
/// 5. Invisible characters (zero-width space, word joiner, byte order mark, soft hyphen) are removed.
/// 6. White space runs become one space; leading and trailing white space is removed.
public enum TextNormalizer {
    /// The matching form of `text`; see the type's rules.
    public static func normalized(_ text: String) -> String {
        // ASCII is its own NFKC form and none of it is folded further: the common case of codes,
        // numbers and pinyin skips Foundation's normalization and the tables.
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return normalizedASCII(text) }
        let compatible = text.precomposedStringWithCompatibilityMapping.lowercased()
        var result = ""
        result.reserveCapacity(compatible.utf8.count)
        var pendingSpace = false
        for character in compatible {
            if character.isWhitespace {
                pendingSpace = !result.isEmpty
                continue
            }
            if invisibleCharacters.contains(character) { continue }
            let mapped = folded(character)
            if pendingSpace {
                result.append(" ")
                pendingSpace = false
            }
            if mapped == "-", result.last == "-" { continue }
            result.append(mapped)
        }
        return result
    }

    /// The matching form of a person's name: `normalized`, then without any spaces or middle dots.
    ///
    /// Transliterated names are written with `·`, `・`, `•` or `.` between parts, or with spaces,
    /// or run together; all of these match.
    public static func normalizedName(_ name: String) -> String {
        normalized(name).filter { !$0.isWhitespace && $0 != "·" && $0 != "." }
    }

    /// Traditional characters common in Chinese addresses and names, mapped to their simplified form.
    ///
    /// Only characters whose simplified form is unambiguous are listed; characters that are also
    /// ordinary simplified characters with another meaning (乾, 著, 隻, 谷) are left alone.
    public static let simplifiedByTraditional: [Character: Character] = {
        var table: [Character: Character] = [:]
        for pair in traditionalSimplifiedPairs.split(whereSeparator: \.isWhitespace) {
            if pair.count == 2, let traditional = pair.first, let simplified = pair.last {
                table[traditional] = simplified
            }
        }
        return table
    }()

    /// "Traditional simplified" pairs: address words first, then surnames, then given-name characters.
    /// Kept as text so it stays easy to review; a test checks that every entry is a pair, that no key
    /// maps to itself and that no key appears twice.
    static let traditionalSimplifiedPairs = """
        號号 樓楼 區区 門门 棟栋 單单 層层 戶户 廈厦 閣阁 園园 灣湾 橋桥 莊庄 鄉乡 鎮镇
        縣县 衛卫 開开 發发 東东 陽阳 廣广 華华 國国 龍龙 興兴 寧宁 場场 廠厂 館馆 學学
        醫医 農农 島岛 嶺岭 溝沟 壩坝 礦矿 鐵铁 車车 廟庙 圍围 營营 塢坞 圖图 書书 裡里
        裏里 後后 環环 邊边 舊旧 濱滨 澤泽 蘇苏 貴贵 遼辽 雲云 臺台 漢汉 滬沪 與与 會会
        鳳凤 馬马 關关 陸陆 萬万 濟济 實实 寶宝 豐丰 長长 勝胜 湯汤 麗丽 蘭兰 蓮莲 紅红
        綠绿 藍蓝 銀银 錦锦 鋼钢 橫横 順顺 達达 過过 運运 進进 遠远 電电 碼码 廳厅 壇坛
        塊块 牆墙 墻墙 樂乐 聖圣 師师 軍军 協协 團团 聯联 業业 產产 雙双 齊齐 嶽岳 岡冈
        峽峡 兩两 樹树 葉叶 驛驿 樞枢 線线 網网 條条 務务 處处 機机 張张 陳陈 黃黄 劉刘
        趙赵 吳吴 楊杨 鄭郑 謝谢 馮冯 鄧邓 許许 蕭萧 孫孙 羅罗 鄒邹 蔣蒋 韓韩 龔龚 錢钱
        盧卢 賈贾 顧顾 閻阎 譚谭 鍾钟 鐘钟 餘余 範范 鄺邝 嚴严 呂吕 喬乔 賀贺 賴赖 歐欧
        鄔邬 聶聂 溫温 費费 紀纪 簡简 鮑鲍 駱骆 韋韦 閔闵 貝贝 倫伦 薑姜 魯鲁 遲迟 偉伟
        強强 傑杰 濤涛 鵬鹏 輝辉 靜静 潔洁 艷艳 豔艳 婭娅 嬌娇 瑩莹 穎颖 慶庆 剛刚 誠诚
        賢贤 義义 禮礼 權权 亞亚 貞贞 鳴鸣 聰聪 詩诗 夢梦 藝艺 曉晓 愛爱 歡欢 榮荣 飛飞
        嵐岚 愷恺 凱凯 鈞钧 銘铭 彥彦 瑋玮 韻韵 綺绮 維维 純纯 紹绍 經经 緯纬 綿绵 鴻鸿
        憲宪
        """

    /// `normalized` for ASCII text: lower case, white space runs to one space, trimmed, runs of
    /// dashes to one.
    private static func normalizedASCII(_ text: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var pendingSpace = false
        for byte in text.utf8 {
            // The white space of Character.isWhitespace within ASCII: tab to carriage return, space.
            if byte == 0x20 || (0x09...0x0D).contains(byte) {
                pendingSpace = !bytes.isEmpty
                continue
            }
            if pendingSpace {
                bytes.append(0x20)
                pendingSpace = false
            }
            if byte == UInt8(ascii: "-"), bytes.last == UInt8(ascii: "-") { continue }
            bytes.append((0x41...0x5A).contains(byte) ? byte | 0x20 : byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// One character after NFKC and case folding: separator variants unified, traditional made simplified.
    static func folded(_ character: Character) -> Character {
        if character.isASCII { return character }
        return separatorReplacements[character] ?? simplifiedByTraditional[character] ?? character
    }

    /// Characters that carry nothing visible and only get in the way of matching.
    static func isInvisible(_ character: Character) -> Bool {
        invisibleCharacters.contains(character)
    }

    private static let separatorReplacements: [Character: Character] = [
        // Dashes and minus signs used between numbers (88—1号, 3－2－501).
        "\u{2010}": "-", "\u{2011}": "-", "\u{2012}": "-", "\u{2013}": "-", "\u{2014}": "-",
        "\u{2015}": "-", "\u{2212}": "-", "\u{2E3A}": "-", "\u{2E3B}": "-",
        // Enumeration comma and ideographic full stop (the full-width comma is handled by NFKC).
        "\u{3001}": ",", "\u{3002}": ".",
        // Wave dashes used for ranges (1～3号; the full-width tilde is handled by NFKC).
        "\u{301C}": "~", "\u{3030}": "~",
        // Middle dots between name parts (阿卜杜拉·买买提).
        "\u{30FB}": "·", "\u{2027}": "·", "\u{2022}": "·", "\u{2219}": "·", "\u{22C5}": "·",
        "\u{FF65}": "·",
    ]

    private static let invisibleCharacters: Set<Character> = [
        "\u{200B}", "\u{2060}", "\u{FEFF}", "\u{00AD}",
    ]
}

extension StringProtocol {
    /// Empty or spaces and tabs only, as `trimmingCharacters(in: .whitespaces).isEmpty` says (white
    /// space that is not a line end), without Foundation's bridge to NSString on every call:
    /// imports ask it for every cell of a district file.
    var isBlank: Bool { allSatisfy { $0.isWhitespace && !$0.isNewline } }

    /// Without leading and trailing spaces and tabs, as `trimmingCharacters(in: .whitespaces)`.
    var trimmedSpaces: String {
        func space(_ c: Character) -> Bool { c.isWhitespace && !c.isNewline }
        guard let first = firstIndex(where: { !space($0) }), let last = lastIndex(where: { !space($0) }) else { return "" }
        return String(self[first...last])
    }
}
