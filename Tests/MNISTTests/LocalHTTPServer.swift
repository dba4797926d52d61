import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A tiny HTTP/1.1 server on 127.0.0.1 serving fixed bodies by path (404 otherwise), so the
/// URLSession download path can be tested without network.
final class LocalHTTPServer: @unchecked Sendable {
    let port: UInt16
    private let listener: Int32
    private let bodies: [String: [UInt8]]
    private let gzipEncodedPaths: Set<String>
    private let thread: Thread
    private let stopped = DispatchSemaphore(value: 0)

    /// Paths in `gzipEncodedPaths` are sent with "Content-Encoding: gzip", as some buckets label .gz files.
    init(bodies: [String: [UInt8]], gzipEncodedPaths: Set<String> = []) throws {
        self.bodies = bodies
        self.gzipEncodedPaths = gzipEncodedPaths
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(descriptor, 8) == 0 else { close(descriptor); throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
        listener = descriptor
        let bodies = self.bodies, encoded = self.gzipEncodedPaths, stopped = self.stopped
        thread = Thread {
            while true {
                let client = accept(descriptor, nil, nil)
                if client < 0 { break }
                LocalHTTPServer.serve(client, bodies: bodies, encoded: encoded)
                close(client)
            }
            stopped.signal()
        }
        thread.start()
    }

    var baseURL: URL { URL(string: "http://127.0.0.1:\(port)/")! }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        _ = stopped.wait(timeout: .now() + 5)
    }

    private static func serve(_ client: Int32, bodies: [String: [UInt8]], encoded: Set<String>) {
        var request: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !String(decoding: request, as: UTF8.self).contains("\r\n\r\n") {
            let got = buffer.withUnsafeMutableBytes { read(client, $0.baseAddress, $0.count) }
            if got <= 0 { return }
            request.append(contentsOf: buffer[..<got])
        }
        let requestLine = String(decoding: request, as: UTF8.self).split(separator: "\r\n").first ?? ""
        let parts = requestLine.split(separator: " ")
        let path = parts.count > 1 ? String(parts[1]) : "/"
        var response: [UInt8]
        if let body = bodies[path] {
            response = Array("HTTP/1.1 200 OK\r\nContent-Length: \(body.count)\r\nContent-Type: application/octet-stream\r\n\(encoded.contains(path) ? "Content-Encoding: gzip\r\n" : "")Connection: close\r\n\r\n".utf8) + body
        } else {
            response = Array("HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found".utf8)
        }
        var sent = 0
        while sent < response.count {
            let wrote = response.withUnsafeBytes { write(client, $0.baseAddress! + sent, $0.count - sent) }
            if wrote <= 0 { return }
            sent += wrote
        }
    }
}
