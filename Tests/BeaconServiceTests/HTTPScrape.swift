#if GRPC
import NIOCore
import NIOPosix

/// What one HTTP/1.1 request to a metrics endpoint answered.
struct HTTPScrape {
    let status: Int
    let headers: [String: String]
    let body: String

    /// Sends `method path` to 127.0.0.1:`port` with `Connection: close` and reads the whole answer.
    static func request(_ method: String = "GET", _ path: String = "/metrics", port: Int) async throws -> HTTPScrape {
        let text = try await send(
            "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", port: port)
        guard let split = text.range(of: "\r\n\r\n") else { return HTTPScrape(status: 0, headers: [:], body: text) }
        let lines = text[..<split.lowerBound].split(separator: "\r\n")
        let status = lines.first.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingPrefix(" ").description
        }
        return HTTPScrape(status: status, headers: headers, body: String(text[split.upperBound...]))
    }

    /// Connects to 127.0.0.1:`port`, sends `bytes` (nothing, half a request, or a whole one) and
    /// nothing more, and returns what the server sent until it closed the connection.
    static func send(_ bytes: String, port: Int) async throws -> String {
        try await connect(port: port).executeThenClose { inbound, outbound in
            if !bytes.isEmpty { try await outbound.write(ByteBuffer(string: bytes)) }
            var received = ByteBuffer()
            for try await var chunk in inbound { received.writeBuffer(&chunk) }
            return String(buffer: received)
        }
    }

    /// Connects to 127.0.0.1:`port`, sends `head`, then one more byte every `interval`, `count`
    /// times, and returns whether the server closed the connection before the last byte.
    static func drip(_ head: String, every interval: Duration, count: Int, port: Int) async throws -> Bool {
        try await connect(port: port).executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: head))
            return try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    do {
                        for try await _ in inbound {}
                    } catch {}
                    return true
                }
                group.addTask {
                    for _ in 0..<count {
                        try await Task.sleep(for: interval)
                        do {
                            try await outbound.write(ByteBuffer(string: "x"))
                        } catch {
                            return true
                        }
                    }
                    return false
                }
                let closedByServer = try await group.next() ?? false
                group.cancelAll()
                return closedByServer
            }
        }
    }

    private static func connect(port: Int) async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
    }
}
#endif
