import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The PEM certificate and key as NUL-terminated C strings that outlive the daemon.
///
/// libmicrohttpd keeps the pointers it is given, so the server frees these only after
/// `MHD_stop_daemon` has returned; the key is wiped before it is freed.
struct TLSCredentials {
    let certificate: UnsafeMutablePointer<CChar>
    let key: UnsafeMutablePointer<CChar>
    private let certificateBytes: Int
    private let keyBytes: Int

    /// Reads both files, with errors naming the file and what is wrong with it.
    init(_ tls: HTTPServer.Configuration.TLS) throws {
        let certificateData = try Self.readPEM(at: tls.certificatePath, what: "certificate", marker: "CERTIFICATE")
        let keyData = try Self.readPEM(at: tls.keyPath, what: "private key", marker: "PRIVATE KEY")
        (certificate, certificateBytes) = Self.cString(certificateData)
        (key, keyBytes) = Self.cString(keyData)
    }

    func release() {
        explicit_bzero(key, keyBytes)
        key.deallocate()
        certificate.deallocate()
    }

    /// A PEM file larger than this is not a certificate chain or a key.
    private static let fileBytesMax = 1024 * 1024

    private static func readPEM(at path: String, what: String, marker: String) throws -> Data {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw HTTPServerError(.tlsFileUnreadable, "TLS \(what) file \(path) does not exist")
        }
        guard !isDirectory.boolValue else {
            throw HTTPServerError(.tlsFileUnreadable, "TLS \(what) path \(path) is a directory, not a PEM file")
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw HTTPServerError(.tlsFileUnreadable,
                                  "TLS \(what) file \(path) cannot be read (check its permissions): \(error.localizedDescription)")
        }
        guard data.count <= fileBytesMax else {
            throw HTTPServerError(.tlsFileUnreadable, "TLS \(what) file \(path) is \(data.count) bytes; a PEM file is far smaller")
        }
        let text = String(decoding: data, as: UTF8.self)
        guard text.contains("-----BEGIN "), text.contains(marker) else {
            throw HTTPServerError(.tlsFileUnreadable,
                                  "TLS \(what) file \(path) is not PEM (expected a \"-----BEGIN ...\(marker)-----\" block)")
        }
        return data
    }

    private static func cString(_ data: Data) -> (UnsafeMutablePointer<CChar>, Int) {
        let count = data.count + 1
        let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: count)
        data.withUnsafeBytes { bytes in
            UnsafeMutableRawPointer(pointer).copyMemory(from: bytes.baseAddress!, byteCount: data.count)
        }
        pointer[data.count] = 0
        return (pointer, count)
    }
}
