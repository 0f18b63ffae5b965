/// Keeps a CSV export from carrying live spreadsheet formulas (OWASP "CSV injection"), and
/// undoes that exactly on import.
///
/// ```swift
/// SpreadsheetFormula.neutralized("=HYPERLINK(\"http://x.example\")") // "'=HYPERLINK(\"http://x.example\")"
/// SpreadsheetFormula.restored("'=HYPERLINK(\"http://x.example\")")   // "=HYPERLINK(\"http://x.example\")"
/// SpreadsheetFormula.neutralized("''@SUM(A1)")                       // "'''@SUM(A1)"
/// SpreadsheetFormula.neutralized("-33.5")                            // "-33.5": a plain number
/// SpreadsheetFormula.restored("'hello")                              // "'hello": not formula-like, kept
/// ```
///
/// A value is *formula-like* when, after any leading quotes (`'`), its first Unicode scalar is a
/// trigger (`=`, `+`, `-`, `@`, tab, carriage return) and what follows the quotes is not a plain
/// negative number (`-` then ASCII digits, optionally `.` and more digits: `-33.5`, a southern
/// latitude, which spreadsheets read as a number and never run). Export prefixes one quote to a
/// formula-like value, so a spreadsheet shows it as text; import removes one leading quote from
/// a formula-like value that starts with a quote. Nothing else is ever changed.
///
/// Why `restored(neutralized(s)) == s` for every string `s` (the property test draws millions):
/// whether a value is formula-like depends only on what follows its leading quotes, so adding or
/// removing a leading quote never changes it. If `s` is formula-like, export gives `'s`, which is
/// formula-like and starts with a quote, so import gives back `s`. If `s` is not, export gives `s`
/// unchanged, and import leaves a value that is not formula-like unchanged. So export never maps
/// two values to one text, and a hand-made `'hello` or `'-33.5` (not formula-like) imports as
/// typed. A file a spreadsheet saved again, where the cell's text is `=1` without the quote,
/// imports as `=1` too: the same value.
public enum SpreadsheetFormula {
    /// The first characters that make a spreadsheet read a cell as a formula (OWASP's list).
    public static let triggers: Set<Unicode.Scalar> = ["=", "+", "-", "@", "\t", "\r"]
    /// The prefix that makes a spreadsheet read a cell as text.
    public static let quote: Unicode.Scalar = "'"

    /// Whether a spreadsheet could run `value` (ignoring leading quotes), so export quotes it.
    public static func isFormulaLike(_ value: String) -> Bool {
        let core = value.unicodeScalars.drop { $0 == quote }
        guard let first = core.first, triggers.contains(first) else { return false }
        return !isPlainNegativeNumber(core)
    }

    /// The value as an export writes it: one quote before a formula-like value.
    public static func neutralized(_ value: String) -> String {
        isFormulaLike(value) ? String(quote) + value : value
    }

    /// The value an import reads from a cell: one leading quote less on a formula-like value.
    public static func restored(_ cell: String) -> String {
        guard cell.unicodeScalars.first == quote, isFormulaLike(cell) else { return cell }
        return String(String.UnicodeScalarView(cell.unicodeScalars.dropFirst()))
    }

    /// `-` then one or more ASCII digits, optionally `.` and one or more digits, and nothing else.
    static func isPlainNegativeNumber(_ scalars: Substring.UnicodeScalarView) -> Bool {
        var rest = scalars[...]
        guard rest.popFirst() == "-" else { return false }
        let isDigit: (Unicode.Scalar) -> Bool = { $0.value >= 0x30 && $0.value <= 0x39 }
        let whole = rest.prefix(while: isDigit)
        guard !whole.isEmpty else { return false }
        rest = rest.dropFirst(whole.count)
        guard let point = rest.popFirst() else { return true }
        guard point == ".", !rest.isEmpty else { return false }
        return rest.allSatisfy(isDigit)
    }
}
