import Foundation
import Testing

/// `fieldsync central operator …` and the central commands' `--url` mode as a user meets them:
/// passwords from the environment, refusals with what to do, exit codes.
struct OperatorCLITests {
    static func run(_ arguments: String..., in dir: URL, password: String? = nil) throws -> CLITests.Run {
        try CLITests.fieldsync(arguments: arguments, in: dir, environment: password.map { ["FIELDSYNC_PASSWORD": $0] } ?? [:])
    }

    @Test func operatorsAreAddedListedDisabledAndRefusedWithReasons() throws {
        let dir = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try Self.run("central", "init", in: dir).status == 0)
        let weak = try Self.run("central", "operator", "add", "wu", "--role", "admin", in: dir, password: "short")
        #expect(weak.status == 2 && weak.stderr.contains("at least 10 characters"))
        let role = try Self.run("central", "operator", "add", "wu", "--role", "boss", in: dir, password: "long-enough-pw")
        #expect(role.status == 64 && role.stderr.contains("viewer, reviewer or admin"))
        let added = try Self.run("central", "operator", "add", "wu", "--role", "admin", in: dir, password: "long-enough-pw")
        #expect(added.status == 0 && added.stdout.contains("operator wu added as admin"))
        let again = try Self.run("central", "operator", "add", "wu", "--role", "viewer", in: dir, password: "long-enough-pw")
        #expect(again.status == 2 && again.stderr.contains("exists already"))
        #expect(try Self.run("central", "operator", "disable", "wu", in: dir).status == 0)
        let list = try Self.run("central", "operator", "list", "--json", in: dir)
        let rows = try #require(list.json as? [[String: Any]])
        #expect(rows.count == 1 && rows[0]["name"] as? String == "wu" && rows[0]["disabled"] as? Bool == true)
        #expect(!list.stdout.contains("argon2"), "the list never shows a password hash")
        // A wipe names its reason.
        let reason = try Self.run("central", "revoke", "tablet-1", "--wipe", "gone", in: dir)
        #expect(reason.status == 64 && reason.stderr.contains("lost or stolen"))
        let nobody = try Self.run("central", "revoke", "tablet-1", "--wipe", "stolen", in: dir)
        #expect(nobody.status == 2 && nobody.stderr.contains("no device named"))
        let missing = try Self.run("central", "operator", "reset", "nobody", in: dir, password: "long-enough-pw")
        #expect(missing.status == 2 && missing.stderr.contains("no operator named"))
        // Every change is in the audit, under whoever ran the command.
        let audit = try Self.run("central", "audit", in: dir)
        #expect(audit.stdout.contains("operator-add") && audit.stdout.contains("operator-disable"))
        // What the node's file keeps is an Argon2id hash, never the password.
        let sqlite = Process(), out = Pipe()
        sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        sqlite.arguments = [dir.appendingPathComponent("central.db").path, "SELECT password_hash FROM central_operator"]
        sqlite.standardOutput = out
        try sqlite.run()
        let stored = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        sqlite.waitUntilExit()
        #expect(stored.hasPrefix("$argon2id$v=19$m=19456,t=2,p=1$") && !stored.contains("long-enough-pw"))
    }

    @Test func centralCommandsOverURLSayWhatTheyNeed() throws {
        let dir = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let noOperator = try Self.run("central", "review", "list", "--url", "http://127.0.0.1:9", in: dir)
        #expect(noOperator.status == 64 && noOperator.stderr.contains("--operator NAME"))
        let fileOnly = try Self.run("central", "init", "--url", "http://127.0.0.1:9", "--operator", "wu", in: dir)
        #expect(fileOnly.status == 64 && fileOnly.stderr.contains("works on the node's file"))
        let both = try Self.run("central", "devices", "--url", "http://127.0.0.1:9", "--operator", "wu", "--db", "c.db", in: dir)
        #expect(both.status == 64 && both.stderr.contains("give one of them"))
        let unreachable = try Self.run("central", "devices", "--url", "http://127.0.0.1:9", "--operator", "wu", in: dir, password: "long-enough-pw")
        #expect(unreachable.status == 1 && unreachable.stderr.contains("could not reach the node"))
    }
}
