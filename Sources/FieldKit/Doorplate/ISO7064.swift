/// ISO/IEC 7064 MOD 37-2: one check character over digits and letters, catching every single
/// substitution and every adjacent transposition.
///
/// ```swift
/// ISO7064.mod37_2CheckCharacter(for: "G123498654321") // "H" (the standard's own example)
/// ISO7064.mod37_2IsValid("G123498654321H")            // true
/// ```
///
/// Pure system, modulus 37 (prime), radix 2. Data characters are `0-9 A-Z` (values 0...35); the
/// check character is one of those or `*` (value 36), all in QR alphanumeric mode. Because 37 is
/// prime and the weights 2^k are distinct and never 0 or 1 apart mod 37, a change of one character,
/// or a swap of two unequal neighbours (the check character included), always changes the sum.
///
/// Why not the hybrid MOD 37,36: it misses some adjacent transpositions whenever the running state
/// plus the first character is 18 mod 36 and the two characters differ by one (72 of 45,360 state and
/// pair cases); e.g. JS041200078 and JS041200087 both get the check character L.
enum ISO7064 {
    /// The 37 symbols in value order; the last one only appears as a check character.
    static let mod37_2Alphabet: [Character] = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*")

    private static let modulus = 37
    private static let radix = 2

    /// The value of a data character (`0-9`, uppercase `A-Z`), or nil.
    static func dataValue(of character: Character) -> Int? {
        guard let ascii = character.asciiValue else { return nil }
        switch ascii {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(ascii - UInt8(ascii: "0"))
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return Int(ascii - UInt8(ascii: "A")) + 10
        default: return nil
        }
    }

    /// The value of a check character (a data character or `*`), or nil.
    static func checkValue(of character: Character) -> Int? {
        character == "*" ? 36 : dataValue(of: character)
    }

    /// The check character for `data`, or nil when `data` holds a character outside `0-9 A-Z`.
    static func mod37_2CheckCharacter(for data: some StringProtocol) -> Character? {
        var product = 0
        for character in data {
            guard let value = dataValue(of: character) else { return nil }
            product = ((product + value) * radix) % modulus
        }
        return mod37_2Alphabet[(modulus + 1 - product) % modulus]
    }

    /// Whether the last character of `text` is the right check character for the rest.
    static func mod37_2IsValid(_ text: some StringProtocol) -> Bool {
        guard let last = text.last, let checkValue = checkValue(of: last),
            let expected = mod37_2CheckCharacter(for: text.dropLast())
        else { return false }
        return ISO7064.checkValue(of: expected) == checkValue
    }
}
