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
    /// What the device said at its last exchange (nil: it never said): operations it had not
    /// yet had acknowledged, and how far its own clock was from the node's.
    public var hint: DeviceHint? = nil
    /// Asked to erase its data (reported lost or stolen), and when it said it had.
    public var wipe: DeviceWipe? = nil
}

/// An operator's request that a lost or stolen device erase its data (`central revoke --wipe`),
/// and whether the device has confirmed it.
public struct DeviceWipe: Sendable, Equatable {
    public let requestedMillis: Int64
    /// `lost` or `stolen`.
    public let reason: String
    public let wipedMillis: Int64?
}

/// A device's hints at its last exchange (Design.md section 13, `clockMillis` and `unsynced`): its operations not yet
/// acknowledged after that exchange's push, and its clock's offset from the node's (positive:
/// the device's clock is ahead), measured to within the exchange's transit time.
public struct DeviceHint: Sendable, Equatable {
    public let unsynced: Int?
    public let clockOffsetMillis: Int64?
    public let atMillis: Int64

    /// The hint of one request, received at `nowMillis` on the node's clock.
    init?(_ request: SyncRequest, nowMillis: Int64) {
        guard request.unsynced != nil || request.clockMillis != nil else { return nil }
        unsynced = request.unsynced.map { max(0, $0 - request.push.count) }
        clockOffsetMillis = request.clockMillis.map { $0 - nowMillis }
        atMillis = nowMillis
    }

    init(unsynced: Int?, clockOffsetMillis: Int64?, atMillis: Int64) {
        self.unsynced = unsynced
        self.clockOffsetMillis = clockOffsetMillis
        self.atMillis = atMillis
    }
}

/// What an operator hands a new device: its name and a one-time secret token.
public struct Enrollment: Sendable, Equatable {
    public let device: String
    public let token: String
    public let cells: [String]
}
