/// A doorplate code or doorplate QR payload that could not be read, with a message a collector can act on.
///
/// ```swift
/// do {
///     let code = try QRPayload.parse(scannedText)
/// } catch let error as DoorplateError where error.code == .wrongCheckCharacter {
///     showBanner(error.message) // "...was misread; rescan the plate..."
/// }
/// ```
///
/// `code` is a struct over a private enum (swift-nio's `FileSystemError.Code` pattern), so new
/// kinds of rejection can be added without breaking callers that switch on it.
public struct DoorplateError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of rejection. Compare with `==`; do not assume the list is closed.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Kind: Sendable, Hashable {
            case empty
            case tooLong
            case unknownPrefix
            case unsupportedVersion
            case invalidCharacter
            case wrongLength
            case wrongCheckCharacter
        }

        private let kind: Kind

        private init(_ kind: Kind) {
            self.kind = kind
        }

        /// Nothing but white space was given.
        public static let empty = Code(.empty)
        /// The input is longer than any doorplate code or payload could be (bounded work on garbage scans).
        public static let tooLong = Code(.tooLong)
        /// The QR code does not start with the FieldSync doorplate prefix: it belongs to something else.
        public static let unknownPrefix = Code(.unknownPrefix)
        /// The payload is a FieldSync doorplate of a format version this build cannot read.
        public static let unsupportedVersion = Code(.unsupportedVersion)
        /// A character that cannot appear at that position; `position` says where.
        public static let invalidCharacter = Code(.invalidCharacter)
        /// Too few or too many characters.
        public static let wrongLength = Code(.wrongLength)
        /// The check character does not match: the QR code was misread or the plate is damaged.
        public static let wrongCheckCharacter = Code(.wrongCheckCharacter)

        public var description: String {
            switch kind {
            case .empty: "empty"
            case .tooLong: "tooLong"
            case .unknownPrefix: "unknownPrefix"
            case .unsupportedVersion: "unsupportedVersion"
            case .invalidCharacter: "invalidCharacter"
            case .wrongLength: "wrongLength"
            case .wrongCheckCharacter: "wrongCheckCharacter"
            }
        }
    }

    /// What went wrong, for code that reacts to it.
    public let code: Code
    /// What went wrong and what to do, for the person holding the device.
    public let message: String
    /// The 1-based position of the offending character in the input (after surrounding spaces are trimmed), when one is to blame.
    public let position: Int?

    package init(_ code: Code, _ message: String, position: Int? = nil) {
        self.code = code
        self.message = message
        self.position = position
    }

    public var description: String { message }
}

extension DoorplateError {
    /// Names a character so a reader can see it even when it is invisible or a look-alike.
    static func describe(_ character: Character) -> String {
        let scalars = character.unicodeScalars
        let codes = scalars.map { "U+" + String($0.value, radix: 16, uppercase: true).leftPadded(to: 4) }
            .joined(separator: " ")
        let isVisible = scalars.allSatisfy { scalar in
            !scalar.properties.isWhitespace && scalar.properties.generalCategory != .control
                && scalar.properties.generalCategory != .format
        }
        if character == " " { return "a space" }
        if isVisible, scalars.count == 1, let scalar = scalars.first, scalar.isASCII {
            return "“\(character)”"
        }
        return isVisible ? "“\(character)” (\(codes))" : codes
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
