import FieldKit
import Foundation
import Testing
@testable import CentralNode
@testable import SyncKit

/// The admin API's guards and reads, through the node's router in process (no sockets): login
/// and its cookie, roles, CSRF and origin checks, login throttling, session expiry, device tokens
/// against operator sessions, and the paged reads at the console's heart. The browser test
/// (`Tests/Browser/console_test.py`) drives the same API from a real Chromium.
struct AdminServiceTests {
    /// A node holding the sample district, with an admin, a reviewer and a viewer.
    struct Node {
        var world: HubSyncTests.World
        let service: HubService
        let router: Router

        init() throws {
            world = try HubSyncTests.World(schema: FieldModel.schema)
            for table in Hub.DistrictTable.allCases {
                try world.hub.importCSV(table, data: Data(contentsOf: HubDataTests.sampleDirectory.appendingPathComponent("\(table.rawValue).csv")), actor: "test")
            }
            for (name, role) in [("boss", OperatorRole.admin), ("rita", .reviewer), ("vic", .viewer)] {
                try world.hub.addOperator(name, role: role, password: "\(name)-password-1", actor: "test")
            }
            service = HubService(hub: world.hub)
            router = service.router
        }

        func send(_ method: String, _ path: String, query: String = "", json: Any? = nil, headers: [(String, String)] = [],
                  address: String = "10.0.0.1") -> (status: Int, headers: HTTPHeaders, object: [String: Any]) {
            var all = HTTPHeaders()
            for (name, value) in headers { all.add(name: name, value: value) }
            let body = json.map { try! JSONSerialization.data(withJSONObject: $0) } ?? Data()
            let response = router.respond(to: HTTPRequest(method: method, path: path, query: query, headers: all, body: body, remoteAddress: address))
            let object = (try? JSONSerialization.jsonObject(with: response.body)) as? [String: Any] ?? [:]
            return (response.status.code, response.headers, object)
        }

        /// Logs in; returns the headers a logged-in page sends (cookie and CSRF token).
        func login(_ name: String) throws -> [(String, String)] {
            let answer = send("POST", "/v1/admin/login", json: ["name": name, "password": "\(name)-password-1"])
            try #require(answer.status == 200, "login of \(name): \(answer.object)")
            let cookie = try #require(answer.headers["Set-Cookie"])
            return [("Cookie", String(cookie.split(separator: ";")[0])), ("X-CSRF-Token", answer.object["csrf"] as! String)]
        }
    }

    @Test func aLoginSetsAnHttpOnlyStrictCookieThatOpensTheAPI() throws {
        let node = try Node()
        #expect(node.send("GET", "/v1/admin/overview").status == 401)
        let answer = node.send("POST", "/v1/admin/login", json: ["name": "vic", "password": "vic-password-1"])
        #expect(answer.status == 200 && answer.object["role"] as? String == "viewer")
        let cookie = try #require(answer.headers["Set-Cookie"])
        #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/") && !cookie.contains("Secure"))
        let headers = try node.login("vic")
        let overview = node.send("GET", "/v1/admin/overview", headers: headers)
        #expect(overview.status == 200)
        #expect((overview.object["totals"] as? [String: Any])?["households"] as? Int == 152)
        // Logging out ends the session.
        #expect(node.send("POST", "/v1/admin/logout", headers: headers).status == 200)
        #expect(node.send("GET", "/v1/admin/overview", headers: headers).object["code"] as? String == "sessionExpired")
        // Under TLS the cookie is Secure.
        let secure = HubService(hub: node.world.hub, secureCookies: true).router.respond(to: HTTPRequest(
            method: "POST", path: "/v1/admin/login", headers: HTTPHeaders([.init(name: "Content-Type", value: "application/json")]),
            body: Data(#"{"name":"vic","password":"vic-password-1"}"#.utf8)))
        #expect(secure.headers["Set-Cookie"]?.hasPrefix("__Host-fs_session=") == true && secure.headers["Set-Cookie"]?.contains("Secure") == true)
    }

    @Test func eachRoleDoesOnlyWhatItMay() throws {
        var node = try Node()
        try node.world.enroll("tablet-1", cells: ["JS-0401"], index: 1)
        let viewer = try node.login("vic"), reviewer = try node.login("rita"), admin = try node.login("boss")
        let enroll: [String: Any] = ["device": "tablet-9", "cells": ["JS-0401"]]
        let viewerAnswer = node.send("POST", "/v1/admin/devices/enroll", json: enroll, headers: viewer)
        #expect(viewerAnswer.status == 403 && (viewerAnswer.object["message"] as? String)?.contains("admin") == true)
        #expect(node.send("POST", "/v1/admin/devices/enroll", json: enroll, headers: reviewer).status == 403)
        #expect(node.send("POST", "/v1/admin/review/dismiss", json: ["id": "X"], headers: viewer).status == 403)
        // A reviewer reaches the settling call (which then says the item does not exist).
        let reached = node.send("POST", "/v1/admin/review/dismiss", json: ["id": "AAAAAAAAAAAAAAAAAAAAAAAAAA"], headers: reviewer)
        #expect(reached.status == 404, "\(reached.object)")
        #expect(node.send("GET", "/v1/admin/operators", headers: reviewer).status == 403)
        let enrolled = node.send("POST", "/v1/admin/devices/enroll", json: enroll.merging(["url": "http://node.example:8080"]) { $1 }, headers: admin)
        #expect(enrolled.status == 200)
        #expect((enrolled.object["payload"] as? String)?.hasPrefix("fieldsync:enroll?") == true)
        #expect((enrolled.object["qrSVG"] as? String)?.contains("<svg") == true)
        // Each action is audited under the operator's name.
        let audit = node.send("GET", "/v1/admin/audit", query: "actor=boss&action=enroll", headers: viewer)
        #expect((audit.object["entries"] as? [[String: Any]])?.first?["detail"] as? String == "device tablet-9 cells JS-0401")
        // A disabled operator's sessions end at once.
        #expect(node.send("POST", "/v1/admin/operators/disable", json: ["name": "rita"], headers: admin).status == 200)
        #expect(node.send("GET", "/v1/admin/overview", headers: reviewer).status == 401)
        #expect(node.send("POST", "/v1/admin/login", json: ["name": "rita", "password": "rita-password-1"]).status == 401)
    }

    @Test func aStateChangingRequestNeedsTheCSRFTokenAndThisOrigin() throws {
        let node = try Node()
        let admin = try node.login("boss")
        let cookieOnly = [admin[0]]
        let body: [String: Any] = ["name": "newbie", "role": "viewer", "password": "newbie-password"]
        let noToken = node.send("POST", "/v1/admin/operators/add", json: body, headers: cookieOnly)
        #expect(noToken.status == 403 && noToken.object["code"] as? String == "csrf")
        let wrongToken = node.send("POST", "/v1/admin/operators/add", json: body, headers: cookieOnly + [("X-CSRF-Token", String(repeating: "0", count: 64))])
        #expect(wrongToken.object["code"] as? String == "csrf")
        let otherOrigin = node.send("POST", "/v1/admin/operators/add", json: body, headers: admin + [("Origin", "http://evil.example"), ("Host", "node:8080")])
        #expect(otherOrigin.status == 403 && otherOrigin.object["code"] as? String == "crossOrigin")
        let otherSite = node.send("POST", "/v1/admin/operators/add", json: body, headers: admin + [("Sec-Fetch-Site", "cross-site")])
        #expect(otherSite.object["code"] as? String == "crossOrigin")
        #expect(try node.world.hub.operators().map(\.name) == ["boss", "rita", "vic"])
        let sameOrigin = node.send("POST", "/v1/admin/operators/add", json: body, headers: admin + [("Origin", "http://node:8080"), ("Host", "node:8080")])
        #expect(sameOrigin.status == 200)
        // A weak password is refused with what to do.
        let weak = node.send("POST", "/v1/admin/operators/add", json: ["name": "x", "role": "viewer", "password": "short"], headers: admin)
        #expect(weak.status == 400 && (weak.object["message"] as? String)?.contains("10 characters") == true)
    }

    @Test func fiveWrongPasswordsMakeTheNextLoginWait() throws {
        let node = try Node()
        for attempt in 1...5 {
            let answer = node.send("POST", "/v1/admin/login", json: ["name": "rita", "password": "guess-\(attempt)"])
            #expect(answer.status == 401 && answer.object["code"] as? String == "loginFailed")
        }
        // A login body larger than a login is refused on its declared length.
        #expect(node.send("POST", "/v1/admin/login", json: ["name": "rita"], headers: [("Content-Length", "100000")]).status == 413)
        // Even the right password waits now, from this address and for this name from another.
        let waiting = node.send("POST", "/v1/admin/login", json: ["name": "rita", "password": "rita-password-1"])
        #expect(waiting.status == 429 && Int(waiting.headers["Retry-After"] ?? "") == 30)
        #expect(node.send("POST", "/v1/admin/login", json: ["name": "rita", "password": "rita-password-1"], address: "10.0.0.2").status == 429)
        // Another operator, even from the same address (a proxy, an office's NAT), is not held up;
        // an address that tries many names waits after 20 failures.
        #expect(node.send("POST", "/v1/admin/login", json: ["name": "vic", "password": "vic-password-1"]).status == 200)
        for attempt in 1...14 {
            #expect(node.send("POST", "/v1/admin/login", json: ["name": "guess-\(attempt)", "password": "x"], address: "10.0.0.9").status == 401)
        }
        for attempt in 15...19 { _ = node.send("POST", "/v1/admin/login", json: ["name": "guess-\(attempt)", "password": "x"], address: "10.0.0.9") }
        let spraying = node.send("POST", "/v1/admin/login", json: ["name": "boss", "password": "boss-password-1"], address: "10.0.0.9")
        #expect(spraying.status == 200, "the 20th failure has not happened yet")
        _ = node.send("POST", "/v1/admin/login", json: ["name": "guess-20", "password": "x"], address: "10.0.0.9")
        #expect(node.send("POST", "/v1/admin/login", json: ["name": "vic", "password": "vic-password-1"], address: "10.0.0.9").status == 429)
        // After the wait, the right password works, and the refusals are in the audit.
        node.world.clock.advance(byMillis: 31_000)
        #expect(node.send("POST", "/v1/admin/login", json: ["name": "rita", "password": "rita-password-1"], address: "10.0.0.2").status == 200)
        #expect(try node.world.hub.audit().filter { $0.action == "login-refused" && $0.actor == "rita" }.count == 5)
        // The wait doubles with each further failure.
        let throttle = LoginThrottle()
        for _ in 1...5 { throttle.fail(keys: ["k"], nowMillis: 0) }
        #expect(throttle.wait(keys: ["k"], nowMillis: 0) == 30_000)
        #expect(throttle.fail(keys: ["k"], nowMillis: 0) == 60_000)
        #expect(throttle.fail(keys: ["k"], nowMillis: 0) == 120_000)
    }

    @Test func sessionsEndWhenIdleOrOld() throws {
        let node = try Node()
        let viewer = try node.login("vic")
        node.world.clock.advance(byMillis: OperatorSessions.idleMillisMax - 1_000)
        #expect(node.send("GET", "/v1/admin/session", headers: viewer).status == 200)
        node.world.clock.advance(byMillis: OperatorSessions.idleMillisMax + 1)
        #expect(node.send("GET", "/v1/admin/session", headers: viewer).object["code"] as? String == "sessionExpired")
        // However busy, a session ends at its lifetime.
        let sessions = OperatorSessions()
        let (token, _) = sessions.open(operator: "vic", nowMillis: 0)
        var now: Int64 = 0
        while now < OperatorSessions.lifetimeMillisMax - 60_000 {
            now += 60_000
            #expect(sessions.find(token: token, nowMillis: now) != nil)
        }
        #expect(sessions.find(token: token, nowMillis: OperatorSessions.lifetimeMillisMax + 1) == nil)
    }

    @Test func deviceTokensDoNotOpenTheConsoleAndSessionsDoNotSync() throws {
        var node = try Node()
        try node.world.enroll("tablet-1", cells: ["JS-0401"], index: 1)
        let token = node.world.devices["tablet-1"]!.token
        let refused = node.send("GET", "/v1/admin/overview", headers: [("Authorization", "Bearer \(token)")])
        #expect(refused.status == 401 && refused.object["code"] as? String == "sessionRequired")
        #expect(node.send("GET", "/v1/admin/overview", headers: [("Cookie", "fs_session=\(token)")]).status == 401)
        let viewer = try node.login("vic")
        #expect(node.send("POST", "/v1/sync", json: [:], headers: viewer).status == 401)
        #expect(node.send("GET", "/v1/snapshot", query: "cell=JS-0401", headers: viewer).status == 401)
    }

    @Test func theReviewQueueIsPagedWithCountsAndDetails() throws {
        var node = try Node()
        let hub = node.world.hub
        // Three households' phones written concurrently by another replica: three conflicts.
        let ids = try hub.replica.records(FieldModel.households, cell: "JS-0401", limit: 3).map(\.id)
        let writer = ReplicaID(high: 7, low: 7)
        _ = try hub.replica.apply(ids.enumerated().map { index, id in
            Op(id: OpID(replica: writer, seq: UInt64(index + 1)), hlc: HLCTimestamp(millis: UInt64(HubSyncTests.epoch), counter: UInt64(index)),
               collection: FieldModel.households, entity: id, assignments: [Assignment(field: "phone", change: .set(.text("1390000000\(index)"), prev: []))])
        })
        try node.world.enroll("tablet-1", cells: ["JS-0401"], index: 1)
        let viewer = try node.login("vic")
        let first = node.send("GET", "/v1/admin/review", query: "kind=conflict&limit=2", headers: viewer)
        let items = try #require(first.object["items"] as? [[String: Any]])
        #expect(items.count == 2 && (first.object["counts"] as? [String: Any])?["conflict"] as? Int == 3)
        let next = try #require(first.object["next"] as? String)
        let second = node.send("GET", "/v1/admin/review", query: "kind=conflict&limit=2&after=\(next)", headers: viewer)
        #expect((second.object["items"] as? [[String: Any]])?.count == 1 && second.object["next"] is NSNull)
        #expect(node.send("GET", "/v1/admin/review", query: "kind=conflict&cell=JS-0402", headers: viewer).object["items"] as? [Any] == nil
                || (node.send("GET", "/v1/admin/review", query: "kind=conflict&cell=JS-0402", headers: viewer).object["items"] as! [Any]).isEmpty)
        let detail = node.send("GET", "/v1/admin/review/item", query: "id=\(items[0]["id"] as! String)", headers: viewer)
        let candidates = try #require(detail.object["candidates"] as? [[String: Any]])
        #expect(candidates.count == 2 && candidates[0]["winner"] as? Bool == true)
        #expect(Set(candidates.map { $0["device"] as! String }) == ["central", writer.hex])
        #expect(detail.object["devicesReceive"] as? [String] == ["tablet-1"])
        // A reviewer settles it with a typed value; the queue shrinks.
        let reviewer = try node.login("rita")
        let resolved = node.send("POST", "/v1/admin/review/resolve", json: ["id": items[0]["id"]!, "value": "13911112222"], headers: reviewer)
        #expect(resolved.status == 200)
        #expect((node.send("GET", "/v1/admin/review", query: "kind=conflict", headers: viewer).object["counts"] as? [String: Any])?["conflict"] as? Int == 2)
    }

    @Test func householdSearchNormalizesAsDuplicateMatchingDoes() throws {
        let node = try Node()
        let viewer = try node.login("vic")
        func search(_ query: String, _ collection: String = "households") -> [[String: Any]] {
            let encoded = query.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            return node.send("GET", "/v1/admin/records", query: "collection=\(collection)&q=\(encoded)", headers: viewer).object["records"] as? [[String: Any]] ?? []
        }
        // 李俊英 (M50VXPBB8ZJ4MK359J8YCS3GVC in the sample) by traditional characters, a
        // full-width space, the start of the name; by phone (full-width digits); by doorplate.
        for query in ["李俊英", "李 俊英", "李　俊", "李俊", "１９４９０６８４３５９", "194-9068", "JS0401-00001"] {
            #expect(search(query).contains { $0["id"] as? String == "M50VXPBB8ZJ4MK359J8YCS3GVC" }, "\(query)")
        }
        #expect(search("JS0401-0000", "doorplates").count == 9)
        #expect(search("nobody here").isEmpty)
        // Pages continue after their cursor without repeating a row.
        let first = node.send("GET", "/v1/admin/records", query: "collection=households&cell=JS-0401&limit=20", headers: viewer).object
        let next = try #require(first["next"] as? String)
        let second = node.send("GET", "/v1/admin/records", query: "collection=households&cell=JS-0401&limit=20&after=\(next.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)", headers: viewer).object
        let a = (first["records"] as! [[String: Any]]).map { $0["id"] as! String }, b = (second["records"] as! [[String: Any]]).map { $0["id"] as! String }
        #expect(a.count == 20 && b.count == 20 && Set(a).isDisjoint(with: b) && a.last! < b.first!)
        // A household's page has its history by device and time.
        let household = node.send("GET", "/v1/admin/household", query: "id=M50VXPBB8ZJ4MK359J8YCS3GVC", headers: viewer).object
        #expect((household["history"] as? [[String: Any]])?.first?["device"] as? String == "central")
    }

    @Test func aBadDistrictFileImportsNothingAndListsEveryBadRow() throws {
        let node = try Node()
        let admin = try node.login("boss")
        let csv = """
            id,cell,doorplate,unit,room,head_name,member_count,phone,status,visit_count,visit_days,tags,distinct_from,notes
            AAAAAAAAAAAAAAAAAAAAAAAAAA,JS-0401,JS0401-00014,,,王五,3,13800000000,active,0,,,,
            BBBBBBBBBBBBBBBBBBBBBBBBBB,JS-04XX,JS0401-00014,,,赵六,many,13800000000,active,0,,,,

            """
        var headers = HTTPHeaders()
        for (name, value) in admin { headers.add(name: name, value: value) }
        let response = node.router.respond(to: HTTPRequest(method: "POST", path: "/v1/admin/import", query: "table=households", headers: headers, body: Data(csv.utf8)))
        let object = try #require(try JSONSerialization.jsonObject(with: response.body) as? [String: Any])
        #expect(response.status.code == 422 && object["code"] as? String == "badRows" && object["imported"] as? Int == 0)
        let issues = try #require(object["issues"] as? [[String: Any]])
        #expect(issues.count >= 2 && issues.allSatisfy { $0["row"] as? Int == 3 })
        #expect(try node.world.hub.replica.records(FieldModel.households, limit: 10_000).count == 152)
        // A good file is imported, and the overview's totals (kept a minute) show it at once.
        let overview = { node.send("GET", "/v1/admin/overview", headers: admin).object["totals"] as? [String: Any] }
        #expect(overview()?["households"] as? Int == 152)
        let good = csv.split(separator: "\n").prefix(2).joined(separator: "\n") + "\n"
        let imported = node.router.respond(to: HTTPRequest(method: "POST", path: "/v1/admin/import", query: "table=households", headers: headers, body: Data(good.utf8)))
        #expect(imported.status.code == 200)
        #expect(overview()?["households"] as? Int == 153)
    }

    @Test func theDevicesPageShowsWhatEachDeviceSaidAtItsLastSync() throws {
        var node = try Node()
        // Li's clock runs five minutes ahead; Li has 12 edits and pushes 5 at a time, and the
        // exchange is cut after the first push.
        try node.world.enroll("li", cells: ["JS-0401"], index: 1, clockMillis: HubSyncTests.epoch + 300_000)
        try node.world.sync("li")
        let li = node.world.replica("li")
        let id = try #require(try li.records(FieldModel.households, cell: "JS-0401", limit: 1).first?.id)
        for count in 1...12 { try li.write { try $0.update(FieldModel.households, id, ["member_count": .int(Int64(count))]) } }
        let request = try li.nextSyncRequest(pushOpsMax: 5)
        #expect(request.unsynced == 12 && request.clockMillis == HubSyncTests.epoch + 300_000)
        _ = try node.world.exchange("li", request)
        let viewer = try node.login("vic")
        let devices = try #require(node.send("GET", "/v1/admin/devices", headers: viewer).object["devices"] as? [[String: Any]])
        #expect(devices.first?["unsynced"] as? Int == 7)
        #expect(devices.first?["clockOffsetMillis"] as? Int64 == 300_000)
        // Written with the last-seen times, they outlive the node's memory.
        try node.world.hub.flushLastSeen()
        let reopened = try node.world.hub.replica.centralRead { try HubStore($0).devices() }
        #expect(reopened.first?.hint == DeviceHint(unsynced: 7, clockOffsetMillis: 300_000, atMillis: HubSyncTests.epoch))
        // A request from an older device, without hints, still decodes, and a hint out of range
        // is dropped rather than refusing the sync.
        let old = #"{"cursors":{},"device":"00000000000000010000000000000001","protocol":1,"pullOpsMax":100,"push":[]}"#
        let decoded = try SyncProtocol.decode(SyncRequest.self, from: Data(old.utf8))
        #expect(decoded.clockMillis == nil && decoded.unsynced == nil)
        let odd = #"{"clockMillis":-5,"cursors":{},"device":"00000000000000010000000000000001","protocol":1,"pullOpsMax":100,"push":[],"unsynced":-1}"#
        let dropped = try SyncProtocol.decode(SyncRequest.self, from: Data(odd.utf8))
        #expect(dropped.clockMillis == nil && dropped.unsynced == nil)
    }
}
