/// What a clean run did, to show that the faults really happened.
public struct SimulationReport: Sendable, CustomStringConvertible {
    public var seed: UInt64 = 0
    public var steps = 0
    public var devices = 0
    public var localWrites = 0
    public var refusedWrites = 0
    /// Writes FieldKit made but could not read back (a record left partial by an operator's release).
    public var unreadableRecords = 0
    public var exchanges = 0
    public var droppedRequests = 0
    public var droppedReplies = 0
    public var duplicatedReplies = 0
    /// Of the lost replies, those cut mid-body (the device refused what arrived).
    public var cutReplies = 0
    public var refusedExchanges = 0
    public var partitions = 0
    public var bundlesExported = 0
    public var bundlesImported = 0
    public var bundlesReturned = 0
    public var deviceCrashes = 0
    public var hubCrashes = 0
    public var clockEvents = 0
    public var heldOps = 0
    public var releasedOps = 0
    public var discardedOps = 0
    public var resolvedConflicts = 0
    public var reassignments = 0
    public var enrollments = 0
    public var revocations = 0
    /// Revocations with a wipe (the device reported lost).
    public var wipes = 0
    /// Households whose personal values an operator erased.
    public var erasures = 0
    /// Explicit compactions of a device's op log, and the operations they dropped (devices
    /// also compact at the end of every sync, uncounted here).
    public var compactions = 0
    public var opsCompacted = 0
    public var healRounds = 0
    public var hubOps = 0
    public var finalRecords = 0

    public var description: String {
        "seed \(seed): \(steps) steps, \(devices) devices, \(localWrites) writes (\(refusedWrites) refused, \(unreadableRecords) unreadable), \(exchanges) exchanges "
            + "(lost: \(droppedRequests) requests, \(droppedReplies) replies, \(cutReplies) of them cut mid-body; \(duplicatedReplies) duplicated; \(refusedExchanges) refused), "
            + "\(partitions) partitions, bundles \(bundlesExported)/\(bundlesImported)/\(bundlesReturned), crashes device \(deviceCrashes) hub \(hubCrashes), "
            + "\(clockEvents) clock events, held \(heldOps) (released \(releasedOps), discarded \(discardedOps)), resolved \(resolvedConflicts), "
            + "cells changed \(reassignments), enrolled \(enrollments), revoked \(revocations) (\(wipes) with a wipe), erased \(erasures), compactions \(compactions) (\(opsCompacted) ops), heal rounds \(healRounds), "
            + "hub ops \(hubOps), records \(finalRecords)"
    }
}
