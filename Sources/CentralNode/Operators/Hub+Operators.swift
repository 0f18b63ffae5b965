import Foundation
import SyncKit

/// Operator accounts of the console and the admin API (Design.md, "Operators' console"):
/// created, listed, disabled and given a new password by an admin (or by `fieldsync central
/// operator` on the node's machine), each action audited with who did it.
///
///     try hub.addOperator("li", role: .reviewer, password: "river stone lantern", actor: "admin-wu")
///     let role = try hub.checkPassword(name: "li", password: "river stone lantern")   // .reviewer
extension Hub {
    public static let operatorNameLengthMax = 64

    static func checkOperatorName(_ name: String) throws {
        guard !name.isEmpty, name.utf8.count <= operatorNameLengthMax,
              name.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) || "-_.@".unicodeScalars.contains($0) }) else {
            throw OperatorError(.badName, "operator name \"\(name.prefix(80))\" is not valid: use 1 to \(operatorNameLengthMax) letters, digits, - _ . @")
        }
    }

    public func addOperator(_ name: String, role: OperatorRole, password: String, actor: String) throws {
        try Self.checkOperatorName(name)
        try PasswordHasher.checkPolicy(password)
        let hash = try PasswordHasher.hash(password)
        try replica.centralTransaction { access in
            let store = HubStore(access)
            guard try !store.operatorExists(name) else {
                throw OperatorError(.exists, "operator \"\(name)\" exists already; `operator reset` gives it a new password")
            }
            try store.insertOperator(name, role: role, passwordHash: hash, atMillis: access.nowMillis)
            try Self.audit(access, actor: actor, action: "operator-add", detail: "operator \(name) role \(role.rawValue)")
        }
    }

    public func operators() throws -> [OperatorInfo] {
        try read { try HubStore($0).operators() }
    }

    /// Disables (or enables again) an operator: its sessions end at once (`AdminService`
    /// drops them) and it cannot log in.
    public func setOperatorDisabled(_ name: String, _ disabled: Bool, actor: String) throws {
        try replica.centralTransaction { access in
            guard try HubStore(access).setOperatorDisabled(name, disabled) else {
                throw OperatorError(.notFound, "no operator named \"\(name.prefix(80))\"; `operator list` shows them")
            }
            try Self.audit(access, actor: actor, action: disabled ? "operator-disable" : "operator-enable", detail: "operator \(name)")
        }
    }

    /// Gives an operator a new password (and enables it again).
    public func resetOperatorPassword(_ name: String, password: String, actor: String) throws {
        try PasswordHasher.checkPolicy(password)
        let hash = try PasswordHasher.hash(password)
        try replica.centralTransaction { access in
            guard try HubStore(access).setPassword(of: name, hash: hash, atMillis: access.nowMillis) else {
                throw OperatorError(.notFound, "no operator named \"\(name.prefix(80))\"; `operator list` shows them")
            }
            try Self.audit(access, actor: actor, action: "operator-reset", detail: "operator \(name): new password")
        }
    }

    public func setOperatorRole(_ name: String, _ role: OperatorRole, actor: String) throws {
        try replica.centralTransaction { access in
            guard try HubStore(access).setRole(of: name, role) else {
                throw OperatorError(.notFound, "no operator named \"\(name.prefix(80))\"; `operator list` shows them")
            }
            try Self.audit(access, actor: actor, action: "operator-role", detail: "operator \(name) role \(role.rawValue)")
        }
    }

    /// The operator's role when `password` is theirs and they are not disabled; nil otherwise.
    /// An unknown name costs the same hash as a known one.
    public func checkPassword(name: String, password: String) throws -> OperatorRole? {
        guard password.utf8.count <= PasswordHasher.passwordBytesMax, name.utf8.count <= Self.operatorNameLengthMax else { return nil }
        let stored = try read { try HubStore($0).credentials(of: name) }
        guard let stored else {
            _ = PasswordHasher.verify(password, against: PasswordHasher.decoy)
            return nil
        }
        guard PasswordHasher.verify(password, against: stored.passwordHash), !stored.disabled else { return nil }
        return stored.role
    }

    /// The operator's current role, nil when it is gone or disabled (checked on every request
    /// of a session, so that a disabled operator or a changed role takes effect at once).
    func currentRole(of name: String) throws -> OperatorRole? {
        guard let stored = try read({ try HubStore($0).credentials(of: name) }), !stored.disabled else { return nil }
        return stored.role
    }

    /// An audit entry of the console (a login, a logout, a refused login).
    public func auditEvent(actor: String, action: String, detail: String) throws {
        try replica.centralTransaction { try Self.audit($0, actor: actor, action: action, detail: detail) }
    }
}
