import Foundation

/// One status change of a task: who (device), when, from which status to which, and the
/// assignee it was given. Kept in an add-wins set, so concurrent changes are all kept.
///
/// ```swift
/// let entry = TaskHistoryEntry(atMillis: 1_767_225_600_000, device: "00ff...", from: .assigned, to: .inProgress)
/// entry.storedText   // "1767225600000|00ff...|assigned|in_progress|"
/// ```
///
/// The stored text starts with 13 zero-padded digits of milliseconds, so the set's canonical
/// (byte) order is the order of the writers' clocks.
public struct TaskHistoryEntry: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Milliseconds since 1970 on the writing device (never behind its hybrid logical clock).
    public let atMillis: Int64
    /// The replica id (hex) of the device that made the change.
    public let device: String
    /// The status before (nil for a new task).
    public let from: TaskStatus?
    public let to: TaskStatus
    /// The assignee the change set, if it set one.
    public let assignee: String?

    public init(atMillis: Int64, device: String, from: TaskStatus?, to: TaskStatus, assignee: String? = nil) {
        self.atMillis = atMillis
        self.device = device
        self.from = from
        self.to = to
        self.assignee = assignee
    }

    public var storedText: String {
        [Self.paddedMillis(atMillis), device, from?.rawValue ?? "-", to.rawValue, assignee ?? ""].joined(separator: "|")
    }

    /// Reads a stored entry; nil when it is not one (written by a newer app).
    public init?(storedText: String) {
        let parts = storedText.split(separator: "|", maxSplits: 4, omittingEmptySubsequences: false)
        guard parts.count == 5, let millis = Int64(parts[0]), let to = TaskStatus(rawValue: String(parts[3])) else { return nil }
        let from = parts[2] == "-" ? nil : TaskStatus(rawValue: String(parts[2]))
        guard parts[2] == "-" || from != nil else { return nil }
        self.init(atMillis: millis, device: String(parts[1]), from: from, to: to, assignee: parts[4].isEmpty ? nil : String(parts[4]))
    }

    public var description: String {
        "\(atMillis) \(device.prefix(8)) \(from?.rawValue ?? "new")→\(to.rawValue)" + (assignee.map { " (\($0))" } ?? "")
    }

    public static func < (lhs: TaskHistoryEntry, rhs: TaskHistoryEntry) -> Bool {
        lhs.storedText.utf8.lexicographicallyPrecedes(rhs.storedText.utf8)
    }

    static func paddedMillis(_ millis: Int64) -> String {
        let digits = String(max(0, millis))
        return String(repeating: "0", count: max(0, 13 - digits.count)) + digits
    }
}
