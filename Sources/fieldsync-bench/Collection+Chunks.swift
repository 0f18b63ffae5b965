extension Collection {
    /// Consecutive slices of at most `size` elements (the last may be shorter).
    func chunks(of size: Int) -> [SubSequence] {
        precondition(size > 0, "chunk size must be positive")
        var result: [SubSequence] = []
        var start = startIndex
        while start != endIndex {
            let end = index(start, offsetBy: size, limitedBy: endIndex) ?? endIndex
            result.append(self[start..<end])
            start = end
        }
        return result
    }
}
