#if Etcd
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// An etcd this test started, of one member or several: each member on its own free loopback
/// ports with its own data directory under the temporary folder, checked to be the one answering
/// (by its unique member name) and to see a leader before any test talks to it, and stopped
/// (resumed first if paused) when the test ends.
public final class EtcdTestServer: @unchecked Sendable {
    // Safety: `processes` is only changed by `restart` and `kill(member:)`, which tests call from
    // one task.
    private struct Member {
        let name: String
        let clientURL: String
        let peerURL: String
        let dataDirectory: URL
    }

    private var members: [Member]
    private var processes: [Process?]
    private let binary: URL

    /// The first member's client URL (a one-member server's only one).
    public var clientURL: String { members[0].clientURL }
    /// Every member's client URL, in member order.
    public var clientURLs: [String] { members.map(\.clientURL) }

    /// Starts an etcd of `count` members (1, or 3 for a cluster that keeps a quorum when one
    /// member dies) and returns once every member answers and the cluster has a leader.
    public init(members count: Int = 1) async throws {
        let binary = ["/usr/bin/etcd", "/usr/local/bin/etcd"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let binary else {
            throw EtcdTestServerError("etcd is not installed (apt-get install -y etcd-server etcd-client)")
        }
        guard count >= 1 else { throw EtcdTestServerError("an etcd has at least one member, not \(count)") }
        self.binary = URL(fileURLWithPath: binary)
        members = []
        processes = Array(repeating: nil, count: count)
        // A port found free can be taken by another process before etcd binds it (tests run in
        // parallel, and every outgoing connection takes an ephemeral port): start again on new
        // ports when a member exits at start.
        for attempt in 1...Self.startAttempts {
            members = try Self.newMembers(count)
            do {
                try await launch()
                return
            } catch let error as EtcdTestServerError where error.exitedAtStart && attempt < Self.startAttempts {
                stop()
                processes = Array(repeating: nil, count: count)
            }
        }
    }

    private static let startAttempts = 5

    /// `count` members of a new cluster, each with two ports found free and an empty data
    /// directory.
    private static func newMembers(_ count: Int) throws -> [Member] {
        let cluster = "beacon-test-\(UInt64.random(in: 0 ... .max))"
        return try (0..<count).map { index in
            let name = "\(cluster)-\(index)"
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            return Member(
                name: name, clientURL: "http://127.0.0.1:\(try freePort())",
                peerURL: "http://127.0.0.1:\(try freePort())", dataDirectory: directory)
        }
    }

    /// Starts every member that is not running (all at once: a member of a cluster waits for a
    /// quorum before it serves), then waits until each answers and sees a leader.
    private func launch() async throws {
        let cluster = members.map { "\($0.name)=\($0.peerURL)" }.joined(separator: ",")
        for (index, member) in members.enumerated() where processes[index]?.isRunning != true {
            let process = Process()
            process.executableURL = binary
            process.arguments = [
                "--name", member.name, "--data-dir", member.dataDirectory.path,
                "--listen-client-urls", member.clientURL, "--advertise-client-urls", member.clientURL,
                "--listen-peer-urls", member.peerURL, "--initial-advertise-peer-urls", member.peerURL,
                "--initial-cluster", cluster, "--initial-cluster-token", members[0].name,
                "--heartbeat-interval", "10", "--election-timeout", "100",
            ]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            processes[index] = process
        }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(20))
        for (index, member) in members.enumerated() {
            while true {
                guard let process = processes[index], process.isRunning else {
                    throw EtcdTestServerError(
                        "etcd member \(member.name) exited at start (port taken?): status \(processes[index]?.terminationStatus ?? -1)",
                        exitedAtStart: true)
                }
                if await Self.answers(member), await Self.status(of: member.clientURL)?.leader != nil { break }
                guard clock.now < deadline else {
                    stop()
                    throw EtcdTestServerError("etcd did not become ready at \(member.clientURL)")
                }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    /// Whether the server at the member's URL is healthy and is this member (its member list
    /// names it).
    private static func answers(_ member: Member) async -> Bool {
        guard let data = await post("/v3/cluster/member/list", to: member.clientURL) else { return false }
        return String(decoding: data, as: UTF8.self).contains("\"\(member.name)\"")
    }

    /// A member's own id and the id of the leader it follows, from `/v3/maintenance/status`.
    private static func status(of clientURL: String) async -> (member: String, leader: String?)? {
        struct Status: Decodable {
            struct Header: Decodable {
                // swift-format-ignore: AlwaysUseLowerCamelCase
                var member_id: String?
            }
            var header: Header?
            var leader: String?
        }
        guard let data = await post("/v3/maintenance/status", to: clientURL),
            let status = try? JSONDecoder().decode(Status.self, from: data), let member = status.header?.member_id
        else { return nil }
        return (member, status.leader.flatMap { $0 == "0" ? nil : $0 })
    }

    private static func post(_ path: String, to clientURL: String) async -> Data? {
        guard let url = URL(string: clientURL + path) else { return nil }
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = Data("{}".utf8)
        request.timeoutInterval = 1
        return try? await URLSession.shared.data(for: request).0
    }

    /// The index of the member that leads the cluster now, as the live members report it.
    public func leader() async -> Int? {
        for (index, member) in members.enumerated() where processes[index]?.isRunning == true {
            guard let status = await Self.status(of: member.clientURL), let leader = status.leader else { continue }
            for (candidate, other) in members.enumerated() where processes[candidate]?.isRunning == true {
                if await Self.status(of: other.clientURL)?.member == leader { return candidate }
            }
            return nil
        }
        return nil
    }

    deinit {
        stop()
    }

    /// Stops every member with SIGSTOP, as a machine that froze.
    public func pause() throws {
        for process in processes.compactMap({ $0 }) where process.isRunning {
            Glibc.kill(process.processIdentifier, SIGSTOP)
        }
    }

    public func resume() throws {
        for process in processes.compactMap({ $0 }) where process.isRunning {
            Glibc.kill(process.processIdentifier, SIGCONT)
        }
    }

    /// Stops one member with SIGSTOP, as one machine that froze: its connections stay open and
    /// silent. ``resume()`` or ``stop()`` continues it.
    public func pause(member index: Int) {
        guard let process = processes[index], process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGSTOP)
    }

    /// Kills one member with SIGKILL, as a crashed machine; the others go on if they keep a
    /// quorum.
    public func kill(member index: Int) {
        guard let process = processes[index], process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Stops every member and starts them again on the same ports and data.
    public func restart() async throws {
        terminate()
        try await launch()
    }

    public func stop() {
        terminate()
        for member in members { try? FileManager.default.removeItem(at: member.dataDirectory) }
    }

    private func terminate() {
        for process in processes.compactMap({ $0 }) where process.isRunning {
            Glibc.kill(process.processIdentifier, SIGCONT)
            process.terminate()
            process.waitUntilExit()
        }
    }

    /// A port the kernel just handed out on loopback (bound, then released): for a server a test
    /// must name before it starts.
    public static func freePort() throws -> Int {
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
    /// Whether a member's process ended before it answered, as it does when its port is taken.
    let exitedAtStart: Bool

    init(_ description: String, exitedAtStart: Bool = false) {
        self.description = description
        self.exitedAtStart = exitedAtStart
    }
}
#endif
