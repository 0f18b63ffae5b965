import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
@testable import CentralNode

/// A throwaway self-signed certificate for 127.0.0.1 made with openssl at test time.
struct TestCertificate {
    let directory: URL
    var certificatePath: String { directory.appendingPathComponent("cert.pem").path }
    var keyPath: String { directory.appendingPathComponent("key.pem").path }
    var otherKeyPath: String { directory.appendingPathComponent("other-key.pem").path }

    init() throws {
        guard let openssl = findExecutable("openssl") else {
            throw CertificateToolMissing()
        }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("fieldsync-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let made = try run(openssl, [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", keyPath, "-out", certificatePath, "-days", "1", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ])
        try #require(made.status == 0, "openssl req failed: \(made.stderr)")
        let other = try run(openssl, ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                                      "-out", otherKeyPath])
        try #require(other.status == 0, "openssl genpkey failed: \(other.stderr)")
    }

    func remove() {
        try? FileManager.default.removeItem(at: directory)
    }
}

struct CertificateToolMissing: Error, CustomStringConvertible {
    var description: String {
        "openssl is not installed, so the TLS tests cannot make a certificate; `make deps` installs it (Debian package openssl)"
    }
}

/// The path of curl; URLSession on Linux cannot trust a self-signed certificate (it never asks its
/// delegate about server trust and fails with "SSL certificate problem: self-signed certificate").
func curlPath() throws -> String {
    guard let curl = findExecutable("curl") else {
        throw ToolMissing(description: "curl is not installed, so the HTTPS tests cannot make requests; `make deps` installs it (Debian package curl)")
    }
    return curl
}

struct ToolMissing: Error, CustomStringConvertible {
    var description: String
}

@Suite struct HTTPServerTLSTests {
    @Test func httpsRoundTripTrustingAThrowawayCertificate() async throws {
        let certificate = try TestCertificate()
        defer { certificate.remove() }
        let curl = try curlPath()
        let server = try startTestServer {
            $0.tls = .init(certificatePath: certificate.certificatePath, keyPath: certificate.keyPath)
        }
        let url = "https://127.0.0.1:\(server.boundPort)"
        let hello = try run(curl, ["--silent", "--show-error", "--max-time", "10", "--cacert", certificate.certificatePath,
                                   "\(url)/hello"])
        #expect(hello.status == 0, "curl failed: \(hello.stderr)")
        #expect(hello.stdout == "hello")

        let payload = #"{"message":"über TLS","numbers":[4,2]}"#
        let echoed = try run(curl, ["--silent", "--show-error", "--max-time", "10", "--cacert", certificate.certificatePath,
                                    "-H", "Content-Type: application/json", "--data-binary", payload, "\(url)/echo"])
        #expect(echoed.status == 0, "curl failed: \(echoed.stderr)")
        #expect(try JSONDecoder().decode(EchoPayload.self, from: Data(echoed.stdout.utf8))
                == EchoPayload(message: "über TLS", numbers: [4, 2]))

        // Without the certificate as trust anchor the client refuses it: TLS is really in use.
        let untrusted = try run(curl, ["--silent", "--max-time", "10", "\(url)/hello"])
        #expect(untrusted.status == 60)  // CURLE_PEER_FAILED_VERIFICATION
        // Plain HTTP to the HTTPS port gets no HTTP answer.
        await #expect(throws: (any Error).self) { _ = try await fetch(server, "/hello") }
        await server.stop()
    }

    /// What a client can negotiate, as `openssl s_client` sees it (with its own security level
    /// at 0, so that it offers old protocols and suites and only the server decides).
    @Test func onlyTLS12And13WithForwardSecretAEADSuitesAreOffered() async throws {
        guard let openssl = findExecutable("openssl") else { throw CertificateToolMissing() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fieldsync-tls-rsa-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // An RSA key: the one kind with which static RSA key exchange (AES128-SHA) is possible at all.
        let cert = directory.appendingPathComponent("cert.pem").path, key = directory.appendingPathComponent("key.pem").path
        let made = try run(openssl, ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
                                     "-subj", "/CN=127.0.0.1"])
        try #require(made.status == 0, "openssl req failed: \(made.stderr)")
        let server = try startTestServer { $0.tls = .init(certificatePath: cert, keyPath: key) }
        defer { Task { await server.stop() } }
        /// The protocol and cipher negotiated, or nil when the handshake failed.
        func handshake(_ options: [String]) throws -> (String, String)? {
            let result = try run("/bin/sh", ["-c", "echo | \(openssl) s_client -connect 127.0.0.1:\(server.boundPort) \(options.joined(separator: " ")) 2>&1"])
            // "New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384"; "New, (NONE), Cipher is (NONE)" on failure.
            guard let line = result.stdout.split(separator: "\n").first(where: { $0.hasPrefix("New, ") }) else { return nil }
            let parts = line.dropFirst("New, ".count).components(separatedBy: ", Cipher is ")
            guard parts.count == 2, parts[0] != "(NONE)", parts[1] != "(NONE)" else { return nil }
            return (parts[0], parts[1].trimmingCharacters(in: .whitespaces))
        }
        let old = "-cipher 'ALL:@SECLEVEL=0'"
        #expect(try handshake(["-tls1", old]) == nil)
        #expect(try handshake(["-tls1_1", old]) == nil)
        for weak in ["AES128-SHA", "AES256-SHA", "AES128-SHA256", "ECDHE-RSA-AES128-SHA", "DES-CBC3-SHA"] {
            #expect(try handshake(["-tls1_2", "-cipher", "'\(weak):@SECLEVEL=0'"]) == nil, "\(weak) was accepted")
        }
        let tls12 = try handshake(["-tls1_2", old])
        #expect(tls12?.0 == "TLSv1.2" && tls12?.1.hasPrefix("ECDHE-") == true && tls12?.1.contains("GCM") == true || tls12?.1.contains("CHACHA20") == true,
                "TLS 1.2 negotiated \(String(describing: tls12))")
        let tls13 = try handshake(["-tls1_3"])
        #expect(tls13?.0 == "TLSv1.3", "TLS 1.3 negotiated \(String(describing: tls13))")
    }

    @Test func aKeyThatDoesNotMatchTheCertificateGivesAClearError() throws {
        let certificate = try TestCertificate()
        defer { certificate.remove() }
        do {
            _ = try startTestServer {
                $0.tls = .init(certificatePath: certificate.certificatePath, keyPath: certificate.otherKeyPath)
            }
            Issue.record("the server started with a key that does not belong to its certificate")
        } catch let error as HTTPServerError {
            #expect(error.code == .tlsCredentialsRejected)
            #expect(error.message.contains(certificate.certificatePath))
            #expect(error.message.contains(certificate.otherKeyPath))
        }
    }

    @Test func missingOrNonPEMTLSFilesGiveClearErrors() throws {
        let certificate = try TestCertificate()
        defer { certificate.remove() }
        let missing = certificate.directory.appendingPathComponent("no-such-key.pem").path
        #expect { try startTestServer { $0.tls = .init(certificatePath: certificate.certificatePath, keyPath: missing) } }
            throws: { error in
                (error as? HTTPServerError)?.code == .tlsFileUnreadable
                    && "\(error)" == "TLS private key file \(missing) does not exist"
            }
        let notPEM = certificate.directory.appendingPathComponent("notes.txt").path
        try Data("not a certificate".utf8).write(to: URL(fileURLWithPath: notPEM))
        #expect { try startTestServer { $0.tls = .init(certificatePath: notPEM, keyPath: certificate.keyPath) } }
            throws: { error in
                (error as? HTTPServerError)?.code == .tlsFileUnreadable && "\(error)".contains("\(notPEM) is not PEM")
            }
        #expect { try startTestServer {
            $0.tls = .init(certificatePath: certificate.directory.path, keyPath: certificate.keyPath)
        } } throws: { error in
            (error as? HTTPServerError)?.code == .tlsFileUnreadable && "\(error)".contains("is a directory")
        }
    }
}
