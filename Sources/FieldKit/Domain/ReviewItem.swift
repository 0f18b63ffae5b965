import SyncKit

/// Something an operator should look at: for now, two households that look like one.
///
/// ```swift
/// for item in try store.reviewItems() where item.status == "open" {
///     print(item.firstID, item.secondID, item.reason)   // "same doorplate JS0412-00088, same dwelling"
/// }
/// ```
///
/// The record's id is derived from (`kind`, `firstID`, `secondID`) with the pair sorted, so
/// every replica that finds the same pair creates the same record and the copies merge.
public struct ReviewItem: Sendable, Hashable {
    public let id: EntityID
    /// `duplicate_household`.
    public let kind: String
    /// The pair, `firstID < secondID`.
    public let firstID: EntityID
    public let secondID: EntityID
    public let cell: GridCell
    /// Why they look alike, e.g. "same head name in cell JS-0412".
    public let reason: String
    /// `open`, `dismissed` or `resolved` (Step 4 resolves).
    public let status: String

    /// The kind of a suspected duplicate household pair.
    public static let duplicateHousehold = "duplicate_household"
}
