import Foundation
import SyncKit

/// The central node's one writer, shared by every device's push: pushes that arrive while a
/// transaction is open wait in a queue, and the next transaction commits up to `batchMax` of
/// them together (group commit), each in a savepoint of its own, so that each push keeps its own
/// all-or-nothing answer: a refused push undoes only what it wrote and the others commit.
///
///     let writer = GroupCommit(replica: replica, limits: .init(queueMax: 256, batchMax: 32))
///     let held = try writer.submit { access in try push(request, access: access) }
///
/// A job must not submit another (it would wait for a batch its own thread leads).
///
/// No thread of its own: the first waiting caller whose job is not done leads the next batch
/// (runs the transaction) while the others wait, so a batch forms of what arrived while the
/// previous one ran. More than `queueMax` waiting pushes: the next is turned away at once with
/// `HubBusy`, which the HTTP service answers with 503 and a `Retry-After`.
final class GroupCommit: @unchecked Sendable {
    // @unchecked: `queue`, `leading`, the statistics and every job's `done`/`failure` are only
    // touched while holding `condition`; a job's `run` is called by the one leader thread that
    // took it out of `queue`, while the job's caller waits on `condition` for `done`.
    struct Limits: Sendable {
        var queueMax: Int
        var batchMax: Int
    }

    /// Figures for `/metrics` and the tests.
    struct Statistics: Sendable, Equatable {
        var batches = 0
        var jobs = 0
        var largestBatch = 0
        var turnedAway = 0
    }

    private final class Job {
        let run: (CentralAccess) throws -> Void
        var done = false
        var failure: (any Error)?
        init(run: @escaping (CentralAccess) throws -> Void) { self.run = run }
    }

    private final class Box<T> { var value: T? }

    private let replica: Replica
    private let limits: Limits
    private let condition = NSCondition()
    private var queue: [Job] = []
    private var leading = false
    private var statistics = Statistics()
    /// Seconds a recent batch took (moving average), for `Retry-After`.
    private var batchSeconds = 0.05

    init(replica: Replica, limits: Limits) {
        self.replica = replica
        self.limits = Limits(queueMax: max(0, limits.queueMax), batchMax: max(1, limits.batchMax))
    }

    var figures: Statistics { condition.withLock { statistics } }
    /// Pushes waiting for the writer now (not counting the batch being written).
    var waiting: Int { condition.withLock { queue.count } }
    /// A batch is being written now.
    var isWriting: Bool { condition.withLock { leading } }

    /// Runs `body` in the writer's next transaction, as one savepoint: its writes commit with the
    /// batch, or (when it throws) are undone alone and its error rethrown here. An error of the
    /// transaction itself (the commit, a lock another process holds) fails every job of the batch.
    func submit<T>(_ body: @escaping (CentralAccess) throws -> T) throws -> T {
        let box = Box<T>()
        let job = Job { access in box.value = try body(access) }
        condition.lock()
        guard queue.count < limits.queueMax else {
            statistics.turnedAway += 1
            let retry = retryAfterSeconds()
            condition.unlock()
            throw HubBusy(retryAfterSeconds: retry, message: "the central node has \(limits.queueMax) pushes waiting to be written; try again in \(retry) s")
        }
        queue.append(job)
        while !job.done {
            if !leading {
                leading = true
                let batch = Array(queue.prefix(limits.batchMax))
                queue.removeFirst(batch.count)
                condition.unlock()
                let started = ContinuousClock.now
                write(batch)
                let elapsed = (ContinuousClock.now - started).inSeconds
                condition.lock()
                for job in batch { job.done = true }
                statistics.batches += 1
                statistics.jobs += batch.count
                statistics.largestBatch = max(statistics.largestBatch, batch.count)
                batchSeconds = 0.8 * batchSeconds + 0.2 * elapsed
                leading = false
                condition.broadcast()
            } else {
                condition.wait()
            }
        }
        condition.unlock()
        if let failure = job.failure { throw failure }
        return box.value!
    }

    /// One transaction for the batch, each job in a savepoint. Sets `failure` of the jobs that
    /// failed (all of them when the transaction did).
    private func write(_ batch: [Job]) {
        var failures: [ObjectIdentifier: any Error] = [:]
        do {
            try replica.centralTransaction { access in
                for job in batch {
                    do {
                        try access.part { try job.run(access) }
                    } catch let error as SavepointError {
                        throw error.underlying
                    } catch {
                        failures[ObjectIdentifier(job)] = error
                    }
                }
            }
        } catch {
            for job in batch where failures[ObjectIdentifier(job)] == nil { failures[ObjectIdentifier(job)] = error }
        }
        condition.withLock {
            for job in batch { job.failure = failures[ObjectIdentifier(job)] }
        }
    }

    /// When a push turned away now may expect room: the batches ahead of it at the recent pace.
    private func retryAfterSeconds() -> Int {
        let batchesAhead = Double(queue.count / limits.batchMax + 1)
        return min(30, max(1, Int((batchesAhead * batchSeconds).rounded(.up))))
    }
}

/// The node is too busy to take this request now: 503 with `Retry-After`, nothing stored.
public struct HubBusy: Error, Sendable, Equatable {
    public let retryAfterSeconds: Int
    public let message: String
}
