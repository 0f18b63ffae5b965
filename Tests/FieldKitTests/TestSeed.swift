import Foundation

/// The seed of a property test: `FIELDSYNC_SEED` from the environment when set (to replay a
/// failure), else `fallback`.
func testSeed(default fallback: UInt64) -> UInt64 {
    ProcessInfo.processInfo.environment["FIELDSYNC_SEED"].flatMap { UInt64($0) } ?? fallback
}

extension RandomNumberGenerator {
    /// One element of a non-empty array, drawn from this generator.
    mutating func element<T>(of array: [T]) -> T {
        array[Int.random(in: 0..<array.count, using: &self)]
    }
}
