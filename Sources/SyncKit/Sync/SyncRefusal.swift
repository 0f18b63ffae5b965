/// The central node refused an exchange: an HTTP status and its reply (a stable code and a
/// message for people). Nothing of the refused batch was stored; the device keeps its
/// operations queued.
///
///     catch let refusal as SyncRefusal where refusal.reply.code == "revoked" { … }
public struct SyncRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    public let status: Int
    public let reply: SyncErrorReply

    package init(_ status: Int, _ code: String, _ message: String) {
        self.status = status
        self.reply = SyncErrorReply(code: code, message: message)
    }

    public init(status: Int, reply: SyncErrorReply) {
        self.status = status
        self.reply = reply
    }

    public var code: String { reply.code }
    public var message: String { reply.message }
    public var description: String { "the central node refused the sync (\(reply.code)): \(reply.message)" }

    /// The node asks the device to erase its data (reported lost or stolen): the session wipes
    /// the replica and confirms; the node's answer to the confirmation is `wipedCode`.
    public static let wipeCode = "wipe"
    public static let wipedCode = "wiped"

    /// A refusal of what was pushed (a sequence gap, a reused operation id, an operation too
    /// large for the node's body limit): pulling may go on.
    public var refusesPush: Bool { status == 422 || status == 413 }
}
