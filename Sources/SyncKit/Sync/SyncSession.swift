import Foundation

/// What a sync session needs from the device side: build the next request, take a reply. A
/// `Replica` is one; a test or a simulator can stand in its own (a fake endpoint, or a replica
/// wrapped with fault injection).
public protocol SyncEndpoint: AnyObject {
    /// The request for the next exchange (see `Replica.nextSyncRequest`).
    func nextSyncRequest(pushOpsMax: Int, pullOpsMax: Int, verify: Bool) throws -> SyncRequest
    /// Takes a reply to `request` whole or not at all (see `Replica.ingest`).
    func ingest(_ response: SyncResponse, for request: SyncRequest) throws -> ApplyReport
    /// Local operations not yet acknowledged by the central node.
    func unsyncedCount() throws -> Int
    /// Erases everything the device holds, at the central node's request (a lost or stolen
    /// device, `Replica.wipe`).
    func wipe() throws
}

extension SyncEndpoint {
    /// An endpoint that holds nothing of its own has nothing to erase.
    public func wipe() throws {}
}

extension Replica: SyncEndpoint {}

/// One sync of a device, as a value with no I/O: it says which request to send next and takes
/// the reply (or the node's refusal); whoever carries the messages (HTTP, a bundle file, a
/// simulator's faulty network) drives it. Its policy: push the oldest unacknowledged operations,
/// pull every page, keep pulling when the node refuses a push, halve a push the node finds too
/// large, stop when the node stores nothing more of what is pushed, then verify the cells' digests
/// (once, and once more after cells were taken again), and never exceed `roundsMax` exchanges.
///
///     var session = SyncSession(replica: replica)
///     while let request = try session.nextRequest() {
///         do {
///             try session.receive(try await transport.exchange(request))
///         } catch let refusal as SyncRefusal {
///             try session.receive(refusal)          // rethrows what the session cannot go on after
///         }
///     }
///     print(session.progress.opsUp, session.progress.opsDown)
///
/// `run(exchange:)` (blocking) and `run(async:)` are that loop. An exchange that is lost (the
/// transport failed) leaves the session where it was: the device side took nothing of it, and
/// `nextRequest()` asks again, or the next session resumes from the replica's stored cursors.
public struct SyncSession {
    public let endpoint: any SyncEndpoint
    public var roundsMax: Int
    /// Operations pushed per exchange, and the page size asked for (both may be changed between
    /// exchanges: the simulator varies them).
    public var pushOpsMax: Int
    public var pullOpsMax: Int
    /// After catching up, compare per-cell digests with the central node (and pull again any
    /// cell that differs).
    public var verify: Bool

    /// What the session has done so far.
    public private(set) var progress = Progress()
    private var state = State.ready
    private var verifyNext = false
    private var verifications = 0
    /// The device erased its data at the node's request: the next request says so.
    private var wiped = false
    /// Halved when the node finds a push too large (413), down to one operation.
    private var pushLimit: Int

    private enum State {
        case ready
        case awaiting(SyncRequest)
        case done
    }

    public init(endpoint: any SyncEndpoint, roundsMax: Int = SyncProtocol.roundsMax,
                pushOpsMax: Int = SyncProtocol.pushOpsMax, pullOpsMax: Int = SyncProtocol.pageOpsMax, verify: Bool = true) {
        self.endpoint = endpoint
        self.roundsMax = roundsMax
        self.pushOpsMax = pushOpsMax
        self.pullOpsMax = pullOpsMax
        self.verify = verify
        self.pushLimit = pushOpsMax
    }

    public init(replica: Replica, roundsMax: Int = SyncProtocol.roundsMax,
                pushOpsMax: Int = SyncProtocol.pushOpsMax, pullOpsMax: Int = SyncProtocol.pageOpsMax, verify: Bool = true) {
        self.init(endpoint: replica, roundsMax: roundsMax, pushOpsMax: pushOpsMax, pullOpsMax: pullOpsMax, verify: verify)
    }

    /// What one sync moved.
    public struct Progress: Sendable, Equatable {
        public var rounds = 0
        public var opsUp = 0
        public var opsDown = 0
        /// Records installed from snapshots (cells started or pulled again whole).
        public var recordsDown = 0
        /// Message bytes sent and received, as the driver reported them (`run(bodies:)` and the
        /// HTTP drivers do; zero otherwise).
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

    /// True once the session needs no more exchanges.
    public var isDone: Bool {
        if case .done = state { return true }
        return false
    }

    /// The request awaiting a reply, if one was sent.
    public var pending: SyncRequest? {
        if case .awaiting(let request) = state { return request }
        return nil
    }

    /// The next request to send, or nil when the sync is over. Called again before a reply came
    /// (the last exchange was lost), it builds the request afresh from the replica.
    public mutating func nextRequest() throws -> SyncRequest? {
        if case .done = state { return nil }
        guard progress.rounds < roundsMax else {
            state = .done
            throw SyncError(.limitExceeded, "sync stopped after \(roundsMax) exchanges without finishing; the central node keeps sending more. Try again later or report it")
        }
        var request = try endpoint.nextSyncRequest(pushOpsMax: progress.refusal == nil ? min(pushLimit, pushOpsMax) : 0,
                                                   pullOpsMax: pullOpsMax, verify: verifyNext)
        if wiped { request.wiped = true }
        state = .awaiting(request)
        return request
    }

    /// Takes the central node's reply to the pending request: the device side ingests it (whole
    /// or not at all: a throw leaves the session waiting, and the replica as it was), and the
    /// session decides whether more exchanges are needed. `bytesUp`/`bytesDown`: the message
    /// sizes, for progress.
    public mutating func receive(_ response: SyncResponse, bytesUp: Int = 0, bytesDown: Int = 0) throws {
        guard case .awaiting(let request) = state else {
            preconditionFailure("SyncSession.receive: no request is waiting for a reply; call nextRequest() first")
        }
        let applied = try endpoint.ingest(response, for: request)
        verifyNext = false
        progress.rounds += 1
        progress.opsUp += request.push.count
        progress.opsDown += applied.applied
        progress.recordsDown += applied.installed
        progress.bytesUp += bytesUp
        progress.bytesDown += bytesDown
        progress.held += response.held
        progress.cells = response.cells
        progress.resynced += response.resync
        if request.digests != nil { progress.verified = response.resync.isEmpty }
        let remaining = try endpoint.unsyncedCount()
        progress.unsynced = remaining
        state = .ready
        guard !response.more && response.resync.isEmpty else { return }
        if remaining == 0 {
            // Caught up: verify once (twice if a resync was needed), then stop.
            if verify && request.digests == nil && verifications < 2 {
                verifyNext = true
                verifications += 1
            } else {
                state = .done
            }
        } else if request.push.isEmpty || response.acceptedThroughSeq < request.push[0].id.seq {
            // The central node stored nothing more of what was pushed (it waits for a gap to be
            // filled): stop rather than push the same operations forever.
            state = .done
        }
    }

    /// Takes the central node's refusal of the pending request. A push the node finds too large
    /// is sent again in halves; a refusal of what was pushed (out of scope, a sequence gap) keeps
    /// the operations queued and the session goes on pulling without them. Any other refusal
    /// (revoked, unauthorized, a refusal of the pull itself) ends the session: it is rethrown.
    /// `wipe` (the device was reported lost or stolen) erases the device's data and confirms it
    /// to the node, whose answer, `wiped`, ends the session.
    public mutating func receive(_ refusal: SyncRefusal) throws {
        guard case .awaiting(let request) = state else {
            preconditionFailure("SyncSession.receive: no request is waiting for a reply; call nextRequest() first")
        }
        if refusal.code == SyncRefusal.wipeCode {
            // Reported lost or stolen: erase everything here, then tell the node it is done
            // (the next request). Again after a lost confirmation: erasing twice is harmless.
            try endpoint.wipe()
            wiped = true
        } else if refusal.status == 413 && request.push.count > 1 {
            // The node's body or batch limit is below this push: send fewer at a time.
            pushLimit = max(1, request.push.count / 2)
        } else if refusal.refusesPush && !request.push.isEmpty && progress.refusal == nil {
            // Pending uploads never block downloads: keep the ops queued, pull without them.
            progress.refusal = refusal
        } else {
            state = .done
            throw refusal
        }
        progress.rounds += 1
        state = .ready
    }

    // MARK: Drivers

    /// Runs exchanges until done over a blocking transport. `progress` is called after each one
    /// (for a terminal display). A transport error ends the sync; everything ingested so far
    /// stays, and the next sync resumes from there.
    ///
    ///     let progress = try SyncSession(replica: replica).run(exchange: transport.exchange)
    @discardableResult
    public func run(exchange: (SyncRequest) throws -> SyncResponse, progress report: (Progress) -> Void = { _ in }) throws -> Progress {
        var session = self
        while let request = try session.nextRequest() {
            let response: SyncResponse
            do {
                response = try exchange(request)
            } catch let refusal as SyncRefusal {
                try session.receive(refusal)
                continue
            }
            try session.receive(response)
            report(session.progress)
        }
        return session.progress
    }

    /// The same loop over a blocking transport that carries encoded message bodies (canonical
    /// JSON), so that progress counts bytes up and down.
    ///
    ///     try SyncSession(replica: replica).run(bodies: transport.exchange(body:)) { p in
    ///         print(p.opsUp, p.bytesUp, p.opsDown, p.recordsDown, p.bytesDown)
    ///     }
    @discardableResult
    public func run(bodies exchange: (Data) throws -> Data, progress report: (Progress) -> Void = { _ in }) throws -> Progress {
        var session = self
        while let request = try session.nextRequest() {
            let body = try SyncProtocol.encode(request)
            let reply: Data
            do {
                reply = try exchange(body)
            } catch let refusal as SyncRefusal {
                try session.receive(refusal)
                continue
            }
            try session.receive(try SyncProtocol.decode(SyncResponse.self, from: reply), bytesUp: body.count, bytesDown: reply.count)
            report(session.progress)
        }
        return session.progress
    }

    /// The loop for an `async` app: the transport suspends instead of blocking a thread (use
    /// `HTTPSyncTransport.send(body:)`, which also waits out the node's `Retry-After` without
    /// blocking). The replica's own work (reading the outbox, taking a reply) is short
    /// synchronous SQLite work under its lock.
    ///
    ///     let transport = HTTPSyncTransport(baseURL: url, token: token)
    ///     let progress = try await SyncSession(replica: replica).run(async: transport.send(body:))
    @discardableResult
    public func run(async exchange: (Data) async throws -> Data, progress report: (Progress) -> Void = { _ in }) async throws -> Progress {
        var session = self
        while let request = try session.nextRequest() {
            try Task.checkCancellation()
            let body = try SyncProtocol.encode(request)
            let reply: Data
            do {
                reply = try await exchange(body)
            } catch let refusal as SyncRefusal {
                try session.receive(refusal)
                continue
            }
            try session.receive(try SyncProtocol.decode(SyncResponse.self, from: reply), bytesUp: body.count, bytesDown: reply.count)
            report(session.progress)
        }
        return session.progress
    }
}
