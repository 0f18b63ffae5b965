import FieldKit
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization
import SyncKit

/// `fieldsync-bench district-client JOB.json`: one client process of the district bench. Runs
/// its devices `concurrency` at a time, each a real FieldKit replica syncing over HTTP, and
/// prints one JSON line per exchange (`Sample`) and one per device (`Outcome`).
struct DistrictClient {
    struct Device: Codable, Sendable {
        var name: String
        var token: String
        var cell: String
    }

    struct Job: Codable {
        var url: String
        var devices: [Device]
        var concurrency: Int
        var directory: String
        /// "burst": a new replica takes its cell, writes `ops`, syncs again. "morning": the
        /// replica from the burst writes `ops` and syncs.
        var phase: String
        var ops: Int
    }

    /// One exchange as the device saw it, retries included.
    struct Sample: Codable {
        var kind: String
        var ms: Double
        var status: Int
        var code: String?
        var up: Int
        var down: Int
        var records: Int
        /// Why the exchange was retried before its answer (`HTTP 503`, `unreachable`), if it was.
        var retries: [String]? = nil
    }

    struct Outcome: Codable {
        var device: String
        var ok: Bool
        var verified: Bool
        var error: String?
    }

    let jobPath: String

    func run() throws {
        let job = try JSONDecoder().decode(Job.self, from: Data(contentsOf: URL(fileURLWithPath: jobPath)))
        guard let base = URL(string: job.url) else { throw BenchError("job url \(job.url) is not a URL") }
        let next = Atomic<Int>(0)
        let output = Mutex<Void>(())
        let group = DispatchGroup()
        for _ in 0..<max(1, job.concurrency) {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                // A session of its own per worker, as every tablet has: URLSession.shared would
                // make the workers of this process queue for a few shared connections.
                let configuration = URLSessionConfiguration.ephemeral
                configuration.timeoutIntervalForRequest = 600
                configuration.timeoutIntervalForResource = 600
                let session = URLSession(configuration: configuration)
                while true {
                    let index = next.add(1, ordering: .relaxed).oldValue
                    guard index < job.devices.count else { return }
                    let lines = Self.work(job.devices[index], job: job, base: base, session: session)
                    output.withLock { _ in for line in lines { Console.out(line) } }
                }
            }
            thread.stackSize = 4 << 20
            thread.start()
        }
        group.wait()
    }

    /// One device's part of the scenario; returns its output lines.
    private static func work(_ device: Device, job: Job, base: URL, session: URLSession) -> [String] {
        var samples: [Sample] = []
        let retried = Mutex<[String]>([])
        let transport = HTTPSyncTransport(baseURL: base, token: device.token, timeoutSeconds: 600, session: session,
                                          backoffBaseSeconds: 0.2, backoffMaxSeconds: 5,
                                          onRetry: { reason, _ in retried.withLock { $0.append(reason) } })
        let timed: (SyncRequest) throws -> SyncResponse = { request in
            let body = try SyncProtocol.encode(request)
            let started = ContinuousClock.now
            retried.withLock { $0 = [] }
            do {
                let data = try transport.exchange(body: body)
                let response = try SyncProtocol.decode(SyncResponse.self, from: data)
                let records = response.snapshots.values.reduce(0) { $0 + $1.records.count }
                let kind = records > 0 || !response.snapshots.isEmpty ? "bootstrap" : !request.push.isEmpty ? "push" : request.digests != nil ? "verify" : "pull"
                samples.append(Sample(kind: kind, ms: Measurement.seconds(ContinuousClock.now - started) * 1000, status: 200, code: nil,
                                      up: body.count, down: data.count, records: records,
                                      retries: retried.withLock { $0.isEmpty ? nil : $0 }))
                return response
            } catch let refusal as SyncRefusal {
                samples.append(Sample(kind: request.push.isEmpty ? "pull" : "push", ms: Measurement.seconds(ContinuousClock.now - started) * 1000,
                                      status: refusal.status, code: refusal.code, up: body.count, down: 0, records: 0))
                throw refusal
            }
        }
        var outcome = Outcome(device: device.name, ok: true, verified: true, error: nil)
        do {
            let path = URL(fileURLWithPath: job.directory).appendingPathComponent("\(device.name).db").path
            let store = try FieldStore.open(path: path)
            if job.phase == "burst" {
                outcome.verified = try SyncSession(replica: store.replica).run(exchange: timed).verified && outcome.verified
            }
            let households = try store.replica.records(FieldModel.households, cell: device.cell, limit: max(1, job.ops))
            if !households.isEmpty {
                try store.replica.write { tx in
                    for n in 0..<job.ops { try tx.increment(FieldModel.households, households[n % households.count].id, "visit_count") }
                }
            }
            let progress = try SyncSession(replica: store.replica).run(exchange: timed)
            outcome.verified = progress.verified && progress.unsynced == 0 && outcome.verified
            if let refusal = progress.refusal { outcome.ok = false; outcome.error = refusal.code }
        } catch let refusal as SyncRefusal {
            outcome.ok = false
            outcome.error = refusal.code
        } catch let error as SyncError {
            outcome.ok = false
            outcome.error = "\(error.code)"
        } catch {
            outcome.ok = false
            outcome.error = "\(type(of: error))"
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var lines = samples.compactMap { (try? encoder.encode($0)).map { String(decoding: $0, as: UTF8.self) } }
        if let line = try? encoder.encode(outcome) { lines.append(String(decoding: line, as: UTF8.self)) }
        return lines
    }
}
