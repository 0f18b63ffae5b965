import Foundation
import Synchronization

/// Counters of the central node's HTTP API, rendered in the Prometheus text format.
///
///     metrics.record(route: "/v1/sync", status: 200, seconds: 0.004, opsIngested: 12)
///     metrics.render(gauges: [("fieldsync_open_conflicts", "…", [:], 3)])
public final class HubMetrics: Sendable {
    /// Upper bounds of the latency histogram, in seconds.
    static let bucketsSeconds: [Double] = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5]

    private struct State {
        var requests: [String: Int] = [:]          // "route|status" → count
        var errors: [String: Int] = [:]            // error code → count
        var opsIngested = 0
        var buckets = [Int](repeating: 0, count: HubMetrics.bucketsSeconds.count)
        var latencyCount = 0
        var latencySum = 0.0
    }

    private let state = Mutex(State())

    public init() {}

    public func record(route: String, status: Int, seconds: Double, opsIngested: Int = 0, errorCode: String? = nil) {
        state.withLock { s in
            s.requests["\(route)|\(status)", default: 0] += 1
            if let errorCode { s.errors[errorCode, default: 0] += 1 }
            s.opsIngested += opsIngested
            for (index, bound) in Self.bucketsSeconds.enumerated() where seconds <= bound { s.buckets[index] += 1 }
            s.latencyCount += 1
            s.latencySum += seconds
        }
    }

    /// The text exposition, with gauges computed by the caller at scrape time.
    public func render(gauges: [(name: String, help: String, labels: [String: String], value: Double)]) -> String {
        let s = state.withLock { $0 }
        var out = ""
        out += "# HELP fieldsync_requests_total HTTP requests by route and status.\n# TYPE fieldsync_requests_total counter\n"
        for key in s.requests.keys.sorted() {
            let parts = key.split(separator: "|", maxSplits: 1)
            out += "fieldsync_requests_total{route=\"\(parts[0])\",status=\"\(parts[1])\"} \(s.requests[key]!)\n"
        }
        out += "# HELP fieldsync_errors_total Refused or failed requests by error code.\n# TYPE fieldsync_errors_total counter\n"
        for code in s.errors.keys.sorted() { out += "fieldsync_errors_total{code=\"\(code)\"} \(s.errors[code]!)\n" }
        out += "# HELP fieldsync_ops_ingested_total Operations pushed by devices and stored.\n# TYPE fieldsync_ops_ingested_total counter\n"
        out += "fieldsync_ops_ingested_total \(s.opsIngested)\n"
        out += "# HELP fieldsync_request_duration_seconds Time to answer a request.\n# TYPE fieldsync_request_duration_seconds histogram\n"
        for (index, bound) in Self.bucketsSeconds.enumerated() {
            out += "fieldsync_request_duration_seconds_bucket{le=\"\(bound)\"} \(s.buckets[index])\n"
        }
        out += "fieldsync_request_duration_seconds_bucket{le=\"+Inf\"} \(s.latencyCount)\n"
        out += "fieldsync_request_duration_seconds_sum \(s.latencySum)\n"
        out += "fieldsync_request_duration_seconds_count \(s.latencyCount)\n"
        var described = Set<String>()
        for gauge in gauges {
            if described.insert(gauge.name).inserted { out += "# HELP \(gauge.name) \(gauge.help)\n# TYPE \(gauge.name) gauge\n" }
            let labels = gauge.labels.keys.sorted().map { "\($0)=\"\(gauge.labels[$0]!)\"" }.joined(separator: ",")
            out += "\(gauge.name)\(labels.isEmpty ? "" : "{\(labels)}") \(gauge.value)\n"
        }
        return out
    }
}
