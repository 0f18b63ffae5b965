import CentralNode
import FieldKit
import Foundation
import SyncKit

// fieldsync: the command-line tool. Thin: parses, calls the libraries, prints.
// Exit codes: 0 ok, 1 failed, 2 refused (by the central node or by validation), 64 usage.

let arguments = Array(CommandLine.arguments.dropFirst())
let usage = """
    usage: fieldsync <command> [options]

    device side (replica file: --db PATH, default ./fieldsync.db):
      device init | status      set up this device, or show unsynced changes, cells, conflicts
      sync                      exchange with the central node; resumes where it broke off
      bundle export | import    sync by file, where there is no network
      household | doorplate | task   a collector's work, validated (see `fieldsync household --help`)
      schema                    collections, fields, types, merge policies, natural keys
      record set|get|list|delete   generic records of any collection
      conflicts | digest        this replica's open conflicts; its state digest

    central node (--db PATH, default ./central.db):
      central init | serve | enroll | devices | revoke | cells | bundle | audit | review
      central import-csv | export-csv | stats | digest   district files, figures, digests

    demo                        a central node and three offline devices: conflicts, duplicates, review, convergence
    conformance --url URL --operator NAME [--dir DIR] [--record]
                                drive a fresh central node through the protocol's conformance kit
                                (Fixtures/conformance/, PROTOCOL.md section 15)

    Every command takes --help; commands that print data take --json.
    """

signal(SIGPIPE, SIG_IGN)
// Belt and braces: the libraries already create every file holding personal data or secrets
// owner-only through the mode they pass to open(2) (`OwnerOnlyFile`, SyncKit's `Connection`),
// since a library must not change a process's umask. This umask also covers whatever this
// process creates by another path (SQLite's own files, the demo's directory, a future command
// that forgets the helper): nothing it makes is ever open to the group or other users.
umask(0o077)
OwnerOnlyFile.reportNotices { notice in Output.error("fieldsync: \(notice.message)") }

func fail(_ message: String, code: Int32) -> Never {
    Output.error("fieldsync: \(message)")
    exit(code)
}

do {
    switch arguments.first {
    case "demo":
        if arguments.contains("--help") || arguments.contains("-h") {
            Output.line("""
                usage: fieldsync demo [--keep] [--json]

                Starts a central node on 127.0.0.1 in a temporary directory (kept with --keep), seeds a small
                district, enrolls three devices, lets them edit offline, syncs them over HTTP and narrates what
                happens: the digests that agree, the review queue, its resolution, the final sync. With --json,
                one summary document instead of the narration. Nothing keeps running afterwards.
                """)
        } else {
            try Demo(keepFiles: arguments.contains("--keep"), json: arguments.contains("--json")).run()
        }
    case "central": try await CentralCommands.run(Array(arguments.dropFirst()))
    case "device": try DeviceCommands.device(Array(arguments.dropFirst()))
    case "sync": try DeviceCommands.sync(Array(arguments.dropFirst()))
    case "bundle": try DeviceCommands.bundle(Array(arguments.dropFirst()))
    case "household": try DomainCommands.household(Array(arguments.dropFirst()))
    case "doorplate": try DomainCommands.doorplate(Array(arguments.dropFirst()))
    case "task": try DomainCommands.task(Array(arguments.dropFirst()))
    case "schema": try RecordCommands.schema(Array(arguments.dropFirst()))
    case "conformance":
        var args = try Arguments(Array(arguments.dropFirst()), flags: ["record", "help"])
        if args.flag("help") {
            Output.line("usage: fieldsync conformance --url URL --operator NAME [--dir Fixtures/conformance] [--record]")
        } else {
            guard let url = args.value("url").flatMap(URL.init(string:)), url.scheme == "http" || url.scheme == "https" else {
                throw UsageError("--url takes the node's address, e.g. http://127.0.0.1:8443")
            }
            guard let name = args.value("operator") ?? ProcessInfo.processInfo.environment["FIELDSYNC_OPERATOR"] else {
                throw UsageError("--operator NAME: an admin of the node (the password from FIELDSYNC_PASSWORD or asked for)")
            }
            let directory = URL(fileURLWithPath: args.value("dir") ?? "Fixtures/conformance")
            let record = args.flag("record")
            try args.checkAllUsed()
            var kit = Conformance(remote: RemoteCentral(base: url, operatorName: name), directory: directory, record: record)
            do {
                for line in try kit.run() { Output.line(line) }
            } catch let mismatch as Conformance.Mismatch {
                fail("conformance: \(mismatch.description)", code: 1)
            }
        }
    case "record": try RecordCommands.record(Array(arguments.dropFirst()))
    case "conflicts": try RecordCommands.conflicts(Array(arguments.dropFirst()))
    case "digest": try RecordCommands.digest(Array(arguments.dropFirst()))
    case "help", "--help", "-h": Output.line(usage)
    case nil: fail("no command\n\n\(usage)", code: 64)
    case let command?: fail("unknown command \"\(command)\"\n\n\(usage)", code: 64)
    }
} catch let error as UsageError {
    fail(error.description, code: 64)
} catch let error as FieldError {
    fail(error.message, code: 2)
} catch let error as DoorplateError {
    fail(error.message, code: 2)
} catch let error as ImportError {
    fail(error.message, code: 2)
} catch let error as OperatorError {
    fail(error.message, code: error.code == .failed ? 1 : 2)
} catch let refusal as SyncRefusal {
    fail(refusal.description, code: 2)
} catch let error as SyncError {
    let refused: Set<SyncError.Code> = [.invalidInput, .notFound, .alreadyExists, .illegalTransition, .limitExceeded, .schemaMismatch]
    fail(error.message, code: refused.contains(error.code) ? 2 : 1)
} catch {
    fail("\(error)", code: 1)
}
