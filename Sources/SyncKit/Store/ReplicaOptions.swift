/// How a replica is opened.
///
///     var options = ReplicaOptions()
///     options.clock = ManualClock(millis: 1_700_000_000_000)
///     options.driftMillisMax = 5 * 60_000
public struct ReplicaOptions: Sendable {
    /// A remote operation stamped more than this far ahead of local physical time is kept in
    /// quarantine instead of applied (default 10 minutes).
    public var driftMillisMax: Int64 = 10 * 60_000
    /// Where physical time comes from.
    public var clock: any PhysicalClock = SystemClock()
    /// The replica id of a new file (random when nil). An existing file keeps its own.
    public var replicaID: ReplicaID? = nil
    /// Seeds the generator of record ids and of a new replica id (system randomness when nil).
    public var randomSeed: UInt64? = nil
    /// A remote batch is applied in transactions of at most this many operations, so a huge
    /// batch never holds the write lock for long.
    public var applyChunkOpsMax = 2_000
    /// At the end of a sync (caught up, everything sent acknowledged), the op log is compacted, looking at about this many
    /// operations per replica (0: never on its own; `Replica.compact()` still does it).
    public var compactOpsPerSyncMax = 10_000
    /// Limits on values and operations.
    public var limits = Limits()
    /// The key of an encrypted database file (Design.md section 4, "Encryption at rest"), from
    /// the platform's keystore. SyncKit passes it to SQLite with SQLCipher's `PRAGMA key`
    /// before anything else is read, and refuses to open the file when the SQLite it is linked
    /// with cannot encrypt (rather than store personal data in plain text after the app asked
    /// for encryption). nil: the file is not encrypted by SyncKit.
    public var encryptionKey: DatabaseKey? = nil

    package var faultInjector: (@Sendable (FaultPoint) throws -> Void)? = nil

    public init() {}
}

/// Named maxima on everything a replica accepts (Design.md, "Limits").
public struct Limits: Sendable {
    /// UTF-8 bytes of one text value.
    public var textBytesMax = 64 * 1024
    /// Bytes of one blob value.
    public var blobBytesMax = 1024 * 1024
    /// Assignments in one operation.
    public var assignmentsPerOpMax = 256
    /// Ids in one `prev` or set-remove tag list.
    public var idsPerAssignmentMax = 1_024
    /// Absolute value of one counter increment.
    public var counterDeltaMax: Int64 = 1_000_000_000
    /// Operations in one `apply` call.
    public var applyBatchOpsMax = 1_000_000

    public init() {}
}
