import Foundation

/// The identity of one QR doorplate: the grid cell it belongs to and its plate number in that cell.
///
/// ```swift
/// let code = try DoorplateCode(parsing: " ｊｓ0412－00088 ") // typed on a phone, full-width
/// code.canonical   // "JS0412-00088"
/// code.cellID      // "JS-0412"
/// code.plateNumber // 88
/// ```
///
/// Grammar of the canonical form (12 characters, all in QR alphanumeric mode so the QR stays small):
///
///     code   = area cell "-" plate        e.g. JS0412-00088
///     area   = 2 * letter                 A-Z, the district's area letters (cell id "JS-0412")
///     cell   = 4 * digit                  0000-9999, the grid cell within the area
///     plate  = 5 * digit                  00000-99999, the plate within the cell
///
/// On input, codes are read case-insensitively, full-width characters and dash variants are
/// folded to ASCII, surrounding white space is ignored, and the hyphens after the area letters
/// (`JS-0412-00088`, as in the cell id) and before the plate number are optional. Output is always
/// the canonical form. Codes order by area, then cell, then plate.
public struct DoorplateCode: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// Longest input `init(parsing:)` looks at, in Unicode scalars; longer input is rejected unread.
    public static let inputLengthMax = 64
    /// Characters in the canonical form.
    public static let canonicalLength = 12
    /// Largest cell number (4 digits).
    public static let cellNumberMax = 9_999
    /// Largest plate number (5 digits).
    public static let plateNumberMax = 99_999

    /// The two uppercase area letters, e.g. "JS".
    public let areaLetters: String
    /// The grid cell within the area, 0...cellNumberMax.
    public let cellNumber: Int
    /// The plate within the cell, 0...plateNumberMax.
    public let plateNumber: Int

    /// Reads a code typed or printed by a person; see the type's grammar for what is accepted.
    public init(parsing text: String) throws {
        // The canonical form (`JS0412-00088`, as stored and exported) is read without the general
        // scanner: a district import parses every plate's code several times.
        if let canonical = Self.canonicalParts(text) {
            self.init(validatedAreaLetters: canonical.letters, cellNumber: canonical.cell, plateNumber: canonical.plate)
            return
        }
        let characters = try Self.scan(text, lengthMax: Self.inputLengthMax, subject: "doorplate code")
        var reader = CodeReader(characters: characters, subject: "doorplate code", quotedInput: text)
        self = try reader.readCode(optionalHyphens: true)
        try reader.expectEnd()
    }

    /// The parts of a code written exactly in canonical form (two capital letters, four digits,
    /// a hyphen, five digits), or nil for anything else (which the general reader then judges).
    static func canonicalParts(_ text: String) -> (letters: String, cell: Int, plate: Int)? {
        let bytes = Array(text.utf8)
        guard bytes.count == 12, bytes[6] == UInt8(ascii: "-"),
              bytes[0..<2].allSatisfy({ (0x41...0x5A).contains($0) }),
              bytes[2..<6].allSatisfy({ (0x30...0x39).contains($0) }),
              bytes[7..<12].allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        func number(_ digits: ArraySlice<UInt8>) -> Int { digits.reduce(0) { $0 * 10 + Int($1 - 0x30) } }
        return (String(decoding: bytes[0..<2], as: UTF8.self), number(bytes[2..<6]), number(bytes[7..<12]))
    }

    /// Makes a code from its parts, rejecting parts that do not fit the grammar.
    public init(areaLetters: String, cellNumber: Int, plateNumber: Int) throws {
        let letters = areaLetters.uppercased()
        guard letters.count == 2, letters.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            throw DoorplateError(
                .invalidCharacter,
                "The area letters “\(areaLetters)” must be exactly two letters A–Z, like JS in JS-0412.")
        }
        guard (0...Self.cellNumberMax).contains(cellNumber) else {
            throw DoorplateError(
                .wrongLength, "The cell number \(cellNumber) must be between 0 and \(Self.cellNumberMax).")
        }
        guard (0...Self.plateNumberMax).contains(plateNumber) else {
            throw DoorplateError(
                .wrongLength, "The plate number \(plateNumber) must be between 0 and \(Self.plateNumberMax).")
        }
        self.init(validatedAreaLetters: letters, cellNumber: cellNumber, plateNumber: plateNumber)
    }

    init(validatedAreaLetters: String, cellNumber: Int, plateNumber: Int) {
        self.areaLetters = validatedAreaLetters
        self.cellNumber = cellNumber
        self.plateNumber = plateNumber
    }

    /// The canonical form, e.g. "JS0412-00088".
    public var canonical: String {
        areaLetters + Self.zeroPadded(cellNumber, width: 4) + "-" + Self.zeroPadded(plateNumber, width: 5)
    }

    /// The grid cell id as operators write it, e.g. "JS-0412".
    public var cellID: String {
        areaLetters + "-" + Self.zeroPadded(cellNumber, width: 4)
    }

    /// The ISO/IEC 7064 MOD 37-2 check character over the code's 11 letters and digits.
    ///
    /// The QR payload carries it; a plate may also print it after the code so typed codes can be checked.
    public var checkCharacter: Character {
        // The canonical form holds only A-Z and 0-9 besides the hyphen, so there is always a result.
        ISO7064.mod37_2CheckCharacter(for: canonical.filter { $0 != "-" }) ?? "*"
    }

    public var description: String { canonical }

    public static func < (lhs: DoorplateCode, rhs: DoorplateCode) -> Bool {
        (lhs.areaLetters, lhs.cellNumber, lhs.plateNumber) < (rhs.areaLetters, rhs.cellNumber, rhs.plateNumber)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            try self.init(parsing: text)
        } catch let error as DoorplateError {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.message)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(canonical)
    }

    private static func zeroPadded(_ number: Int, width: Int) -> String {
        let digits = String(number)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

// MARK: - Scanning shared with QRPayload

extension DoorplateCode {
    /// One input character as typed, and its ASCII reading (nil when it has none).
    struct ScannedCharacter {
        var original: Character
        var ascii: Character?
    }

    /// Trims, bounds and folds input: full-width to ASCII (NFKC), lowercase to uppercase, dashes to "-".
    static func scan(_ text: String, lengthMax: Int, subject: String) throws -> [ScannedCharacter] {
        if text.unicodeScalars.prefix(lengthMax + 1).count > lengthMax {
            throw DoorplateError(
                .tooLong,
                "This is too long to be a \(subject) (more than \(lengthMax) characters). "
                    + "Check that you scanned or typed the doorplate's own code.")
        }
        // Trimmed of white space and line ends at both ends (Character's, not Foundation's: a
        // code is parsed for every row of a district file).
        let characters = Array(text)
        guard let first = characters.firstIndex(where: { !$0.isWhitespace }),
              let last = characters.lastIndex(where: { !$0.isWhitespace }) else {
            throw DoorplateError(.empty, "The \(subject) is empty. Scan the plate again or type its code.")
        }
        return characters[first...last].map { ScannedCharacter(original: $0, ascii: asciiReading(of: $0)) }
    }

    private static let dashVariants: Set<Character> = [
        "\u{2010}", "\u{2011}", "\u{2012}", "\u{2013}", "\u{2014}", "\u{2015}", "\u{2212}", "\u{FE58}",
        "\u{FE63}", "\u{FF0D}",
    ]

    private static func asciiReading(of character: Character) -> Character? {
        if let byte = character.asciiValue {
            return Character(Unicode.Scalar((0x61...0x7A).contains(byte) ? byte - 0x20 : byte))
        }
        if dashVariants.contains(character) { return "-" }
        let folded = character.isASCII ? String(character) : String(character).precomposedStringWithCompatibilityMapping
        guard folded.count == 1, let single = folded.first, single.isASCII else { return nil }
        return Character(single.uppercased())
    }
}

/// Reads the code grammar from scanned characters, producing errors that name position and part.
struct CodeReader {
    let characters: [DoorplateCode.ScannedCharacter]
    let subject: String
    let quotedInput: String
    /// What to do, ending every message: the grammar for typed codes, "rescan" for scanned ones.
    let advice: String
    var index = 0

    init(
        characters: [DoorplateCode.ScannedCharacter], subject: String, quotedInput: String,
        advice: String = CodeReader.example, startIndex: Int = 0
    ) {
        self.characters = characters
        self.subject = subject
        self.quotedInput = quotedInput
        self.advice = advice
        self.index = startIndex
    }

    static let example = "Codes look like JS0412-00088: two letters, a 4-digit cell number, a hyphen, a 5-digit plate number."

    mutating func readCode(optionalHyphens: Bool) throws -> DoorplateCode {
        var letters = ""
        for _ in 0..<2 {
            letters.append(try read(.letter, part: "the two area letters"))
        }
        if optionalHyphens { skip("-") }
        let cell = try readDigits(4, part: "the 4-digit cell number")
        if optionalHyphens {
            skip("-")
        } else {
            _ = try read(.hyphen, part: "the hyphen before the plate number")
        }
        let plate = try readDigits(5, part: "the 5-digit plate number")
        return DoorplateCode(validatedAreaLetters: letters, cellNumber: cell, plateNumber: plate)
    }

    mutating func expectEnd() throws {
        guard index < characters.count else { return }
        let extra = characters[index]
        throw DoorplateError(
            .wrongLength,
            "The \(subject)\(quoted) is too long: \(DoorplateError.describe(extra.original)) at position "
                + "\(index + 1) comes after the plate number. \(advice)",
            position: index + 1)
    }

    enum Expected {
        case letter, digit, hyphen

        var phrase: String {
            switch self {
            case .letter: "a letter A–Z"
            case .digit: "a digit 0–9"
            case .hyphen: "a hyphen “-”"
            }
        }

        func matches(_ character: Character) -> Bool {
            switch self {
            case .letter: character.isASCII && character.isLetter
            case .digit: character.isASCII && character.isNumber
            case .hyphen: character == "-"
            }
        }
    }

    private var quoted: String {
        let trimmed = quotedInput.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.count <= 24 ? " “\(trimmed)”" : ""
    }

    private mutating func skip(_ character: Character) {
        if index < characters.count, characters[index].ascii == character { index += 1 }
    }

    private mutating func readDigits(_ count: Int, part: String) throws -> Int {
        var value = 0
        for _ in 0..<count {
            let digit = try read(.digit, part: part)
            value = value * 10 + (digit.wholeNumberValue ?? 0)
        }
        return value
    }

    private mutating func read(_ expected: Expected, part: String) throws -> Character {
        guard index < characters.count else {
            throw DoorplateError(
                .wrongLength, "The \(subject)\(quoted) is too short: \(part) is incomplete. \(advice)")
        }
        let scanned = characters[index]
        let position = index + 1
        guard let ascii = scanned.ascii else {
            throw DoorplateError(
                .invalidCharacter,
                "The \(subject) has \(DoorplateError.describe(scanned.original)) at position \(position), "
                    + "which cannot be part of a doorplate code. \(advice)",
                position: position)
        }
        guard expected.matches(ascii) else {
            throw DoorplateError(
                .invalidCharacter,
                "The \(subject) has \(DoorplateError.describe(scanned.original)) at position \(position), "
                    + "where \(expected.phrase) belongs (\(part)). \(advice)",
                position: position)
        }
        index += 1
        return ascii
    }
}
