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
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            if !bytes.isEmpty { try await outbound.write(ByteBuffer(string: bytes)) }
            var received = ByteBuffer()
            for try await var chunk in inbound { received.writeBuffer(&chunk) }
            return String(buffer: received)
        }
    }
}
#endif
