import Foundation

// The string forms of the wire format's identifiers, for types of an app's own that embed them
// (a bundle's header). Operations and messages have one codec, `WireJSON` (Design.md section 5).
// Integers that can exceed 2^53 (clock readings) are strings, so clients in any language read
// them exactly.

extension OpID: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let id = OpID(text) else {
            throw DecodingError.dataCorruptedError(in: container,
                debugDescription: "op id \"\(text.prefix(80))\" is not <32 hex digits>.<sequence number ≥ 1>")
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension HLCTimestamp: Codable {
    /// Text form `<milliseconds>.<counter>`.
    public init?(text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let millis = UInt64(parts[0]), let counter = UInt64(parts[1]),
              millis <= Self.millisMax, counter <= Self.counterMax else { return nil }
        self.init(millis: millis, counter: counter)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = HLCTimestamp(text: text) else {
            throw DecodingError.dataCorruptedError(in: container,
                debugDescription: "clock \"\(text.prefix(40))\" is not <milliseconds>.<counter>")
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension EntityID: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do { try self.init(text) } catch let error as SyncError {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.message)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

extension Op {
    /// Canonical JSON (sorted keys): the same bytes on every platform for the same operation.
    public func jsonData() throws -> Data {
        try SyncProtocol.encode(self)
    }
}
