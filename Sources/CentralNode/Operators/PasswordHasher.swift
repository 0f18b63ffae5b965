import CArgon2
import Foundation

/// Operators' passwords as Argon2id hashes (RFC 9106) through Debian's libargon2, in the
/// library's encoded form (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`), which carries its own
/// parameters and salt, so that stronger parameters later do not break stored hashes.
///
///     let stored = try PasswordHasher.hash("correct horse battery")
///     PasswordHasher.verify("correct horse battery", against: stored)   // true
///
/// Parameters are OWASP's first recommendation for Argon2id (19 MiB, 2 passes, 1 lane): about
/// 40 ms per hash on this project's 2-core machines, which is what a guess costs an attacker
/// holding the database file too.
enum PasswordHasher {
    static let memoryKiB: UInt32 = 19_456
    static let passes: UInt32 = 2
    static let lanes: UInt32 = 1
    static let saltBytes = 16
    static let hashBytes = 32
    static let passwordLengthMin = 10
    static let passwordBytesMax = 256

    /// Checks a new password against the policy (length only: NIST SP 800-63B asks for no
    /// composition rules); the error says what to do.
    static func checkPolicy(_ password: String) throws {
        guard password.count >= passwordLengthMin else {
            throw OperatorError(.weakPassword, "a password needs at least \(passwordLengthMin) characters; a few words together are easy to remember")
        }
        guard password.utf8.count <= passwordBytesMax else {
            throw OperatorError(.weakPassword, "a password takes at most \(passwordBytesMax) bytes")
        }
    }

    static func hash(_ password: String) throws -> String {
        var generator = SystemRandomNumberGenerator()
        let salt = (0..<saltBytes).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let length = argon2_encodedlen(passes, memoryKiB, lanes, UInt32(saltBytes), UInt32(hashBytes), Argon2_id)
        var encoded = [CChar](repeating: 0, count: length + 1)
        let password = Array(password.utf8)
        let result = password.withUnsafeBytes { pwd in
            salt.withUnsafeBytes { salt in
                argon2id_hash_encoded(passes, memoryKiB, lanes, pwd.baseAddress, pwd.count, salt.baseAddress, salt.count,
                                      hashBytes, &encoded, encoded.count)
            }
        }
        guard result == ARGON2_OK.rawValue else {
            throw OperatorError(.failed, "hashing the password failed (\(String(cString: argon2_error_message(result))))")
        }
        return String(decoding: encoded.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Whether `password` matches a stored encoded hash (libargon2 compares in constant time).
    static func verify(_ password: String, against encoded: String) -> Bool {
        let password = Array(password.utf8)
        return password.withUnsafeBytes { pwd in
            argon2id_verify(encoded, pwd.baseAddress, pwd.count) == ARGON2_OK.rawValue
        }
    }

    /// A hash of no one's password, verified against when a login names no operator, so that
    /// the answer takes as long as for a real operator and does not tell which names exist.
    static let decoy: String = (try? hash(UUID().uuidString + UUID().uuidString)) ?? ""
}
