/// A small map from field numbers to values, kept sorted by field number: a record has a handful
/// of fields, and a scan of a short array beats hashing every key (`Dictionary` hashes an `Int`
/// with SipHash on every lookup; that was a tenth of a local write's time).
///
///     var counters: FieldMap<Int64> = [:]
///     counters[3, default: 0] += 1
///     for (field, total) in counters { … }    // in field order
struct FieldMap<V>: Sequence {
    /// The field numbers present, ascending.
    private(set) var keys: [FieldID] = []
    private var entries: [V] = []

    init() {}

    var isEmpty: Bool { keys.isEmpty }
    var count: Int { keys.count }
    var values: [V] { entries }

    /// Where `key` is, or where it would go.
    private func position(of key: FieldID) -> (index: Int, found: Bool) {
        var index = 0
        while index < keys.count {
            let here = keys[index]
            if here == key { return (index, true) }
            if here > key { break }
            index += 1
        }
        return (index, false)
    }

    subscript(key: FieldID) -> V? {
        get {
            let (index, found) = position(of: key)
            return found ? entries[index] : nil
        }
        set {
            let (index, found) = position(of: key)
            switch (found, newValue) {
            case (true, let value?): entries[index] = value
            case (true, nil): keys.remove(at: index); entries.remove(at: index)
            case (false, let value?): keys.insert(key, at: index); entries.insert(value, at: index)
            case (false, nil): break
            }
        }
    }

    subscript(key: FieldID, default fallback: @autoclosure () -> V) -> V {
        get { self[key] ?? fallback() }
        _modify {
            var (index, found) = position(of: key)
            if !found {
                keys.insert(key, at: index)
                entries.insert(fallback(), at: index)
                found = true
            }
            yield &entries[index]
        }
    }

    mutating func reserveCapacity(_ capacity: Int) {
        keys.reserveCapacity(capacity)
        entries.reserveCapacity(capacity)
    }

    struct Iterator: IteratorProtocol {
        let keys: [FieldID]
        let entries: [V]
        var index = 0

        mutating func next() -> (key: FieldID, value: V)? {
            guard index < keys.count else { return nil }
            defer { index += 1 }
            return (keys[index], entries[index])
        }
    }

    func makeIterator() -> Iterator { Iterator(keys: keys, entries: entries) }
}

extension FieldMap: Equatable where V: Equatable {}
extension FieldMap: Sendable where V: Sendable {}

extension FieldMap: ExpressibleByDictionaryLiteral {
    init(dictionaryLiteral elements: (FieldID, V)...) {
        for (key, value) in elements { self[key] = value }
    }
}
