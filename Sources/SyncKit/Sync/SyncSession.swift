import Foundation

/// One sync of a device: exchanges until nothing is left to push and the last page said no
/// more, with a bound on the number of exchanges. The transport is a closure, so HTTP, a bundle
/// file or a simulator's fake network drive the same loop.
///
///     let progress = try SyncSession(replica: replica).run { request in
///         try transport.exchange(request)      // HTTP POST /v1/sync, say
///     }
///     print(progress.opsUp, progress.opsDown)
public struct SyncSession {
    public let replica: Replica
    public var roundsMax: Int
    public var pushOpsMax: Int
    public var pullOpsMax: Int
    /// After catching up, compare per-cell digests with the central node (and pull again any
    /// cell that differs).
    public var verify: Bool

    public init(replica: Replica, roundsMax: Int = SyncProtocol.roundsMax,
                pushOpsMax: Int = SyncProtocol.pushOpsMax, pullOpsMax: Int = SyncProtocol.pageOpsMax, verify: Bool = true) {
        self.replica = replica
        self.roundsMax = roundsMax
        self.pushOpsMax = pushOpsMax
        self.pullOpsMax = pullOpsMax
        self.verify = verify
    }

    /// What one sync moved.
    public struct Progress: Sendable, Equatable {
        public var rounds = 0
        public var opsUp = 0
        public var opsDown = 0
        /// Records installed from snapshots (cells started or pulled again whole).
        public var recordsDown = 0
        /// Message bytes sent and received (counted when the transport carries encoded
        /// bodies: `run(bodies:)`; zero with `run(exchange:)`).
        public var bytesUp = 0
        public var bytesDown = 0
        public var held: [SyncResponse.Held] = []
        public var cells: [String] = []
        /// Local operations still not acknowledged when the sync ended.
        public var unsynced = 0
        /// Cells pulled again because their digest differed from the central node's.
        public var resynced: [String] = []
        /// The last verification found every cell equal.
        public var verified = false
        /// The central node refused what was pushed: the operations stay queued (see
        /// `unsynced`) and this says why. Pulling went on regardless.
        public var refusal: SyncRefusal?
    }

    /// Runs exchanges until done. `progress` is called after each one (for a terminal display).
    /// A transport error ends the sync; everything ingested so far stays, and the next sync
    /// resumes from there. A refusal of the pushed operations (out of scope, breaks the schema)
    /// does not: pulling continues and `Progress.refusal` says why the operations stay queued.
    @discardableResult
    public func run(exchange: (SyncRequest) throws -> SyncResponse, progress report: (Progress) -> Void = { _ in }) throws -> Progress {
        try loop({ (try exchange($0), 0, 0) }, report: report)
    }

    /// The same loop over a transport that carries encoded message bodies (canonical JSON), so
    /// that progress counts bytes up and down.
    ///
    ///     try SyncSession(replica: replica).run(bodies: transport.exchange(body:)) { p in
    ///         print(p.opsUp, p.bytesUp, p.opsDown, p.recordsDown, p.bytesDown)
    ///     }
    @discardableResult
    public func run(bodies exchange: (Data) throws -> Data, progress report: (Progress) -> Void = { _ in }) throws -> Progress {
        try loop({ request in
            let body = try SyncProtocol.encode(request)
            let reply = try exchange(body)
            return (try SyncProtocol.decode(SyncResponse.self, from: reply), body.count, reply.count)
        }, report: report)
    }

    private func loop(_ exchange: (SyncRequest) throws -> (SyncResponse, up: Int, down: Int), report: (Progress) -> Void) throws -> Progress {
        var progress = Progress()
        var verifyNext = false
        var verifications = 0
        // Halved when the node finds a push too large (413), down to one operation.
        var pushLimit = pushOpsMax
        while true {
            guard progress.rounds < roundsMax else {
                throw SyncError(.limitExceeded, "sync stopped after \(roundsMax) exchanges without finishing; the central node keeps sending more. Try again later or report it")
            }
            let request = try replica.nextSyncRequest(pushOpsMax: progress.refusal == nil ? pushLimit : 0,
                                                      pullOpsMax: pullOpsMax, verify: verifyNext)
            verifyNext = false
            let response: SyncResponse
            do {
                let (reply, up, down) = try exchange(request)
                response = reply
                progress.bytesUp += up
                progress.bytesDown += down
            } catch let refusal as SyncRefusal where refusal.status == 413 && request.push.count > 1 {
                // The node's body or batch limit is below this push: send fewer at a time.
                pushLimit = max(1, request.push.count / 2)
                progress.rounds += 1
                continue
            } catch let refusal as SyncRefusal where refusal.refusesPush && !request.push.isEmpty && progress.refusal == nil {
                // Pending uploads never block downloads: keep the ops queued, pull without them.
                progress.refusal = refusal
                progress.rounds += 1
                continue
            }
            let applied = try replica.ingest(response, for: request)
            progress.rounds += 1
            progress.opsUp += request.push.count
            progress.opsDown += applied.applied
            progress.recordsDown += applied.installed
            progress.held += response.held
            progress.cells = response.cells
            progress.resynced += response.resync
            if request.digests != nil { progress.verified = response.resync.isEmpty }
            let remaining = try replica.unsyncedCount()
            progress.unsynced = remaining
            report(progress)
            if !response.more && response.resync.isEmpty {
                if remaining == 0 {
                    // Caught up: verify once (twice if a resync was needed), then stop.
                    if verify && request.digests == nil && verifications < 2 {
                        verifyNext = true
                        verifications += 1
                        continue
                    }
                    return progress
                }
                // The central node stored nothing more of what was pushed (it waits for a gap to
                // be filled): stop rather than push the same operations forever.
                if request.push.isEmpty || response.acceptedThroughSeq < request.push[0].id.seq { return progress }
            }
        }
    }
}
