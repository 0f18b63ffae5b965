import Foundation
import Testing

/// The `fieldsync` binary as a user runs it: stdout, stderr and the exit code.
struct CLITests {
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
        var json: Any? { try? JSONSerialization.jsonObject(with: Data(stdout.utf8)) }
    }

    /// `FIELDSYNC_BIN` when set (a binary built elsewhere), else the `fieldsync` built beside the
    /// test bundle (same scratch path, so `--scratch-path` builds find their own binary).
    static var executable: URL {
        if let path = ProcessInfo.processInfo.environment["FIELDSYNC_BIN"], !path.isEmpty { return URL(fileURLWithPath: path) }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("fieldsync")
    }

    static func fieldsync(_ arguments: String..., in directory: URL? = nil) throws -> Run {
        try fieldsync(arguments: arguments, in: directory)
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fieldsync-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func usageErrorsExit64WithTheUsageOnStderr() throws {
        let none = try Self.fieldsync()
        #expect(none.status == 64 && none.stdout.isEmpty && none.stderr.contains("usage: fieldsync"))
        let unknown = try Self.fieldsync("frobnicate")
        #expect(unknown.status == 64 && unknown.stderr.contains("unknown command \"frobnicate\""))
        let typo = try Self.fieldsync("schema", "--jsno")
        #expect(typo.status == 64 && typo.stderr.contains("--jsno"))
        let help = try Self.fieldsync("record", "--help")
        #expect(help.status == 0 && help.stdout.contains("set COLLECTION ID field=value"))
        // The node's limits are checked before anything is opened or served.
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let noThreads = try Self.fieldsync("central", "serve", "--db", dir.appendingPathComponent("c.db").path, "--port", "0", "--threads", "0")
        #expect(noThreads.status == 64 && noThreads.stderr.contains("--threads takes 1 to 256 HTTP threads; got 0"))
        let negative = try Self.fieldsync("central", "serve", "--db", dir.appendingPathComponent("c.db").path, "--port", "0", "--pushes-waiting", "-1")
        #expect(negative.status == 64 && negative.stderr.contains("--pushes-waiting takes 0 to 100000 pushes; got -1"))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("c.db").path))
    }

    @Test func schemaDescribesTheDataModelForScripts() throws {
        let run = try Self.fieldsync("schema", "--json")
        #expect(run.status == 0 && run.stderr.isEmpty)
        let object = try #require(run.json as? [String: Any])
        let collections = try #require(object["collections"] as? [[String: Any]])
        let doorplates = try #require(collections.first { $0["name"] as? String == "doorplates" })
        #expect(doorplates["naturalKey"] as? [String] == ["code"])
        #expect(doorplates["cellField"] as? String == "cell")
        let households = try #require(collections.first { $0["name"] as? String == "households" })
        let fields = try #require(households["fields"] as? [[String: Any]])
        #expect(fields.contains { $0["name"] as? String == "visit_count" && $0["policy"] as? String == "counter" })
        #expect(fields.contains { $0["name"] as? String == "phone" && $0["review"] as? Bool == true })
    }

    @Test func genericRecordsAreWrittenAndReadBackByTheirDeclaredTypes() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let plate = try Self.fieldsync("record", "set", "doorplates", "-", "code=JS0412-00088", "cell=JS-0412", "street=幸福路",
                                       "latitude=31.2", "--json", in: dir)
        #expect(plate.status == 0, "\(plate.stderr)")
        let plateID = try #require((plate.json as? [String: Any])?["id"] as? String)
        #expect(plateID.hasPrefix("k"))
        let created = try Self.fieldsync("record", "set", "households", "H1", "cell=JS-0412", "head_name=张伟", "member_count=3",
                                         "visit_count+=2", "tags+=elderly", "--json", in: dir)
        #expect(created.status == 0, "\(created.stderr)")
        let updated = try Self.fieldsync("record", "set", "households", "H1", "phone=13800138000", "visit_count+=1", "tags+=renter", "tags-=elderly", in: dir)
        #expect(updated.status == 0, "\(updated.stderr)")
        let got = try Self.fieldsync("record", "get", "households", "H1", "--json", in: dir)
        let fields = try #require((got.json as? [String: Any])?["fields"] as? [String: Any])
        #expect(fields["head_name"] as? String == "张伟")
        #expect(fields["member_count"] as? Int == 3)
        #expect(fields["visit_count"] as? Int == 3)
        #expect(fields["tags"] as? [String] == ["renter"])
        let list = try Self.fieldsync("record", "list", "households", "--cell", "JS-0412", "--json", in: dir)
        #expect((list.json as? [[String: Any]])?.count == 1)
        let digest = try Self.fieldsync("digest", "--cell", "JS-0412", in: dir)
        #expect(digest.status == 0 && digest.stdout.trimmingCharacters(in: .whitespacesAndNewlines).count == 64)
        #expect(try Self.fieldsync("record", "delete", "households", "H1", in: dir).status == 0)
        #expect(try Self.fieldsync("record", "get", "households", "H1", in: dir).status == 2)
    }

    @Test func badValuesAreRefusedWithExit2AndAMessageNamingTheField() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cases: [([String], String)] = [
            (["record", "set", "households", "H1", "cell=C1", "member_count=many"], "households.member_count takes a whole number"),
            (["record", "set", "households", "H1", "cell=C1", "colour=red"], "households has no field \"colour\""),
            (["record", "set", "nests", "N1", "x=1"], "unknown collection \"nests\""),
            (["record", "set", "households", "H1", "cell=C1", "visit_count=4"], "use visit_count+=N"),
            (["device", "init", "--enroll", "hello"], "not a FieldSync enrollment code"),
            (["sync"], "not set up"),
        ]
        for (arguments, message) in cases {
            let run = try Self.fieldsync(arguments: arguments, in: dir)
            #expect(run.status == 2, "\(arguments): exit \(run.status), \(run.stderr)")
            #expect(run.stderr.contains(message), "\(arguments): \(run.stderr)")
            #expect(run.stdout.isEmpty)
        }
        // Nothing was written by the refused commands.
        #expect((try Self.fieldsync("record", "list", "households", "--json", in: dir).json as? [Any])?.isEmpty == true)
    }

    @Test func aReaderThatClosesStdoutEarlyEndsTheCommandQuietly() throws {
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = ["schema", "--json"]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try out.fileHandleForReading.close()   // like `fieldsync schema --json | head -0`
        try process.run()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0, "\(String(decoding: stderr, as: UTF8.self).prefix(300))")
        #expect(!String(decoding: stderr, as: UTF8.self).contains("Fatal error"))
    }

    @Test func theDemoRunsAndConverges() throws {
        let run = try Self.fieldsync("demo")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("review queue: 0 open items; conflicts left on devices: 0"))
        #expect(!run.stdout.contains("DIFFER"))
        // The summary: every cell's digest equal on the node and its devices, the queue had the
        // story's items (conflicts and a duplicate) and is empty after the resolution.
        let summary = try #require(try Self.fieldsync("demo", "--json").json as? [String: Any])
        #expect(summary["agree"] as? Bool == true)
        let digests = try #require(summary["digests"] as? [String: [String: String]])
        #expect(digests.count == 2)
        for (cell, byReplica) in digests {
            #expect(byReplica.count >= 2 && Set(byReplica.values).count == 1, "cell \(cell): \(byReplica)")
        }
        let review = try #require(summary["review"] as? [String: Any])
        let kinds = (review["before"] as? [[String: Any]])?.compactMap { $0["kind"] as? String } ?? []
        #expect(kinds.filter { $0 == "conflict" }.count == 3 && kinds.contains("duplicate"), "\(kinds)")
        #expect(review["after"] as? Int == 0)
        #expect(summary["deviceConflicts"] as? Int == 0)
        #expect(summary["task"] as? String == "done" && summary["phone"] as? String == "13911112222")
        #expect(summary["householdsAtNewPlate"] as? Int == 1)
    }
}

extension CLITests {
    /// `fieldsync central serve --port 0 --json` in `directory` (or on `port`: a restart on the
    /// same address), running until `stop()`; started with `umask` when given (`CLITests.umasked`).
    struct Server {
        let process: Process
        let url: String

        init(in directory: URL, port: Int = 0, umask: String? = nil) throws {
            process = Process()
            let arguments = ["central", "serve", "--port", String(port), "--json"]
            if let umask {
                (process.executableURL, process.arguments) = CLITests.umasked(umask, arguments)
            } else {
                process.executableURL = CLITests.executable
                process.arguments = arguments
            }
            process.currentDirectoryURL = directory
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            var buffer = Data()
            while !buffer.contains(UInt8(ascii: "}")) {
                let chunk = out.fileHandleForReading.availableData
                guard !chunk.isEmpty else {
                    process.waitUntilExit()
                    throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "central serve exited before listening"])
                }
                buffer.append(chunk)
            }
            let listening = try JSONSerialization.jsonObject(with: buffer) as? [String: Any]
            guard let url = listening?["listening"] as? String else {
                process.terminate()
                throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "central serve printed \(String(decoding: buffer, as: UTF8.self))"])
            }
            self.url = url
        }

        func stop() {
            process.terminate()
            process.waitUntilExit()
        }
    }

    /// `/bin/sh -c 'umask M; exec fieldsync …'`: the binary started by a shell with that umask
    /// (exec keeps the process id, so a signal still reaches `fieldsync`).
    static func umasked(_ umask: String, _ arguments: [String]) -> (URL, [String]) {
        (URL(fileURLWithPath: "/bin/sh"), ["-c", "umask \(umask) && exec \"$0\" \"$@\"", executable.path] + arguments)
    }

    static func fieldsync(arguments: [String], in directory: URL? = nil, umask: String? = nil, environment: [String: String] = [:]) throws -> Run {
        let process = Process()
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        if let umask {
            (process.executableURL, process.arguments) = umasked(umask, arguments)
        } else {
            process.executableURL = executable
            process.arguments = arguments
        }
        if let directory { process.currentDirectoryURL = directory }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }
}

extension CLITests {
    @Test func theReviewQueueCommandsAnswerOnAFreshNode() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try Self.fieldsync("central", "init", in: dir).status == 0)
        let empty = try Self.fieldsync("central", "review", "list", in: dir)
        #expect(empty.status == 0 && empty.stdout.contains("the review queue is empty"))
        let json = try Self.fieldsync("central", "review", "list", "--json", in: dir)
        #expect((json.json as? [Any])?.isEmpty == true)
        let bad = try Self.fieldsync("central", "review", "resolve", "not-an-item", "--value", "x", in: dir)
        #expect(bad.status == 2 && bad.stderr.contains("is not a conflict id"))
        let kind = try Self.fieldsync("central", "review", "list", "--kind", "gossip", in: dir)
        #expect(kind.status == 64 && kind.stderr.contains("--kind is conflict, duplicate or quarantine"))
    }
}

extension CLITests {
    @Test func aCollectorRegistersAPlateAndAHouseholdAndIsWarnedOfADuplicate() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let plate = try Self.fieldsync("doorplate", "add", "js0412-00088", "--street", "幸福路", "--json", in: dir)
        #expect(plate.status == 0, "\(plate.stderr)")
        #expect((plate.json as? [String: Any])?["qrPayload"] as? String == "FSP1:JS0412-00088K")
        let scan = try Self.fieldsync("doorplate", "scan", "FSP1:JS0412-00088K", "--json", in: dir)
        #expect((scan.json as? [String: Any])?["known"] as? Bool == true)
        let misread = try Self.fieldsync("doorplate", "scan", "FSP1:JS0412-00078K", in: dir)
        #expect(misread.status == 2 && misread.stderr.contains("rescan"))

        let added = try Self.fieldsync("household", "add", "--doorplate", "JS0412-00088", "--room", "501", "--head", "張偉",
                                       "--members", "3", "--phone", "138 0013 8000", "--json", in: dir)
        #expect(added.status == 0, "\(added.stderr)")
        let household = try #require(added.json as? [String: Any])
        let id = try #require(household["id"] as? String)
        #expect(household["phone"] as? String == "13800138000")
        // The same household typed again, in simplified characters: shown, not created.
        let again = try Self.fieldsync("household", "add", "--doorplate", "JS0412-00088", "--room", "501", "--head", "张伟", "--members", "3", in: dir)
        #expect(again.status == 2 && again.stdout.contains(id) && again.stderr.contains("--anyway"))
        let anyway = try Self.fieldsync("household", "add", "--doorplate", "JS0412-00088", "--room", "502", "--head", "张伟", "--members", "1", "--anyway", in: dir)
        #expect(anyway.status == 0, "\(anyway.stderr)")
        let tooMany = try Self.fieldsync("household", "add", "--doorplate", "JS0412-00088", "--head", "王芳", "--members", "120", in: dir)
        #expect(tooMany.status == 2 && tooMany.stderr.contains("member count must be 0 to 99"))
        let visit = try Self.fieldsync("household", "visit", id, "--on", "2026-11-29", "--json", in: dir)
        #expect((visit.json as? [String: Any])?["visitCount"] as? Int == 1)
        #expect((try Self.fieldsync("household", "list", "--json", in: dir).json as? [Any])?.count == 2)
        let tasks = try Self.fieldsync("task", "list", in: dir)
        #expect(tasks.status == 0 && tasks.stdout.contains("no open tasks"))
    }
}
