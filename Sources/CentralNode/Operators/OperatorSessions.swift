import Foundation
import Synchronization
import SyncKit

/// The console's login sessions, held in the node's memory (a restart logs everyone out), and
/// the throttle of failed logins.
///
///     let sessions = OperatorSessions()
///     let (token, session) = sessions.open(operator: "li", nowMillis: now)
///     sessions.find(token: token, nowMillis: now)?.csrf   // the token state-changing requests carry
///
/// A session token is 32 random bytes; only its SHA-256 is kept. A session ends after
/// `idleMillisMax` without a request, `lifetimeMillisMax` after login, at logout, or when its
/// operator is disabled. At most `sessionsMax` live at once (the oldest goes first).
final class OperatorSessions: Sendable {
    struct Session: Sendable, Equatable {
        var operatorName: String
        var csrf: String
        var createdMillis: Int64
        var lastUsedMillis: Int64
    }

    static let idleMillisMax: Int64 = 30 * 60_000
    static let lifetimeMillisMax: Int64 = 12 * 3_600_000
    static let sessionsMax = 1_000
    static let tokenBytes = 32

    private let sessions = Mutex<[[UInt8]: Session]>([:])

    /// Opens a session; returns its token (for the cookie) and the session.
    func open(operator name: String, nowMillis: Int64) -> (token: String, session: Session) {
        let token = Self.randomHex(Self.tokenBytes)
        let session = Session(operatorName: name, csrf: Self.randomHex(Self.tokenBytes), createdMillis: nowMillis, lastUsedMillis: nowMillis)
        sessions.withLock { all in
            all = all.filter { !Self.expired($0.value, nowMillis: nowMillis) }
            if all.count >= Self.sessionsMax, let oldest = all.min(by: { $0.value.createdMillis < $1.value.createdMillis }) {
                all[oldest.key] = nil
            }
            all[Self.key(token)] = session
        }
        return (token, session)
    }

    /// The live session of a token (its idle time restarts), nil when none.
    func find(token: String, nowMillis: Int64) -> Session? {
        let key = Self.key(token)
        return sessions.withLock { all -> Session? in
            guard var session = all[key] else { return nil }
            guard !Self.expired(session, nowMillis: nowMillis) else {
                all[key] = nil
                return nil
            }
            session.lastUsedMillis = nowMillis
            all[key] = session
            return session
        }
    }

    func close(token: String) {
        _ = sessions.withLock { $0.removeValue(forKey: Self.key(token)) }
    }

    /// Ends every session of an operator (disabled, or given a new password).
    func closeAll(of name: String) {
        sessions.withLock { all in all = all.filter { $0.value.operatorName != name } }
    }

    static func expired(_ session: Session, nowMillis: Int64) -> Bool {
        nowMillis - session.lastUsedMillis > idleMillisMax || nowMillis - session.createdMillis > lifetimeMillisMax
    }

    private static func key(_ token: String) -> [UInt8] { SHA256.hash(Array(token.utf8)) }

    static func randomHex(_ bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}

/// Failed logins, by operator name and by client address: after `freeFailures` failures of a
/// name (`addressFreeFailures` of an address) within
/// `windowMillis`, each further attempt waits (answered 429 with `Retry-After`, the password not
/// even checked) for a delay that doubles with every failure, from `firstDelayMillis` up to
/// `delayMillisMax`. A success clears the name's count. Kept in memory, at most `keysMax` keys.
final class LoginThrottle: Sendable {
    struct Entry: Sendable {
        var failures: Int
        var firstMillis: Int64
        var lockedUntilMillis: Int64
    }

    static let freeFailures = 5
    /// Failures from one client address before it waits: more than for one name, since several
    /// operators may reach the node from one address (a proxy, an office's NAT); still a bound
    /// on guessing many names' passwords from one place.
    static let addressFreeFailures = 20
    static let addressPrefix = "address:"
    static let windowMillis: Int64 = 15 * 60_000
    static let firstDelayMillis: Int64 = 30_000
    static let delayMillisMax: Int64 = 15 * 60_000
    static let keysMax = 10_000

    private let entries = Mutex<[String: Entry]>([:])

    /// Milliseconds the caller must wait before a login for these keys is taken (0: now).
    func wait(keys: [String], nowMillis: Int64) -> Int64 {
        entries.withLock { all in keys.compactMap { all[$0] }.map { max(0, $0.lockedUntilMillis - nowMillis) }.max() ?? 0 }
    }

    /// Counts a failure for each key; returns the wait the next attempt faces.
    @discardableResult
    func fail(keys: [String], nowMillis: Int64) -> Int64 {
        entries.withLock { all in
            if all.count >= Self.keysMax {
                all = all.filter { nowMillis - $0.value.firstMillis <= Self.windowMillis || $0.value.lockedUntilMillis > nowMillis }
            }
            var wait: Int64 = 0
            for key in keys {
                var entry = all[key] ?? Entry(failures: 0, firstMillis: nowMillis, lockedUntilMillis: 0)
                if nowMillis - entry.firstMillis > Self.windowMillis && entry.lockedUntilMillis <= nowMillis {
                    entry = Entry(failures: 0, firstMillis: nowMillis, lockedUntilMillis: 0)
                }
                entry.failures += 1
                let free = key.hasPrefix(Self.addressPrefix) ? Self.addressFreeFailures : Self.freeFailures
                if entry.failures >= free {
                    let doublings = min(entry.failures - free, 10)
                    entry.lockedUntilMillis = nowMillis + min(Self.delayMillisMax, Self.firstDelayMillis << doublings)
                }
                wait = max(wait, max(0, entry.lockedUntilMillis - nowMillis))
                // Full of live entries (many names or addresses at once): the one that matters
                // least (its wait and window over soonest) makes room, so a flood of keys can
                // never switch the throttle off for a new one.
                if all[key] == nil, all.count >= Self.keysMax,
                   let least = all.min(by: { max($0.value.firstMillis + Self.windowMillis, $0.value.lockedUntilMillis) < max($1.value.firstMillis + Self.windowMillis, $1.value.lockedUntilMillis) }) {
                    all[least.key] = nil
                }
                all[key] = entry
            }
            return wait
        }
    }

    func succeed(keys: [String]) {
        entries.withLock { all in for key in keys { all[key] = nil } }
    }
}
