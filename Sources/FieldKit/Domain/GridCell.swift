import Foundation

/// A grid cell id: two area letters, a hyphen and a 4-digit cell number, e.g. `JS-0412`.
///
/// ```swift
/// let cell = try GridCell(parsing: " ｊｓ－0412 ")   // typed on a phone
/// cell.id                                          // "JS-0412"
/// GridCell(of: try DoorplateCode(parsing: "JS0412-00088")) == cell   // a plate's cell is in its code
/// ```
///
/// Every household, doorplate and task belongs to exactly one cell; the cell is the unit of
/// partial replication, so it is stored as a plain column (`cell`) that SyncKit indexes.
public struct GridCell: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The canonical id, e.g. "JS-0412".
    public let id: String

    /// Reads a cell id case-insensitively, folding full-width characters and dash variants; the
    /// hyphen is optional (`JS0412`).
    public init(parsing text: String) throws {
        let folded = text.precomposedStringWithCompatibilityMapping.uppercased()
            .trimmingCharacters(in: .whitespacesAndNewlines)
        var characters = Array(folded.map { Self.dashes.contains($0) ? "-" : $0 })
        if characters.count == 7, characters[2] == "-" { characters.remove(at: 2) }
        guard characters.count == 6,
            characters[0..<2].allSatisfy({ $0.isASCII && $0.isLetter }),
            characters[2..<6].allSatisfy({ $0.isASCII && $0.isNumber })
        else {
            throw FieldError(.invalidValue, field: "cell",
                "cell “\(text.prefix(24))” is not a grid cell id; cells look like JS-0412 (two letters, a hyphen, four digits)")
        }
        id = String(characters[0..<2]) + "-" + String(characters[2..<6])
    }

    /// The cell a doorplate belongs to: its code names it.
    public init(of code: DoorplateCode) {
        id = code.cellID
    }

    public var description: String { id }

    public static func < (lhs: GridCell, rhs: GridCell) -> Bool { lhs.id < rhs.id }

    private static let dashes: Set<Character> = ["\u{2010}", "\u{2011}", "\u{2012}", "\u{2013}", "\u{2014}", "\u{2212}", "\u{FE63}"]
}
