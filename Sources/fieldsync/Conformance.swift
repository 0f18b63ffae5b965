import FieldKit
import Foundation
import SyncKit

/// `fieldsync conformance --url URL --operator NAME [--dir DIR] [--record]`: drives a fresh
/// central node through the recorded scenarios of `Fixtures/conformance/` over HTTP
/// (PROTOCOL.md section 15), each device a SyncKit replica, and checks every answer against the
/// file: acknowledgements, holds, the operations and snapshot records pulled, refusals, the
/// node's digests (sent to it to verify), and what the devices show (their records, conflicts
/// and digests). `--record` writes what happened into the files instead (for a new scenario,
/// from this implementation).
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

    /// A device of a scenario: a SyncKit replica with the scenario's replica id, its token, and
    /// which of its operations the node holds.
    struct DeviceState {
        /// The device: a SyncKit replica in memory with the scenario's replica id.
        var replica: Replica
        var token: String
        /// Its own operations the node holds (its state keeps them; the node's does not).
        var held: Set<String> = []
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
            guard let id = ReplicaID(hex: spec["replica"] as? String ?? "") else { throw Mismatch(description: "\(file): device \(name)'s replica is not 32 hex digits") }
            var options = ReplicaOptions()
            options.replicaID = id
            devices[name] = DeviceState(replica: try Replica.open(path: ":memory:", schema: FieldModel.schema, options: options),
                                        token: enrolled["token"] as? String ?? "")
        }
        var steps = scenario["steps"] as? [[String: Any]] ?? []
        for index in steps.indices {
            var step = steps[index]
            let observed: [String: Any]
            if let op = step["operator"] as? String {
                observed = try operatorStep(op, step)
                if op == "release", let released = step["op"] as? String {
                    for name in devices.keys { devices[name]!.held.remove(released) }
                }
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

    /// One device step: the step's operations taken by the device as its own and pushed, every
    /// page after it taken by the device (a real SyncKit replica), then, when the step names
    /// cells to verify, the node's digests (sent back to it to verify), the device's records and
    /// conflicts of those cells, and the device's own digests, which must be the node's.
    private func deviceStep(_ step: [String: Any], device: inout DeviceState) throws -> [String: Any] {
        let ops = try (step["push"] as? [Any] ?? []).map { op -> Op in
            var json = String(decoding: try JSONSerialization.data(withJSONObject: op), as: UTF8.self)
            if let lastErasure { json = json.replacingOccurrences(of: "node.ERASURE", with: lastErasure) }
            return try SyncProtocol.decode(Op.self, from: Data(json.utf8))
        }
        let pullOpsMax = (step["pullOpsMax"] as? NSNumber)?.intValue ?? SyncProtocol.pageOpsMax
        let replica = device.replica
        var observed: [String: Any] = [:]
        // A push the node must refuse whole (a gap, a reused id, another replica's operation) is
        // sent as it is; the device never takes it.
        let next = replica.lastWrittenSeq + 1
        let isOwnContinuation = ops.enumerated().allSatisfy { $0.element.id.replica == replica.id && $0.element.id.seq == next + UInt64($0.offset) }
        if !ops.isEmpty && (!isOwnContinuation || step["raw"] as? Bool == true) {
            let request = SyncRequest(device: replica.id, cursors: try replica.syncCursors(), push: ops, pullOpsMax: pullOpsMax)
            let (data, response) = try remote.exchange("POST", "/v1/sync", query: [:], body: try SyncProtocol.encode(request), type: "application/json", bearer: device.token)
            if response.statusCode != 200 {
                observed["status"] = response.statusCode
                observed["code"] = (try? SyncProtocol.decode(SyncErrorReply.self, from: data))?.code ?? "?"
            } else {
                let reply = try SyncProtocol.decode(SyncResponse.self, from: data)
                observed["acceptedThroughSeq"] = reply.acceptedThroughSeq
                observed["held"] = reply.held.map { ["op": normalized($0.op.description), "reason": $0.reason] }
            }
            return observed
        }
        try replica.adopt(ops)
        var pulled: [String] = [], records: [String] = [], held: [[String: Any]] = []
        for _ in 0..<1_000 {
            let request = try replica.nextSyncRequest(pullOpsMax: pullOpsMax)
            let (data, response) = try remote.exchange("POST", "/v1/sync", query: [:], body: try SyncProtocol.encode(request),
                                                       type: "application/json", bearer: device.token)
            guard response.statusCode == 200 else {
                observed["status"] = response.statusCode
                observed["code"] = (try? SyncProtocol.decode(SyncErrorReply.self, from: data))?.code ?? "?"
                return observed
            }
            let reply = try SyncProtocol.decode(SyncResponse.self, from: data)
            if !request.push.isEmpty { observed["acceptedThroughSeq"] = reply.acceptedThroughSeq }
            held += reply.held.map { ["op": normalized($0.op.description), "reason": $0.reason] }
            device.held.formUnion(reply.held.map(\.op.description))
            pulled += reply.ops.map { normalized($0.id.description) }
            for (_, page) in reply.snapshots.sorted(by: { $0.key < $1.key }) { records += page.records.map(\.key) }
            try replica.ingest(reply, for: request)
            let again = try replica.nextSyncRequest(pullOpsMax: pullOpsMax)
            if !reply.more && again.push.isEmpty && again.snapshots == nil { break }
        }
        observed["held"] = held
        observed["pulled"] = pulled
        observed["snapshotRecords"] = records
        guard let cells = step["verify"] as? [String] else { return observed }
        var digests: [String: String] = [:]
        if record {
            for cell in cells { digests[cell] = try remote.call("GET", "/v1/admin/digest", query: ["cell": cell])["digest"] as? String ?? "" }
        } else {
            digests = ((step["expect"] as? [String: Any])?["digests"] as? [String: String]) ?? [:]
        }
        var request = SyncRequest(device: replica.id, cursors: try replica.syncCursors(), push: [], pullOpsMax: pullOpsMax)
        request.digests = digests
        let (data, _) = try remote.exchange("POST", "/v1/sync", query: [:], body: try SyncProtocol.encode(request), type: "application/json", bearer: device.token)
        let reply = try SyncProtocol.decode(SyncResponse.self, from: data)
        guard reply.resync.isEmpty else {
            throw Mismatch(description: "the node's digests of \(reply.resync.joined(separator: ", ")) differ from the scenario's")
        }
        // The device (this SyncKit) agrees with the node, unless the node holds one of its writes.
        if device.held.isEmpty {
            for cell in cells where try replica.digest(cell: cell) != digests[cell] {
                throw Mismatch(description: "this build's device digest of \(cell) is not the node's")
            }
        }
        observed["digests"] = digests
        observed["records"] = try Self.records(of: replica, cells: Set(cells))
        return observed
    }

    /// What a device shows of some cells: every record (deleted too), its non-null values in
    /// the wire form, and its conflicts' distinct values in canonical order.
    static func records(of replica: Replica, cells: Set<String>) throws -> [String: Any] {
        var result: [String: Any] = [:]
        var conflicts: [String: [String: [Any]]] = [:]
        for conflict in try replica.conflicts() {
            conflicts["\(conflict.collection)/\(conflict.entity)", default: [:]][conflict.field] = Array(Set(conflict.candidates.map(\.value))).sorted().map(json)
        }
        for collection in replica.schema.collections {
            guard let cellField = collection.cellField else { continue }
            for record in try replica.records(collection.name, limit: Int.max) + (try replica.deletedRecords(collection.name)) {
                guard let cell = record[cellField].text, cells.contains(cell) else { continue }
                let key = "\(collection.name)/\(record.id)"
                var entry: [String: Any] = ["deleted": record.isDeleted,
                                            "values": record.values.filter { !$0.value.isNull }.mapValues(json)]
                if let conflict = conflicts[key] { entry["conflicts"] = conflict }
                result[key] = entry
            }
        }
        return result
    }

    static func json(_ value: Value) -> Any {
        switch value {
        case .null: return NSNull()
        case .int(let v): return ["int": v]
        case .real(let v): return ["real": v]
        case .text(let v): return ["text": v]
        case .bool(let v): return ["bool": v]
        case .blob(let v): return ["blob": Data(v).base64EncodedString()]
        }
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
