import Foundation
import SyncKit

/// Makes malformed inputs from well-formed seeds, deterministically from one seed.
///
///     var mutator = Mutator(seed: 42, seeds: [Data(#"{"protocol":1}"#.utf8)], json: true)
///     let input = mutator.input(iteration: 7)   // the same bytes for (42, 7) on every machine
///
/// Each input is one seed with one to four stacked mutations: bit flips, byte inserts, deletes,
/// duplicates and truncation, splices of two seeds, format tokens, invalid UTF-8 and Unicode edge
/// cases, deep nesting, and (for JSON) numbers replaced by extremes, strings by edge cases and
/// values by values of another type. An input depends only on (seed, iteration), so one failing
/// iteration replays alone.
struct Mutator {
    /// The largest input made by default; mutations that would grow past it are cut.
    static let inputBytesMaxDefault = 256 * 1024

    let seed: UInt64
    let seeds: [[UInt8]]
    let tokens: [[UInt8]]
    let json: Bool
    let inputBytesMax: Int

    init(seed: UInt64, seeds: [Data], tokens: [String] = [], json: Bool = false, inputBytesMax: Int = Mutator.inputBytesMaxDefault) {
        precondition(!seeds.isEmpty, "a mutator needs at least one seed input")
        self.seed = seed
        self.seeds = seeds.map { [UInt8]($0) }
        self.tokens = (tokens + Self.sharedTokens).map { Array($0.utf8) }
        self.json = json
        self.inputBytesMax = inputBytesMax
    }

    /// The input of one iteration: a seed as it is (one in sixteen), or mutated.
    func input(iteration: Int) -> [UInt8] {
        var random = SplitMix64(seed: seed ^ (UInt64(truncatingIfNeeded: iteration) &* 0xD1B5_4A32_D192_ED03))
        var bytes = seeds[Int.random(in: 0..<seeds.count, using: &random)]
        if Int.random(in: 0..<16, using: &random) == 0 { return bytes }
        // For JSON, half the inputs get only value-level mutations: they stay valid JSON, so the
        // checks behind the parser (limits, ranges, scope, cursors) see them.
        let valuesOnly = json && Bool.random(using: &random)
        for _ in 0..<Int.random(in: 1...(valuesOnly ? 3 : 4), using: &random) {
            if valuesOnly { mutateJSONValue(&bytes, using: &random) } else { mutate(&bytes, using: &random) }
            if bytes.count > inputBytesMax { bytes.removeLast(bytes.count - inputBytesMax) }
        }
        return bytes
    }

    // MARK: Mutations

    private func mutate(_ bytes: inout [UInt8], using random: inout SplitMix64) {
        let structured = json ? 9 : 0
        switch Int.random(in: 0..<(14 + structured), using: &random) {
        case 0, 1: flipBit(&bytes, &random)
        case 2: setByte(&bytes, &random)
        case 3: insertBytes(&bytes, &random)
        case 4: deleteRange(&bytes, &random)
        case 5: duplicateRange(&bytes, &random)
        case 6: truncate(&bytes, &random)
        case 7: splice(&bytes, &random)
        case 8, 9: insertToken(&bytes, &random)
        case 10: insertInvalidUTF8(&bytes, &random)
        case 11: insertUnicodeEdge(&bytes, &random)
        case 12: insertDeepNesting(&bytes, &random)
        case 13: replaceDigits(&bytes, &random)
        case 14, 15, 16: replaceJSONNumber(&bytes, &random)
        case 17, 18: replaceJSONString(&bytes, &random)
        default: replaceJSONValue(&bytes, &random)
        }
    }

    private func mutateJSONValue(_ bytes: inout [UInt8], using random: inout SplitMix64) {
        switch Int.random(in: 0..<8, using: &random) {
        case 0, 1, 2, 3: replaceJSONNumber(&bytes, &random)
        case 4, 5: replaceJSONString(&bytes, &random)
        default: replaceJSONValue(&bytes, &random)
        }
    }

    private func position(in bytes: [UInt8], _ random: inout SplitMix64) -> Int {
        Int.random(in: 0...bytes.count, using: &random)
    }

    private func flipBit(_ bytes: inout [UInt8], _ random: inout SplitMix64) {
        guard !bytes.isEmpty else { return insertBytes(&bytes, &random) }
        let index = Int.random(in: 0..<bytes.count, using: &random)
        bytes[index] ^= 1 << UInt8.random(in: 0..<8, using: &random)
    }

    private func setByte(_ bytes: inout [UInt8], _ random: inout SplitMix64) {
        guard !bytes.isEmpty else { return insertBytes(&bytes, &random) }
        let interesting: [UInt8] = [0x00, 0xFF, 0x7F, 0x80, 0x22, 0x5C, 0x2C, 0x3A, 0x7B, 0x7D, 0x5B, 0x5D, 0x0A, 0x0D, 0x2D, 0x2E, 0x30, 0x39, 0x20]
        let index = Int.random(in: 0..<bytes.count, using: &random)
        bytes[index] = Bool.random(using: &random) ? interesting.randomElement(using: &random)! : UInt8.random(in: 0...255, using: &random)
    }

    private func insertBytes(_ bytes: inout [UInt8], _ random: inout SplitMix64) {
        let count = Int.random(in: 1...8, using: &random)
        let inserted = (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
        bytes.insert(contentsOf: inserted, at: position(in: bytes, &random))
    }

    private func deleteRange(_ bytes: inout [UInt8], _ random: inout SplitMix64) {
        guard !bytes.isEmpty else { return }
        let start = Int.random(in: 0..<bytes.count, using: &random)
        let length = Int.random(in: 1...min(bytes.count - start, Bool.random(using: &random) ? 4 : 64), using: &random)
        bytes.removeSubrange(start..<(start + length))
    }

    private func duplicateRange(_ bytes: inout [UInt8], _ random: inout SplitMix64) {
        guard !bytes.isEmpty else { return }
        let start = Int.random(in: 0..<bytes.count, using: &random)
        let length = Int.random(in: 1...min(bytes.count - start, 256), using: &random)
        let copies = Int.random(in: 0..<8, using: &random) == 0 ? Int.random(in: 2...200, using: &random) : 1
        let slice = Array(bytes[start..<(start + length)])
        var inserted: [UInt8] = []
        for _ in 0..<copies { inserted += slice }
        bytes.insert(contentsOf: inserted, at: position(in: bytes, &random))
    }

    private func truncate(_ bytes: inout [UInt8], _ random: inout SplitMix64) {
        guard !bytes.isEmpty else { return }
        bytes.removeLast(Int.random(in: 1...bytes.count, using: &random))
    }

    /// A prefix of this input followed by a suffix of another seed.
    private func splice(_ bytes: inout [UInt8], _ random: inout SplitMix64) {
        let other = seeds.randomElement(using: &random)!
        let cut = position(in: bytes, &random)
        let otherCut = Int.random(in: 0...other.count, using: &random)
        bytes = Array(bytes[..<cut]) + Array(other[otherCut...])
    }

    private func insertToken(_ bytes: inout [UInt8], _ random: inout SplitMix64) {
        let token = tokens.randomElement(using: &random)!
        let at = position(in: bytes, &random)
        if Bool.random(using: &random), at < bytes.count {
            // Overwrite rather than insert, keeping the length.
            let end = min(bytes.count, at + token.count)
            bytes.replaceSubrange(at..<end, with: token)
        } else {
            bytes.insert(contentsOf: token, at: at)
        }
    }

    private func insertInvalidUTF8(_ bytes: inout [UInt8], _ random: inout SplitMix64) {
        bytes.insert(contentsOf: Self.invalidUTF8.randomElement(using: &random)!, at: position(in: bytes, &random))
    }

    private func insertUnicodeEdge(_ bytes: inout [UInt8], _ random: inout SplitMix64) {
        let text = Self.unicodeEdges.randomElement(using: &random)!
        bytes.insert(contentsOf: Array(text.utf8), at: position(in: bytes, &random))
    }

    private func insertDeepNesting(_ bytes: inout [UInt8], _ random: inout SplitMix64) {
        let depth = [16, 64, 600, 5_000].randomElement(using: &random)!
        let (open, close): (String, String) = [("[", "]"), ("{\"a\":", "}"), ("[{\"set\":", "}]")].randomElement(using: &random)!
        let closes = Bool.random(using: &random)
        var nested = String(repeating: open, count: depth)
        nested += "1"
        if closes { nested += String(repeating: close, count: depth) }
        bytes.insert(contentsOf: Array(nested.utf8), at: position(in: bytes, &random))
    }

    /// A run of ASCII digits (in any format) replaced by an extreme number.
    private func replaceDigits(_ bytes: inout [UInt8], _ random: inout SplitMix64) {
        let runs = Self.spans(in: bytes) { $0 >= 0x30 && $0 <= 0x39 }
        guard let run = runs.randomElement(using: &random) else { return insertToken(&bytes, &random) }
        bytes.replaceSubrange(run, with: Array(Self.extremeNumbers.randomElement(using: &random)!.utf8))
    }

    // MARK: JSON-aware mutations (keep the text mostly valid JSON, so the checks behind the parser run)

    private func replaceJSONNumber(_ bytes: inout [UInt8], _ random: inout SplitMix64) {
        let numbers = JSONTokens(bytes).numbers
        guard let number = numbers.randomElement(using: &random) else { return replaceDigits(&bytes, &random) }
        bytes.replaceSubrange(number, with: Array(Self.extremeNumbers.randomElement(using: &random)!.utf8))
    }

    private func replaceJSONString(_ bytes: inout [UInt8], _ random: inout SplitMix64) {
        let strings = JSONTokens(bytes).strings
        guard let string = strings.randomElement(using: &random) else { return insertUnicodeEdge(&bytes, &random) }
        let replacement: String
        switch Int.random(in: 0..<6, using: &random) {
        case 0: replacement = Self.jsonQuoted(String(repeating: "A", count: [65_536, 65_537].randomElement(using: &random)!))
        case 1: replacement = Self.jsonQuoted(String(repeating: "字", count: 21_846))
        case 2: replacement = "\"" + Self.rawEscapes.randomElement(using: &random)! + "\""
        case 3:
            // The same string with an edge case spliced into its contents.
            var inner = Array(bytes[string].dropFirst().dropLast())
            let edge = Array(Self.jsonQuoted(Self.unicodeEdges.randomElement(using: &random)!).utf8.dropFirst().dropLast())
            inner.insert(contentsOf: edge, at: Int.random(in: 0...inner.count, using: &random))
            replacement = "\"" + String(decoding: inner, as: UTF8.self) + "\""
        default: replacement = Self.jsonQuoted(Self.unicodeEdges.randomElement(using: &random)!)
        }
        bytes.replaceSubrange(string, with: Array(replacement.utf8))
    }

    private func replaceJSONValue(_ bytes: inout [UInt8], _ random: inout SplitMix64) {
        let tokens = JSONTokens(bytes)
        let values = tokens.numbers + tokens.strings + tokens.literals
        guard let value = values.randomElement(using: &random) else { return insertToken(&bytes, &random) }
        let others = ["null", "true", "false", "[]", "{}", "\"\"", "0", "-1", "[null]", "{\"int\":1}", "{\"text\":\"x\"}",
                      "{\"int\":1,\"text\":\"x\"}", "\"00000000000000000000000000000000.1\"", "\"1.1\""]
        bytes.replaceSubrange(value, with: Array(others.randomElement(using: &random)!.utf8))
    }

    // MARK: Vocabulary

    static let extremeNumbers = [
        "0", "-0", "-1", "1", "2", "65535", "65536", "4294967296", "281474976710655", "281474976710656",
        "9007199254740993", "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
        "18446744073709551615", "18446744073709551616", "99999999999999999999999999999999999999", "1e308", "1e309",
        "-1e309", "1.7976931348623157e308", "4.9e-324", "1e-400", "0.5", "1.0", "1e2", "-0.0", "NaN", "Infinity", "0x10", "01",
    ]

    /// Strings that have broken text handling somewhere: controls, invisible and combining
    /// characters, case mappings that change length, compatibility forms that fold to ASCII.
    static let unicodeEdges = [
        "", " ", "\u{0}", "\u{7}", "\u{FEFF}", "\u{200B}", "\u{202E}", "\u{2028}", "e\u{301}", "\u{301}", "👨‍👩‍👧", "🇨🇳",
        "\u{FFFD}", "\u{FFFF}", "\u{10FFFF}", "İ", "ß", "ﬃ", "Ａ", "１", "－", "Ⅻ", "㍱", "𝟘", "٣", "ǅ", "\r\n", "\r", "\t",
        "\"", "\\", "%", "%00", "%FF", "%zz", "&", "=", ",", ";", ":", "\u{3000}", "\u{85}", "\u{A0}",
        String(repeating: "\u{301}", count: 500), String(repeating: "a", count: 64), String(repeating: "9", count: 400),
    ]

    /// JSON escape sequences, some invalid, inserted as they are.
    static let rawEscapes = ["\\u0000", "\\ud800", "\\udfff\\ud800", "\\udbff\\udfff", "\\u12", "\\x41", "\\", "\\uD83D\\uDE00", "\\/", "\\b\\f"]

    static let invalidUTF8: [[UInt8]] = [
        [0x80], [0xC0, 0x80], [0xC3], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xFF], [0xFE, 0xFF], [0xE2, 0x82],
        [0xF0, 0x9F, 0x98], [0xEF, 0xBB, 0xBF], [0xC1, 0xBF], [0xF8, 0x88, 0x80, 0x80, 0x80],
    ]

    static let sharedTokens = ["\n", "\r\n", "\"", ",", "\u{0}", " ", "-", ".", "1", "%", "\\"]

    static func jsonQuoted(_ text: String) -> String {
        let data = try! JSONEncoder().encode(text)
        return String(decoding: data, as: UTF8.self)
    }

    static func spans(in bytes: [UInt8], where matches: (UInt8) -> Bool) -> [Range<Int>] {
        var spans: [Range<Int>] = []
        var start: Int?
        for (index, byte) in bytes.enumerated() {
            if matches(byte) {
                if start == nil { start = index }
            } else if let first = start {
                spans.append(first..<index)
                start = nil
            }
        }
        if let first = start { spans.append(first..<bytes.count) }
        return spans
    }
}

/// Where the strings, numbers and literals of a JSON text are, found by a forgiving scan (the
/// text may already be malformed).
struct JSONTokens {
    var strings: [Range<Int>] = []
    var numbers: [Range<Int>] = []
    var literals: [Range<Int>] = []

    init(_ bytes: [UInt8]) {
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x22 {
                var end = index + 1
                while end < bytes.count, bytes[end] != 0x22 { end += bytes[end] == 0x5C ? 2 : 1 }
                guard end < bytes.count else { return }
                strings.append(index..<(end + 1))
                index = end + 1
            } else if byte == 0x2D || (byte >= 0x30 && byte <= 0x39) {
                var end = index + 1
                while end < bytes.count, Self.isNumberByte(bytes[end]) { end += 1 }
                numbers.append(index..<end)
                index = end
            } else if byte == 0x74 || byte == 0x66 || byte == 0x6E {   // true, false, null
                var end = index + 1
                while end < bytes.count, bytes[end] >= 0x61, bytes[end] <= 0x7A { end += 1 }
                literals.append(index..<end)
                index = end
            } else {
                index += 1
            }
        }
    }

    private static func isNumberByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || byte == 0x2E || byte == 0x65 || byte == 0x45 || byte == 0x2B || byte == 0x2D
    }
}
