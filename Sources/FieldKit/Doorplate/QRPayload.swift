/// The text inside a doorplate's QR code: a versioned prefix, the plate code and a check character.
///
/// ```swift
/// let code = try DoorplateCode(parsing: "JS0412-00088")
/// QRPayload.encode(code)                      // "FSP1:JS0412-00088K"
/// try QRPayload.parse("fsp1:js0412-00088k")   // JS0412-00088 (scanners may lowercase)
/// try QRPayload.parse("FSP1:JS0412-00089K")   // throws .wrongCheckCharacter: "...misread; rescan..."
/// ```
///
/// Format version 1, 18 characters, all in QR alphanumeric mode (a version-2 QR symbol holds 20
/// such characters at error correction level H, which suits scratched outdoor plates):
///
///     payload = "FSP" version ":" code check     e.g. FSP1:JS0412-00088K
///     version = 1*digit                          only "1" is read by this build
///     code    = DoorplateCode canonical form     JS0412-00088
///     check   = ISO/IEC 7064 MOD 37-2 check character over the code's 11 letters and digits
///               (0-9, A-Z or *)
///
/// Parsing is case-insensitive, folds full-width characters, and ignores surrounding white space
/// (some scanners append a line break). Anything else is rejected with a `DoorplateError`.
public enum QRPayload {
    /// What every FieldSync doorplate payload starts with ("FieldSync Plate").
    public static let prefix = "FSP"
    /// The format version `encode` writes and the only one `parse` reads.
    public static let versionCurrent = 1
    /// Characters in a version-1 payload.
    public static let payloadLength = 18
    /// Longest input `parse` looks at, in Unicode scalars; longer scans are rejected unread.
    public static let payloadLengthMax = 64

    /// The payload to print as a QR code for `code`.
    public static func encode(_ code: DoorplateCode) -> String {
        "\(prefix)\(versionCurrent):\(code.canonical)\(code.checkCharacter)"
    }

    /// Reads a scanned payload, checking prefix, version, characters, length and check character.
    public static func parse(_ text: String) throws -> DoorplateCode {
        let characters = try DoorplateCode.scan(text, lengthMax: payloadLengthMax, subject: "doorplate QR code")
        let ascii = characters.map(\.ascii)
        let prefixCharacters = Array(prefix).map { Optional($0) }

        guard ascii.starts(with: prefixCharacters), ascii.count > prefixCharacters.count,
            let first = ascii[prefixCharacters.count], first.isASCII, first.isNumber
        else {
            let start = String(characters.prefix(16).map(\.original))
            throw DoorplateError(
                .unknownPrefix,
                "This QR code is not a FieldSync doorplate (it starts with “\(start)”, a doorplate starts "
                    + "with “\(prefix)\(versionCurrent):”). Scan the QR code on the doorplate itself.")
        }

        var index = prefixCharacters.count
        var version = ""
        while index < ascii.count, let character = ascii[index], character.isASCII, character.isNumber {
            version.append(character)
            index += 1
        }
        guard index < ascii.count, ascii[index] == ":" else {
            let found = index < characters.count ? DoorplateError.describe(characters[index].original) : "the end"
            throw DoorplateError(
                .invalidCharacter,
                "The doorplate QR code has \(found) at position \(index + 1), where “:” should follow the "
                    + "version number. The code was misread; rescan the plate.",
                position: index < characters.count ? index + 1 : nil)
        }
        guard version == String(versionCurrent) else {
            throw DoorplateError(
                .unsupportedVersion,
                "This doorplate uses QR format version \(version), but this app reads version "
                    + "\(versionCurrent) only. Update the app, then scan again.")
        }
        index += 1
        let bodyStart = index

        // Stray characters first: naming the character helps more than a length count.
        for position in bodyStart..<characters.count {
            let isAllowed = ascii[position].map { $0 == "-" || ISO7064.checkValue(of: $0) != nil } ?? false
            if !isAllowed {
                throw DoorplateError(
                    .invalidCharacter,
                    "The doorplate QR code has \(DoorplateError.describe(characters[position].original)) at "
                        + "position \(position + 1), which never appears in a doorplate code. "
                        + "The code was misread; rescan the plate.",
                    position: position + 1)
            }
        }
        guard characters.count == payloadLength else {
            throw DoorplateError(
                .wrongLength,
                "The doorplate QR code has \(characters.count) characters; a version-\(versionCurrent) "
                    + "doorplate QR code has \(payloadLength). The code was misread; rescan the plate.")
        }

        var reader = CodeReader(
            characters: characters, subject: "doorplate QR code", quotedInput: "",
            advice: "The code was misread; rescan the plate.", startIndex: bodyStart)
        let code = try reader.readCode(optionalHyphens: false)
        let checkIndex = reader.index
        guard let check = ascii[checkIndex], ISO7064.checkValue(of: check) == ISO7064.checkValue(of: code.checkCharacter)
        else {
            throw DoorplateError(
                .wrongCheckCharacter,
                "The doorplate QR code was misread (its check character does not match); rescan the plate. "
                    + "If it fails again the plate may be damaged: type the code printed on it and report the plate.",
                position: checkIndex + 1)
        }
        return code
    }
}
