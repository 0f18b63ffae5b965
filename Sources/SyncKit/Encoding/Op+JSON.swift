import Foundation

// The JSON form of operations: the wire format (Design.md, "Op JSON"). Integers that can
// exceed 2^53 (clock readings) are strings, so clients in any language read them exactly.

extension Value: Codable {
    private enum Key: String, CodingKey { case int, real, text, bool, blob }

    public init(from decoder: any Decoder) throws {
        if let single = try? decoder.singleValueContainer(), single.decodeNil() {
            self = .null
            return
        }
        let container = try decoder.container(keyedBy: Key.self)
        guard container.allKeys.count == 1, let key = container.allKeys.first else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                debugDescription: "a value is null or an object with exactly one of int, real, text, bool, blob"))
        }
        switch key {
        case .int: self = .int(try container.decode(Int64.self, forKey: .int))
        case .real:
            let real = try container.decode(Double.self, forKey: .real)
            self = .real(real)
        case .text: self = .text(try container.decode(String.self, forKey: .text))
        case .bool: self = .bool(try container.decode(Bool.self, forKey: .bool))
        case .blob:
            let base64 = try container.decode(String.self, forKey: .blob)
            guard let data = Data(base64Encoded: base64) else {
                throw DecodingError.dataCorruptedError(forKey: .blob, in: container, debugDescription: "blob is not valid base64")
            }
            self = .blob([UInt8](data))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        if case .null = self {
            var single = encoder.singleValueContainer()
            try single.encodeNil()
            return
        }
        var container = encoder.container(keyedBy: Key.self)
        switch self {
        case .null: break
        case .int(let v): try container.encode(v, forKey: .int)
        case .real(let v): try container.encode(v, forKey: .real)
        case .text(let v): try container.encode(v, forKey: .text)
        case .bool(let v): try container.encode(v, forKey: .bool)
        case .blob(let v): try container.encode(Data(v).base64EncodedString(), forKey: .blob)
        }
    }
}

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

extension Assignment: Codable {
    private enum Key: String, CodingKey { case field, set, prev, increment, add, remove, tags }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        let field = try c.decode(String.self, forKey: .field)
        let change: Change
        if c.contains(.set) {
            change = .set(try c.decode(Value.self, forKey: .set), prev: try c.decodeIfPresent([OpID].self, forKey: .prev) ?? [])
        } else if c.contains(.increment) {
            change = .increment(try c.decode(Int64.self, forKey: .increment))
        } else if c.contains(.add) {
            change = .add(try c.decode(Value.self, forKey: .add))
        } else if c.contains(.remove) {
            change = .remove(try c.decode(Value.self, forKey: .remove), tags: try c.decodeIfPresent([OpID].self, forKey: .tags) ?? [])
        } else {
            throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath,
                debugDescription: "assignment to \"\(field.prefix(64))\" has none of set, increment, add, remove"))
        }
        self.init(field: field, change: change)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(field, forKey: .field)
        switch change {
        case .set(let value, let prev):
            try c.encode(value, forKey: .set)
            try c.encode(prev, forKey: .prev)
        case .increment(let delta): try c.encode(delta, forKey: .increment)
        case .add(let element): try c.encode(element, forKey: .add)
        case .remove(let element, let tags):
            try c.encode(element, forKey: .remove)
            try c.encode(tags, forKey: .tags)
        }
    }
}

extension Op: Codable {
    private enum Key: String, CodingKey { case id, hlc, collection, entity, assignments }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        self.init(id: try c.decode(OpID.self, forKey: .id),
                  hlc: try c.decode(HLCTimestamp.self, forKey: .hlc),
                  collection: try c.decode(String.self, forKey: .collection),
                  entity: try c.decode(EntityID.self, forKey: .entity),
                  assignments: try c.decode([Assignment].self, forKey: .assignments))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(id, forKey: .id)
        try c.encode(hlc, forKey: .hlc)
        try c.encode(collection, forKey: .collection)
        try c.encode(entity, forKey: .entity)
        try c.encode(assignments, forKey: .assignments)
    }
}

extension Op {
    /// Canonical JSON (sorted keys): the same bytes on every platform for the same operation.
    public func jsonData() throws -> Data {
        try SyncProtocol.encode(self)
    }
}
