import Foundation
import Testing

/// The whole story through the command line only: a central node served by `central serve`, two
/// collectors syncing over HTTP and one carrying bundle files, offline edits, a conflict settled
/// on the review queue, and every replica's digest equal at the end.
struct EndToEndCLITests {
    static func run(_ arguments: String..., in dir: URL, sourceLocation: SourceLocation = #_sourceLocation) throws -> CLITests.Run {
        let result = try CLITests.fieldsync(arguments: arguments, in: dir)
        #expect(result.status == 0, "fieldsync \(arguments.joined(separator: " ")): \(result.stderr)", sourceLocation: sourceLocation)
        return result
    }

    @Test func offlineEditsSyncConflictResolvedSyncAgainDigestsEqual() throws {
        let dir = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.run("central", "init", in: dir)
        var tokens: [String: String] = [:]
        for name in ["li", "zhao", "wang"] {
            let enrolled = try #require(try Self.run("central", "enroll", "--device", name, "--cells", "JS-0412", "--json", in: dir).json as? [String: Any])
            tokens[name] = enrolled["token"] as? String
        }
        let server = try CLITests.Server(in: dir)
        defer { server.stop() }
        for name in ["li", "zhao", "wang"] {
            try Self.run("device", "init", "--central", server.url, "--token", tokens[name]!, "--db", "\(name).db", in: dir)
        }

        // Li registers a plate and a household, and syncs; Zhao receives them.
        try Self.run("doorplate", "add", "JS0412-00088", "--street", "卫零路", "--building", "12号", "--db", "li.db", in: dir)
        let added = try #require(try Self.run("household", "add", "--doorplate", "JS0412-00088", "--head", "张伟", "--members", "3",
                                              "--room", "301", "--db", "li.db", "--json", in: dir).json as? [String: Any])
        let household = try #require(added["id"] as? String)
        try Self.run("sync", "--db", "li.db", in: dir)
        try Self.run("sync", "--db", "zhao.db", in: dir)
        #expect(try Self.run("household", "show", household, "--db", "zhao.db", in: dir).stdout.contains("张伟"))

        // Offline, both change the phone.
        try Self.run("household", "update", household, "phone=13911112222", "--db", "li.db", in: dir)
        try Self.run("household", "update", household, "phone=13933334444", "--db", "zhao.db", in: dir)
        for name in ["li", "zhao", "li"] { try Self.run("sync", "--db", "\(name).db", in: dir) }

        // The operator sees the conflict once, picks Li's value.
        let queue = try #require(try Self.run("central", "review", "list", "--kind", "conflict", "--json", in: dir).json as? [[String: Any]])
        #expect(queue.count == 1)
        let item = try #require(queue.first)
        let id = try #require(item["id"] as? String)
        #expect(id.hasSuffix("/phone"))
        let candidates = try #require(item["candidates"] as? [[String: Any]])
        let pick = try #require(candidates.first { ($0["value"] as? String) == "13911112222" }?["op"] as? String)
        #expect(try Self.run("central", "review", "show", id, in: dir).stdout.contains("13933334444"))
        try Self.run("central", "review", "resolve", id, "--pick", pick, in: dir)
        let empty = try Self.run("central", "review", "list", "--json", in: dir)
        #expect((empty.json as? [Any])?.isEmpty == true)

        // Wang has no network: bundles carried by hand, both ways.
        try Self.run("bundle", "export", "wang-out.bundle", "--db", "wang.db", in: dir)
        try Self.run("central", "bundle", "import", "wang-out.bundle", "--device", "wang", "--reply", "wang-in.bundle", in: dir)
        try Self.run("bundle", "import", "wang-in.bundle", "--db", "wang.db", in: dir)
        // Importing the same reply twice changes nothing.
        try Self.run("bundle", "import", "wang-in.bundle", "--db", "wang.db", in: dir)

        for name in ["li", "zhao"] { try Self.run("sync", "--db", "\(name).db", in: dir) }
        // Zhao compacts by hand: the history the node holds leaves, the records do not change,
        // and the file is a central node's no more than before.
        let digestBefore = try Self.run("digest", "--cell", "JS-0412", "--db", "zhao.db", in: dir).stdout
        let compacted = try #require(try Self.run("device", "compact", "--db", "zhao.db", "--json", in: dir).json as? [String: Any])
        #expect((compacted["kept"] as? Int).map { $0 <= 1 } == true, "\(compacted)")
        #expect((compacted["bytesAfter"] as? Int ?? .max) <= (compacted["bytesBefore"] as? Int ?? 0))
        #expect(try Self.run("digest", "--cell", "JS-0412", "--db", "zhao.db", in: dir).stdout == digestBefore)
        let central = try Self.run("central", "digest", "--cell", "JS-0412", in: dir).stdout
        for name in ["li", "zhao", "wang"] {
            #expect(try Self.run("digest", "--cell", "JS-0412", "--db", "\(name).db", in: dir).stdout == central, "\(name)'s digest")
            let shown = try #require(try Self.run("household", "show", household, "--db", "\(name).db", "--json", in: dir).json as? [String: Any])
            #expect(shown["phone"] as? String == "13911112222", "\(name): \(shown)")
        }
        let conflicts = try Self.run("conflicts", "--db", "zhao.db", "--json", in: dir)
        #expect((conflicts.json as? [Any])?.isEmpty == true)
    }
}

extension EndToEndCLITests {
    @Test func aDuplicateHouseholdIsQueuedAndMergedFromTheCommandLine() throws {
        let dir = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.run("central", "init", in: dir)
        let server = try CLITests.Server(in: dir)
        defer { server.stop() }
        var ids: [String] = []
        for (name, head) in [("li", "王芳"), ("zhao", "王 芳")] {
            let enrolled = try #require(try Self.run("central", "enroll", "--device", name, "--cells", "JS-0412", "--json", in: dir).json as? [String: Any])
            try Self.run("device", "init", "--central", server.url, "--token", enrolled["token"] as! String, "--db", "\(name).db", in: dir)
            try Self.run("doorplate", "add", "JS0412-00088", "--db", "\(name).db", in: dir)
            let added = try #require(try Self.run("household", "add", "--doorplate", "JS0412-00088", "--head", head, "--members", "2",
                                                  "--room", "301", "--db", "\(name).db", "--json", in: dir).json as? [String: Any])
            ids.append(try #require(added["id"] as? String))
        }
        for name in ["li", "zhao", "li"] { try Self.run("sync", "--db", "\(name).db", in: dir) }
        let queue = try #require(try Self.run("central", "review", "list", "--kind", "duplicate", "--json", in: dir).json as? [[String: Any]])
        #expect(queue.count == 1)
        let item = try #require(queue.first?["id"] as? String)
        #expect(Set(queue.first?["pair"] as? [String] ?? []) == Set(ids))
        #expect(try Self.run("central", "review", "show", item, in: dir).stdout.contains("review merge \(item) --keep"))
        let wrong = try CLITests.fieldsync("central", "review", "merge", item, "--keep", "00000000000000000000000000", in: dir)
        #expect(wrong.status == 2 && wrong.stderr.contains("keep one of the pair") && wrong.stdout.isEmpty)
        let missing = try CLITests.fieldsync("central", "review", "merge", item, in: dir)
        #expect(missing.status == 64)
        try Self.run("central", "review", "merge", item, "--keep", ids[0], in: dir)
        #expect((try Self.run("central", "review", "list", "--json", in: dir).json as? [Any])?.isEmpty == true)
        for name in ["li", "zhao"] { try Self.run("sync", "--db", "\(name).db", in: dir) }
        for name in ["li", "zhao"] {
            let list = try #require(try Self.run("household", "list", "--db", "\(name).db", "--json", in: dir).json as? [[String: Any]])
            #expect(list.compactMap { $0["id"] as? String } == [ids[0]], "\(name): one household left")
            let redirected = try #require(try Self.run("household", "show", ids[1], "--db", "\(name).db", "--json", in: dir).json as? [String: Any])
            #expect(redirected["id"] as? String == ids[0], "\(name): the merged id leads to the kept household")
        }
        let audit = try Self.run("central", "audit", in: dir).stdout
        #expect(audit.contains("merge"))
    }
}
