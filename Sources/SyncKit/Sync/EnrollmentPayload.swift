import Foundation

/// What an operator's enrollment QR code holds: the central node's URL and the device's
/// one-time token, as one line of text.
///
///     fieldsync:enroll?v=1&url=https%3A%2F%2Fcentral.example%3A8443&token=3f9a…
///
/// The token is at least 128 bits of hex; the URL is http or https.
public struct EnrollmentPayload: Sendable, Equatable {
    public static let version = 1
    public static let prefix = "fieldsync:enroll?"
    public static let lengthMax = 2_048

    public let url: URL
    public let token: String

    public init(url: URL, token: String) throws {
        guard let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https", url.host != nil else {
            throw SyncError(.invalidInput, "the central node's address must be an http:// or https:// URL; got \"\(url.absoluteString.prefix(80))\"")
        }
        guard token.utf8.count >= 32, token.utf8.count <= 256, token.utf8.allSatisfy({ Hex.nibble($0) != nil }) else {
            throw SyncError(.invalidInput, "an enrollment token is 32 to 256 hex digits (at least 128 bits); this one is not")
        }
        self.url = url
        self.token = token
        // The payload percent-encodes the URL again: a long or heavily escaped URL could make a
        // code no device reads back. Refuse it here, where the operator can shorten it.
        guard text.utf8.count <= Self.lengthMax else {
            throw SyncError(.invalidInput, "the node address makes the enrollment payload \(text.utf8.count) bytes, over \(Self.lengthMax): use a shorter URL")
        }
    }

    public var text: String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let url = self.url.absoluteString.addingPercentEncoding(withAllowedCharacters: allowed) ?? self.url.absoluteString
        return "\(Self.prefix)v=\(Self.version)&url=\(url)&token=\(token)"
    }

    /// Parses a scanned or pasted payload, saying what is wrong with a bad one.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.utf8.count <= Self.lengthMax else { throw SyncError(.invalidInput, "the enrollment payload is too long to be one") }
        guard trimmed.hasPrefix(Self.prefix) else {
            throw SyncError(.invalidInput, "this is not a FieldSync enrollment code (it should start with \"\(Self.prefix)\"); scan the code the operator printed")
        }
        var fields: [String: String] = [:]
        for pair in trimmed.dropFirst(Self.prefix.count).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { continue }
            fields[String(parts[0])] = String(parts[1]).removingPercentEncoding
        }
        guard fields["v"] == String(Self.version) else {
            throw SyncError(.invalidInput, "enrollment code version \(fields["v"] ?? "missing") is not supported; this build reads version \(Self.version)")
        }
        guard let urlText = fields["url"], let url = URL(string: urlText) else {
            throw SyncError(.invalidInput, "the enrollment code has no valid central node address")
        }
        guard let token = fields["token"] else { throw SyncError(.invalidInput, "the enrollment code has no token") }
        try self.init(url: url, token: token)
    }
}
