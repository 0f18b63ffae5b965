import CentralNode
import FieldKit
import Foundation
import SyncKit

/// `fieldsync central operator add|list|disable|enable|reset|role`: the console's operators,
/// managed on the node's machine (the file) by whoever can open it. Passwords are read from
/// `FIELDSYNC_PASSWORD`, else asked for on the terminal (twice), else read as one line of stdin:
/// never from an argument, which other local users could read in the process list.
enum OperatorCommands {
    static let usage = """
        usage: fieldsync central operator <command> [--db central.db] [--json]

          add NAME --role viewer|reviewer|admin   create an operator (password asked for, or FIELDSYNC_PASSWORD)
          list                                    operators, roles, disabled or not
          disable NAME | enable NAME              stop (or allow again) an operator's logins and sessions
          reset NAME                              give an operator a new password (asked for)
          role NAME --role viewer|reviewer|admin  change an operator's role

        Roles: a viewer reads; a reviewer also settles review items; an admin also enrolls,
        revokes, assigns cells, imports, exports and manages operators.
        """

    static func run(_ args: inout Arguments, path: String, actor: String, json: Bool) throws {
        let words = Array(args.positional)
        let hub = { try Hub.open(path: path, schema: FieldModel.schema) }
        switch words.first {
        case "add":
            guard words.count == 2 else { throw UsageError("operator add NAME --role viewer|reviewer|admin") }
            let role = try self.role(args.value("role"))
            try args.checkAllUsed()
            try hub().addOperator(words[1], role: role, password: try password(confirm: true), actor: actor)
            json ? Output.json(["operator": words[1], "role": role.rawValue]) : Output.line("operator \(words[1]) added as \(role.rawValue)")
        case "list":
            try args.checkAllUsed()
            let operators = try hub().operators()
            if json {
                return Output.json(operators.map { ["name": $0.name, "role": $0.role.rawValue, "disabled": $0.disabled, "createdMillis": $0.createdMillis] as [String: Any] })
            }
            if operators.isEmpty { Output.line("no operators yet: fieldsync central operator add NAME --role admin") }
            for op in operators { Output.line("\(op.name)\t\(op.role.rawValue)\(op.disabled ? "\tDISABLED" : "")") }
        case "disable", "enable":
            guard words.count == 2 else { throw UsageError("operator \(words[0]) NAME") }
            try args.checkAllUsed()
            try hub().setOperatorDisabled(words[1], words[0] == "disable", actor: actor)
            json ? Output.json(["operator": words[1], "disabled": words[0] == "disable"]) : Output.line("\(words[0])d \(words[1])")
        case "reset":
            guard words.count == 2 else { throw UsageError("operator reset NAME") }
            try args.checkAllUsed()
            try hub().resetOperatorPassword(words[1], password: try password(confirm: true), actor: actor)
            json ? Output.json(["operator": words[1], "reset": true]) : Output.line("\(words[1]) has a new password; its sessions on a running node end at its next request")
        case "role":
            guard words.count == 2 else { throw UsageError("operator role NAME --role viewer|reviewer|admin") }
            let role = try self.role(args.value("role"))
            try args.checkAllUsed()
            try hub().setOperatorRole(words[1], role, actor: actor)
            json ? Output.json(["operator": words[1], "role": role.rawValue]) : Output.line("\(words[1]) is now \(role.rawValue)")
        case "--help", "help", nil:
            Output.line(usage)
        default:
            throw UsageError("unknown operator command \"\(words[0])\"\n\n\(usage)")
        }
    }

    static func role(_ text: String?) throws -> OperatorRole {
        guard let text else { throw UsageError("name the role: --role viewer|reviewer|admin") }
        guard let role = OperatorRole(rawValue: text) else { throw UsageError("--role is viewer, reviewer or admin, not \"\(text)\"") }
        return role
    }

    /// A password from FIELDSYNC_PASSWORD, the terminal (asked twice when `confirm`), or stdin.
    static func password(confirm: Bool, prompt: String = "password: ") throws -> String {
        if let password = ProcessInfo.processInfo.environment["FIELDSYNC_PASSWORD"], !password.isEmpty { return password }
        if isatty(STDIN_FILENO) != 0 {
            guard let first = getpass(prompt).map({ String(cString: $0) }), !first.isEmpty else { throw UsageError("no password given") }
            if confirm {
                guard let second = getpass("again: ").map({ String(cString: $0) }), second == first else {
                    throw UsageError("the two passwords differ; nothing was changed")
                }
            }
            return first
        }
        guard let line = readLine(strippingNewline: true), !line.isEmpty else {
            throw UsageError("no password: set FIELDSYNC_PASSWORD or pass it on stdin")
        }
        return line
    }
}
