#if Etcd
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// An etcd server this test started: its own free loopback ports, its own data directory under
/// the temporary folder, checked to be the one answering (by its unique member name) before any
/// test talks to it, and stopped (resumed first if paused) when the test ends.
public final class EtcdTestServer: @unchecked Sendable {
    // Safety: `process` is only replaced by `restart`, which tests call from one task.
    private var process: Process
    public let clientURL: String
    private let peerURL: String
    private let name: String
    private let dataDirectory: URL

    public init() async throws {
        let binary = ["/usr/bin/etcd", "/usr/local/bin/etcd"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let binary else {
            throw EtcdTestServerError("etcd is not installed (apt-get install -y etcd-server etcd-client)")
        }
        name = "beacon-test-\(UInt64.random(in: 0 ... .max))"
        dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        clientURL = "http://127.0.0.1:\(try Self.freePort())"
        peerURL = "http://127.0.0.1:\(try Self.freePort())"
        process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        try await launch()
    }

    private func launch() async throws {
        let process = Process()
        process.executableURL = self.process.executableURL
        process.arguments = [
            "--name", name, "--data-dir", dataDirectory.path,
            "--listen-client-urls", clientURL, "--advertise-client-urls", clientURL,
            "--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
            "--initial-cluster", "\(name)=\(peerURL)",
            "--heartbeat-interval", "10", "--election-timeout", "100",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(20))
        while clock.now < deadline {
            guard process.isRunning else {
                throw EtcdTestServerError(
                    "etcd exited at start (port taken?): status \(process.terminationStatus)")
            }
            if await answersAsThisServer() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        stop()
        throw EtcdTestServerError("etcd did not become ready at \(clientURL)")
    }

    /// Whether the server at `clientURL` is healthy and is this one (its member list names it).
    private func answersAsThisServer() async -> Bool {
        guard let url = URL(string: clientURL + "/v3/cluster/member/list") else { return false }
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = Data("{}".utf8)
        request.timeoutInterval = 1
        guard let (data, _) = try? await URLSession.shared.data(for: request) else { return false }
        return String(decoding: data, as: UTF8.self).contains("\"\(name)\"")
    }

    deinit {
        stop()
    }

    public func pause() throws {
        kill(process.processIdentifier, SIGSTOP)
    }

    public func resume() throws {
        kill(process.processIdentifier, SIGCONT)
    }

    /// Stops the server and starts it again on the same ports and data.
    public func restart() async throws {
        terminate()
        try await launch()
    }

    public func stop() {
        terminate()
        try? FileManager.default.removeItem(at: dataDirectory)
    }

    private func terminate() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGCONT)
        process.terminate()
        process.waitUntilExit()
    }

    /// A port the kernel just handed out on loopback (bound, then released).
    private static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw EtcdTestServerError("socket: \(errno)") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) }
        }
        guard bound == 0 else { throw EtcdTestServerError("bind: \(errno)") }
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        guard named == 0 else { throw EtcdTestServerError("getsockname: \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Why a test's etcd could not start.
public struct EtcdTestServerError: Error, CustomStringConvertible {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
#endif
