/// A benchmark that could not produce a trustworthy figure (the work did not do what it should).
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
