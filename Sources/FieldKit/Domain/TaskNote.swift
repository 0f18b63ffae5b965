/// A note a collector adds to a task; notes are an add-wins set, so none is lost in a merge.
///
/// ```swift
/// try store.addTaskNote(task.id, "nobody home, came back at 18:00")
/// task.notes.last?.text
/// ```
public struct TaskNote: Sendable, Hashable, Comparable {
    public let atMillis: Int64
    /// The replica id (hex) of the device that wrote it.
    public let device: String
    public let text: String

    public init(atMillis: Int64, device: String, text: String) {
        self.atMillis = atMillis
        self.device = device
        self.text = text
    }

    var storedText: String { "\(TaskHistoryEntry.paddedMillis(atMillis))|\(device)|\(text)" }

    init?(storedText: String) {
        let parts = storedText.split(separator: "|", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let millis = Int64(parts[0]) else { return nil }
        self.init(atMillis: millis, device: String(parts[1]), text: String(parts[2]))
    }

    public static func < (lhs: TaskNote, rhs: TaskNote) -> Bool {
        lhs.storedText.utf8.lexicographicallyPrecedes(rhs.storedText.utf8)
    }
}
