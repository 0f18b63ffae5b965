import SyncKit

/// A device enrolled at the central node, as operators see it.
public struct DeviceInfo: Sendable, Equatable {
    public let name: String
    /// Bound at the device's first sync.
    public let replica: ReplicaID?
    public let cells: [String]
    public let revoked: Bool
    public let enrolledMillis: Int64
    public let lastSeenMillis: Int64?
}

/// What an operator hands a new device: its name and a one-time secret token.
public struct Enrollment: Sendable, Equatable {
    public let device: String
    public let token: String
    public let cells: [String]
}
