/// An add-wins observed-remove set: an element is present while some add of it (a tag) has not
/// been removed by a remove that observed that very tag.
///
///     var tags = SetState()
///     tags.add("elderly", tag: a)
///     tags.remove("elderly", tags: [a]) { _ in true }
///     tags.add("elderly", tag: b)   // a concurrent add survives the remove
///
/// A remove may arrive before the add it removes: the tag is kept in `removedPending` until the
/// add arrives, so the result does not depend on delivery order.
struct SetState: Sendable, Equatable {
    struct Tag: Hashable, Sendable {
        var op: OpID
        var element: Value
    }

    /// Live tags of each present element (never empty).
    var elements: [Value: [OpID]] = [:]
    /// Removes seen before their add.
    var removedPending: [Tag] = []

    /// Present elements in canonical order.
    var visible: [Value] { elements.keys.sorted() }

    mutating func add(_ element: Value, tag: OpID) {
        let key = Tag(op: tag, element: element)
        if let index = removedPending.firstIndex(of: key) {
            removedPending.remove(at: index)
            return
        }
        var live = elements[element, default: []]
        guard !live.contains(tag) else { return }
        live.append(tag)
        live.sort()
        elements[element] = live
    }

    mutating func remove(_ element: Value, tags: [OpID], isApplied: (OpID) throws -> Bool) rethrows {
        for tag in tags {
            if var live = elements[element], let index = live.firstIndex(of: tag) {
                live.remove(at: index)
                elements[element] = live.isEmpty ? nil : live
            } else {
                let key = Tag(op: tag, element: element)
                if !removedPending.contains(key), try !isApplied(tag) { removedPending.append(key) }
            }
        }
    }
}
