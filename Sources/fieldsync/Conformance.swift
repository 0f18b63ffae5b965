import Foundation
import SyncKit

/// `fieldsync conformance --url URL --operator NAME [--dir DIR] [--record]`: drives a fresh
/// central node through the recorded scenarios of `Fixtures/conformance/` over HTTP
/// (PROTOCOL.md, "Conformance kit") and checks every answer against the file: acknowledgements,
/// holds, the operations and snapshot records pulled, refusals, and the node's digests (sent to
/// it to verify). `--record` writes what the node answered into the files instead (for a new
/// scenario, from this implementation).
struct Conformance {
    var remote: RemoteCentral
    let directory: URL
    let record: Bool
    /// The replica ids of the current scenario's devices.
    var knownReplicas: Set<String> = []
    /// The node's last erasure's op id: a scenario's operations name it `node.ERASURE`.
    var lastErasure: String?

    struct Mismatch: Error, CustomStringConvertible {
        let description: String
    }

    /// A device of a scenario, as the driver tracks it (a minimal client: it keeps cursors and
    /// snapshot resume keys; merging is the node's side under test).
    struct DeviceState {
        var replica: String
        var token: String
        var cursors: [String: UInt64] = [:]
        var resume: [String: String] = [:]
    }

    /// Runs every scenario file in name order; returns one line per scenario.
    mutating func run() throws -> [String] {
        try remote.login()
        let overview = try remote.call("GET", "/v1/admin/overview")
        let totals = (overview["totals"] as? [String: Any] ?? [:]).values.compactMap { ($0 as? NSNumber)?.intValue }.reduce(0, +)
        guard totals == 0, (overview["deviceCount"] as? NSNumber)?.intValue ?? 0 == 0 else {
            throw Mismatch(description: "the conformance kit runs against a fresh node (central init, an admin operator, central serve): this one holds records or devices")
        }
        let files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "json" }.sorted { $0.lastPathComponent < $1.lastPathComponent }
        guard !files.isEmpty else { throw Mismatch(description: "no scenario (*.json) in \(directory.path)") }
        var lines: [String] = []
        for file in files {
            var scenario = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any] ?? [:]
            let name = scenario["scenario"] as? String ?? file.lastPathComponent
            let steps = try runScenario(&scenario, file: file.lastPathComponent)
            if record {
                let data = try JSONSerialization.data(withJSONObject: scenario, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
                try (data + Data("\n".utf8)).write(to: file)
            }
            lines.append("\(record ? "recorded" : "passed") \(name): \(steps) steps")
        }
        return lines
    }

    private mutating func runScenario(_ scenario: inout [String: Any], file: String) throws -> Int {
        var devices: [String: DeviceState] = [:]
        knownReplicas = Set((scenario["devices"] as? [String: [String: Any]] ?? [:]).values.compactMap { $0["replica"] as? String })
        for (name, spec) in (scenario["devices"] as? [String: [String: Any]] ?? [:]).sorted(by: { $0.key < $1.key }) {
            let cells = spec["cells"] as? [String] ?? []
            let enrolled = try remote.call("POST", "/v1/admin/devices/enroll", body: ["device": "\(file.split(separator: ".")[0])-\(name)", "cells": cells])
            devices[name] = DeviceState(replica: spec["replica"] as? String ?? "", token: enrolled["token"] as? String ?? "")
        }
        var steps = scenario["steps"] as? [[String: Any]] ?? []
        for index in steps.indices {
            var step = steps[index]
            let observed: [String: Any]
            if let op = step["operator"] as? String {
                observed = try operatorStep(op, step)
            } else {
                guard let name = step["device"] as? String, var device = devices[name] else {
                    throw Mismatch(description: "\(file) step \(index + 1) names no device of the scenario")
                }
                observed = try deviceStep(step, device: &device)
                devices[name] = device
            }
            if record {
                step["expect"] = observed
            } else if let expected = step["expect"] as? [String: Any] {
                for (key, value) in expected where !Self.same(value, observed[key]) {
                    throw Mismatch(description: "\(file) step \(index + 1) (\(step["about"] as? String ?? "")): \(key) expected \(Self.text(value)), the node gave \(Self.text(observed[key]))")
                }
            }
            steps[index] = step
        }
        scenario["steps"] = steps
        return steps.count
    }

    /// An operator's action through the admin API; observes what it answered.
    private mutating func operatorStep(_ action: String, _ step: [String: Any]) throws -> [String: Any] {
        switch action {
        case "erase":
            let result = try remote.call("POST", "/v1/admin/records/erase", body: ["collection": step["collection"] ?? "", "id": step["entity"] ?? "", "reason": "conformance kit"])
            lastErasure = result["erasure"] as? String
            return ["erasure": normalized(result["erasure"] as? String ?? "")]
        case "release", "discard":
            _ = try remote.call("POST", "/v1/admin/review/\(action)", body: ["op": step["op"] ?? ""])
            return ["done": true]
        case "resolve":
            var body: [String: Any] = ["id": step["item"] ?? ""]
            if let value = step["value"] { body["value"] = value }
            if let pick = step["pick"] { body["pick"] = pick }
            _ = try remote.call("POST", "/v1/admin/review/resolve", body: body)
            return ["done": true]
        default:
            throw Mismatch(description: "unknown operator action \(action)")
        }
    }

    /// One device step: a push (the step's operations) and every page after it, then, when the
    /// step names digests, a verification the node must pass.
    private func deviceStep(_ step: [String: Any], device: inout DeviceState) throws -> [String: Any] {
        var push = try (step["push"] as? [Any] ?? []).map { op -> Op in
            var json = String(decoding: try JSONSerialization.data(withJSONObject: op), as: UTF8.self)
            if let lastErasure { json = json.replacingOccurrences(of: "node.ERASURE", with: lastErasure) }
            return try SyncProtocol.decode(Op.self, from: Data(json.utf8))
        }
        let pullOpsMax = (step["pullOpsMax"] as? NSNumber)?.intValue ?? SyncProtocol.pageOpsMax
        var observed: [String: Any] = [:]
        var pulled: [String] = [], records: [String] = [], held: [[String: Any]] = []
        guard let replica = ReplicaID(hex: device.replica) else { throw Mismatch(description: "device replica \(device.replica) is not 32 hex digits") }
        for _ in 0..<1_000 {
            var request = SyncRequest(device: replica, cursors: device.cursors, push: push, pullOpsMax: pullOpsMax)
            if !device.resume.isEmpty { request.snapshots = device.resume }
            let (data, response) = try remote.exchange("POST", "/v1/sync", query: [:], body: try SyncProtocol.encode(request),
                                                       type: "application/json", bearer: device.token)
            guard response.statusCode == 200 else {
                let reply = try? SyncProtocol.decode(SyncErrorReply.self, from: data)
                observed["status"] = response.statusCode
                observed["code"] = reply?.code ?? "?"
                return observed
            }
            let reply = try SyncProtocol.decode(SyncResponse.self, from: data)
            if !push.isEmpty { observed["acceptedThroughSeq"] = reply.acceptedThroughSeq }
            held += reply.held.map { ["op": normalized($0.op.description), "reason": $0.reason] }
            pulled += reply.ops.map { normalized($0.id.description) }
            for (cell, page) in reply.snapshots.sorted(by: { $0.key < $1.key }) {
                records += page.records.map(\.key)
                if let next = page.next { device.resume[cell] = next } else { device.resume[cell] = nil }
            }
            for (cell, cseq) in reply.cursors { device.cursors[cell] = cseq }
            push = []
            if !reply.more && device.resume.isEmpty { break }
        }
        observed["held"] = held
        observed["pulled"] = pulled
        observed["snapshotRecords"] = records
        if let cells = step["verify"] as? [String] {
            // The digests the node holds now: recorded from it, then sent back to verify.
            var digests: [String: String] = [:]
            if record {
                for cell in cells { digests[cell] = try remote.call("GET", "/v1/admin/digest", query: ["cell": cell])["digest"] as? String ?? "" }
            } else {
                digests = ((step["expect"] as? [String: Any])?["digests"] as? [String: String]) ?? [:]
            }
            var request = SyncRequest(device: replica, cursors: device.cursors, push: [], pullOpsMax: pullOpsMax)
            request.digests = digests
            let (data, _) = try remote.exchange("POST", "/v1/sync", query: [:], body: try SyncProtocol.encode(request), type: "application/json", bearer: device.token)
            let reply = try SyncProtocol.decode(SyncResponse.self, from: data)
            guard reply.resync.isEmpty else {
                throw Mismatch(description: "the node's digests of \(reply.resync.joined(separator: ", ")) differ from the scenario's")
            }
            observed["digests"] = digests
        }
        return observed
    }

    /// The node's own operation ids depend on its replica id, which is random: an id of a replica
    /// that is none of the scenario's devices is written `node.<seq>` (a fresh node numbers its
    /// own operations from 1, so the kit's order makes them the same on every node).
    func normalized(_ op: String) -> String {
        guard let dot = op.lastIndex(of: "."), !knownReplicas.contains(String(op[..<dot])) else { return op }
        return "node" + op[dot...]
    }

    static func same(_ a: Any, _ b: Any?) -> Bool {
        guard let b else { return false }
        let wrap = { (x: Any) -> Data? in try? JSONSerialization.data(withJSONObject: ["v": x], options: [.sortedKeys]) }
        return wrap(a) == wrap(b)
    }

    static func text(_ value: Any?) -> String {
        guard let value, let data = try? JSONSerialization.data(withJSONObject: ["v": value], options: [.sortedKeys, .withoutEscapingSlashes]) else { return "nothing" }
        return String(decoding: data, as: UTF8.self).dropFirst(5).dropLast().description
    }
}
