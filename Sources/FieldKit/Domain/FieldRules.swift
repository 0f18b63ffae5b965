import Foundation
import SyncKit

/// The validation rules and limits of the field domain, shared by the store and CSV import.
///
/// ```swift
/// try FieldRules.phoneDigits("１３８ 0013-8000")   // "13800138000"
/// try FieldRules.memberCount(120)                // throws "member count must be 0 to 99; got 120"
/// ```
enum FieldRules {
    /// Members in one household.
    static let memberCountRange = 0...99
    /// Characters in a head-of-household name (long transliterated names included).
    static let nameLengthMax = 50
    /// Digits in a phone number (E.164 allows 15), and at least this many (a short landline).
    static let phoneDigitsMax = 15
    static let phoneDigitsMin = 5
    /// Characters in one address part, unit or room.
    static let addressPartLengthMax = 64
    /// Characters in free-text notes.
    static let notesLengthMax = 2_000
    /// Characters in one tag, and tags on one household.
    static let tagLengthMax = 32
    static let tagsMax = 32
    /// Characters in an assignee (a collector or device id).
    static let assigneeLengthMax = 64
    /// Households a collector confirmed as distinct from a new one.
    static let distinctFromMax = 64

    static func memberCount(_ count: Int) throws -> Int {
        guard memberCountRange.contains(count) else {
            throw FieldError(.invalidValue, field: "member_count",
                "member count must be \(memberCountRange.lowerBound) to \(memberCountRange.upperBound); got \(count)")
        }
        return count
    }

    /// A person's name: not empty, one line, at most `nameLengthMax` characters. Kept as typed.
    static func name(_ name: String, field: String = "head_name", what: String = "head of household name") throws -> String {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else {
            throw FieldError(.invalidValue, field: field, "\(what) is empty; type the name as the person gives it")
        }
        guard name.count <= nameLengthMax else {
            throw FieldError(.invalidValue, field: field, "\(what) is \(name.count) characters long; at most \(nameLengthMax)")
        }
        try singleLine(name, field: field, what: what)
        return name
    }

    /// Phone digits: NFKC (full-width digits become ASCII), spaces and dashes removed, then only
    /// digits may remain. Stored as digits: two spellings of one number are one value, never a conflict.
    static func phoneDigits(_ phone: String) throws -> String {
        var digits = ""
        for character in phone.precomposedStringWithCompatibilityMapping {
            if character.isWhitespace || character == "-" || dashes.contains(character) { continue }
            guard character.isASCII, character.isNumber else {
                throw FieldError(.invalidValue, field: "phone",
                    "phone may hold only digits, spaces and dashes; “\(character)” is not allowed (write +86 numbers without +86)")
            }
            digits.append(character)
        }
        guard (phoneDigitsMin...phoneDigitsMax).contains(digits.count) else {
            throw FieldError(.invalidValue, field: "phone",
                "phone must have \(phoneDigitsMin) to \(phoneDigitsMax) digits; got \(digits.count)")
        }
        return digits
    }

    static func optionalPart(_ text: String?, field: String, what: String) throws -> String? {
        guard let text, !text.isBlank else { return nil }
        guard text.count <= addressPartLengthMax else {
            throw FieldError(.invalidValue, field: field, "\(what) is \(text.count) characters long; at most \(addressPartLengthMax)")
        }
        try singleLine(text, field: field, what: what)
        return text
    }

    static func notes(_ text: String, field: String = "notes") throws -> String {
        guard text.count <= notesLengthMax else {
            throw FieldError(.invalidValue, field: field, "notes are \(text.count) characters long; at most \(notesLengthMax)")
        }
        return text
    }

    static func tags(_ tags: Set<String>) throws -> Set<String> {
        guard tags.count <= tagsMax else {
            throw FieldError(.invalidValue, field: "tags", "a household has at most \(tagsMax) tags; got \(tags.count)")
        }
        for tag in tags {
            guard !tag.isBlank, tag.count <= tagLengthMax, !tag.contains(";") else {
                throw FieldError(.invalidValue, field: "tags",
                    "tag “\(tag.prefix(40))” must be 1 to \(tagLengthMax) characters without “;”")
            }
            try singleLine(tag, field: "tags", what: "a tag")
        }
        return tags
    }

    static func assignee(_ text: String) throws -> String {
        guard !text.isEmpty, text.count <= assigneeLengthMax, !text.contains("|") else {
            throw FieldError(.invalidValue, field: "assignee",
                "assignee must be a collector or device id of 1 to \(assigneeLengthMax) characters without “|”")
        }
        try singleLine(text, field: "assignee", what: "assignee")
        return text
    }

    static func coordinate(_ value: Double?, field: String, range: ClosedRange<Double>) throws -> Double? {
        guard let value else { return nil }
        guard value.isFinite, range.contains(value) else {
            throw FieldError(.invalidValue, field: field,
                "\(field) must be between \(range.lowerBound) and \(range.upperBound); got \(value)")
        }
        return value == 0 ? 0 : value
    }

    private static func singleLine(_ text: String, field: String, what: String) throws {
        if text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw FieldError(.invalidValue, field: field, "\(what) must be one line without control characters")
        }
    }

    private static let dashes: Set<Character> = ["\u{2010}", "\u{2011}", "\u{2012}", "\u{2013}", "\u{2014}", "\u{2212}", "\u{FE63}"]
}
