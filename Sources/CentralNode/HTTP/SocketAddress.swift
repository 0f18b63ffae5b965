import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A resolved IPv4 or IPv6 bind address with its port.
struct SocketAddress {
    private(set) var storage = sockaddr_storage()

    /// Resolves a numeric address or a host name (first result wins).
    init(host: String, port: Int) throws {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE
        var results: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &results)
        defer { if let results { freeaddrinfo(results) } }
        guard status == 0, let first = results, let address = first.pointee.ai_addr else {
            let reason = status == 0 ? "no address" : String(cString: gai_strerror(status))
            throw HTTPServerError(.addressUnresolvable, "cannot listen on host \"\(host)\": \(reason)")
        }
        let family = Int32(address.pointee.sa_family)
        guard family == AF_INET || family == AF_INET6 else {
            throw HTTPServerError(.addressUnresolvable, "host \"\(host)\" is neither IPv4 nor IPv6")
        }
        withUnsafeMutableBytes(of: &storage) { target in
            target.copyMemory(from: UnsafeRawBufferPointer(start: address, count: Int(first.pointee.ai_addrlen)))
        }
        let networkPort = UInt16(port).bigEndian
        withUnsafeMutableBytes(of: &storage) { target in
            if family == AF_INET {
                target.baseAddress!.assumingMemoryBound(to: sockaddr_in.self).pointee.sin_port = networkPort
            } else {
                target.baseAddress!.assumingMemoryBound(to: sockaddr_in6.self).pointee.sin6_port = networkPort
            }
        }
    }

    func withSockaddrPointer<Result>(_ body: (UnsafePointer<sockaddr>) -> Result) -> Result {
        withUnsafeBytes(of: storage) { body($0.baseAddress!.assumingMemoryBound(to: sockaddr.self)) }
    }
}
