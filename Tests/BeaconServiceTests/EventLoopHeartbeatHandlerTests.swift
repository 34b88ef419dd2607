#if GRPC
import BeaconDispatcher
import BeaconDispatcherAPI
import BeaconDispatcherService
import GRPCCore
import NIOCore
import NIOEmbedded
import NIOHPACK
import NIOHTTP2
import Testing

/// The event-loop heartbeat handler on an `EmbeddedChannel`, frame by frame: what it writes for
/// each call, what it leaves to grpc-swift, and its deadline in virtual time.
@Suite struct EventLoopHeartbeatHandlerTests {
    /// Answers node-1's beats with a period of 1 000 ns per byte of session id; refuses "bad".
    private static let answer: EventLoopHeartbeatHandler.Answer = { node, request throws(RPCError) in
        guard request.sessionID != "bad" else { throw RPCError(code: .invalidArgument, message: "session invalid") }
        guard request.sessionID != "elsewhere" else {
            throw RPCError(
                code: .failedPrecondition, message: "held by m2",
                metadata: ["Beacon-Owner-Id": "m2", "beacon-owner-address": "10.0.0.2:4242"])
        }
        guard node.rawValue == "node-1" else { throw RPCError(code: .notFound, message: "not node-1") }
        return .with { $0.periodNanoseconds = Int64(request.sessionID.utf8.count) * 1000 }
    }

    private func channel(maximumRequestBytes: Int = 1024) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ReadCounter())
        try channel.pipeline.syncOperations.addHandler(
            EventLoopHeartbeatHandler(
                answer: Self.answer, authenticator: NodeAuthenticator(requiresCertificate: false),
                maximumRequestBytes: maximumRequestBytes))
        // Active, as a stream is when its headers arrive, so a close shows.
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    private func head(_ method: String = "HeartbeatStream", extra: HPACKHeaders = [:]) -> HTTP2Frame.FramePayload {
        var headers: HPACKHeaders = [
            ":method": "POST", ":scheme": "http", ":path": "/beacon.dispatcher.v1.Dispatcher/\(method)",
            "content-type": "application/grpc", "te": "trailers", "beacon-node-id": "node-1",
        ]
        headers.add(contentsOf: extra)
        return .headers(.init(headers: headers))
    }

    /// The length-prefixed form of one request per session id.
    private func body(_ sessions: String...) throws -> ByteBuffer {
        var buffer = ByteBuffer()
        for session in sessions {
            let bytes: [UInt8] = try Beacon_Dispatcher_V1_HeartbeatRequest.with { $0.sessionID = session }
                .serializedBytes()
            buffer.writeInteger(UInt8(0))
            buffer.writeInteger(UInt32(bytes.count))
            buffer.writeBytes(bytes)
        }
        return buffer
    }

    private func data(_ bytes: ByteBuffer, end: Bool = false) -> HTTP2Frame.FramePayload {
        .data(.init(data: .byteBuffer(bytes), endStream: end))
    }

    /// Everything the handler wrote, in order, as readable lines.
    private func written(_ channel: EmbeddedChannel) throws -> [String] {
        var lines: [String] = []
        while let frame = try channel.readOutbound(as: HTTP2Frame.FramePayload.self) {
            switch frame {
            case .headers(let headers):
                let fields = headers.headers.map { "\($0.name)=\($0.value)" }.joined(separator: " ")
                lines.append("headers \(fields)\(headers.endStream ? " END" : "")")
            case .data(let data):
                guard case .byteBuffer(var bytes) = data.data else { throw ReadError.notBytes }
                let flag = bytes.readInteger(as: UInt8.self)
                let length = bytes.readInteger(as: UInt32.self)
                try #require(flag == 0 && length.map(Int.init) == bytes.readableBytes)
                let response = try Beacon_Dispatcher_V1_HeartbeatResponse(
                    serializedBytes: Array(bytes.readableBytesView))
                lines.append("answer \(response.periodNanoseconds)")
            default:
                lines.append("\(frame)")
            }
        }
        return lines
    }

    private enum ReadError: Error { case notBytes }

    private static let responseHeaders = "headers :status=200 content-type=application/grpc"

    @Test func aUnaryCallIsAnsweredWhenTheNodeEndsItsSide() throws {
        let channel = try channel()
        try channel.writeInbound(head("Heartbeat"))
        try channel.writeInbound(data(body("abc")))
        #expect(try written(channel).isEmpty, "a unary call is answered at the end of its request")
        try channel.writeInbound(data(ByteBuffer(), end: true))
        #expect(try written(channel) == [Self.responseHeaders, "answer 3000", "headers grpc-status=0 END"])
        #expect(try channel.readInbound(as: HTTP2Frame.FramePayload.self) == nil, "nothing reaches grpc-swift")
    }

    /// Messages split anywhere over DATA frames, several in one, are answered in order as each
    /// completes.
    @Test func streamedBeatsAreAnsweredAsEachArrivesWhateverTheFraming() throws {
        let whole = try body("a", "bb", "ccc")
        for firstCut in 0...whole.readableBytes {
            for secondCut in firstCut...whole.readableBytes {
                let channel = try channel()
                try channel.writeInbound(head())
                var answers: [String] = []
                for range in [0..<firstCut, firstCut..<secondCut, secondCut..<whole.readableBytes] {
                    try channel.writeInbound(data(whole.getSlice(at: range.lowerBound, length: range.count)!))
                    answers += try written(channel)
                }
                try channel.writeInbound(data(ByteBuffer(), end: true))
                answers += try written(channel)
                #expect(
                    answers == [
                        Self.responseHeaders, "answer 1000", "answer 2000", "answer 3000", "headers grpc-status=0 END",
                    ],
                    "cut at \(firstCut) and \(secondCut)")
            }
        }
    }

    /// The node closes the stream once it has the status; what it sends meanwhile is dropped.
    @Test func aRefusedBeatEndsTheStreamWithItsStatus() throws {
        let channel = try channel()
        try channel.writeInbound(head())
        try channel.writeInbound(data(body("ok", "bad", "ok")))
        #expect(
            try written(channel) == [
                Self.responseHeaders, "answer 2000", "headers grpc-status=3 grpc-message=session invalid END",
            ])
        try channel.writeInbound(data(body("ok"), end: true))
        #expect(try written(channel).isEmpty)
        #expect(try channel.readInbound(as: HTTP2Frame.FramePayload.self) == nil)
    }

    /// A manager that does not hold the node names the one that does, in the trailers.
    @Test func aStatusCarriesItsMetadata() throws {
        let channel = try channel()
        try channel.writeInbound(head())
        try channel.writeInbound(data(body("ok", "elsewhere")))
        #expect(
            try written(channel) == [
                Self.responseHeaders, "answer 2000",
                "headers grpc-status=9 grpc-message=held by m2 beacon-owner-id=m2 beacon-owner-address=10.0.0.2:4242 END",
            ])
    }

    @Test func aCallRefusedBeforeAnyAnswerGetsTheStatusInItsOnlyHeaders() throws {
        let channel = try channel()
        try channel.writeInbound(
            HTTP2Frame.FramePayload.headers(
                .init(headers: [
                    ":method": "POST", ":path": "/beacon.dispatcher.v1.Dispatcher/Heartbeat",
                    "content-type": "application/grpc",
                ])))
        // A unary call's node is checked once its request is read, as grpc-swift checks it.
        #expect(try written(channel).isEmpty)
        try channel.writeInbound(data(body("abc"), end: true))
        let lines = try written(channel)
        #expect(lines.count == 1)
        #expect(lines.first?.hasPrefix("\(Self.responseHeaders) grpc-status=7 grpc-message=Permission denied") == true)
        #expect(lines.first?.contains("beacon-node-id") == true)
        #expect(lines.first?.hasSuffix("END") == true)
    }

    @Test(arguments: [
        ["Session"], ["Heartbeat", "grpc-encoding", "gzip"], ["Heartbeat", "content-type", "application/grpc+json"],
        ["HeartbeatStream", "grpc-timeout", "soon"], ["Heartbeat", ":method", "GET"],
    ])
    func otherCallsGoOnToGRPCSwiftUntouched(call: [String]) throws {
        let channel = try channel()
        guard case .headers(var headers) = head(call[0]) else { return }
        if call.count == 3 { headers.headers.replaceOrAdd(name: call[1], value: call[2]) }
        try channel.writeInbound(HTTP2Frame.FramePayload.headers(headers))
        try channel.writeInbound(data(body("abc"), end: true))
        #expect(try written(channel).isEmpty)
        guard case .headers = try channel.readInbound(as: HTTP2Frame.FramePayload.self) else {
            Issue.record("the headers did not go on")
            return
        }
        guard case .data = try channel.readInbound(as: HTTP2Frame.FramePayload.self) else {
            Issue.record("the body did not go on")
            return
        }
        #expect(throws: (any Error).self) {
            try channel.pipeline.syncOperations.handler(type: EventLoopHeartbeatHandler.self)
        }
    }

    /// What the timeout guard refuses: exactly the values grpc-swift's decoder would trap on.
    @Test func theTimeoutGuardRefusesWhatGRPCSwiftWouldTrapOn() {
        for value in ["-1S", "-000001n", "-123456H", "-9m"] {
            #expect(GRPCTimeoutGuard.trapsGRPCSwift(value), "\(value)")
        }
        for value in ["1S", "+1S", "-0S", "-1x", "-1234567S", "soon", "S", "", "99999999S"] {
            #expect(!GRPCTimeoutGuard.trapsGRPCSwift(value), "\(value)")
        }
    }

    /// A call with a negative deadline among its `grpc-timeout` values is answered with
    /// INVALID_ARGUMENT and goes no further; any other passes on untouched, and the guard leaves.
    @Test func theTimeoutGuardAnswersANegativeDeadlineAndPassesTheRestOn() throws {
        let refused = EmbeddedChannel(handler: GRPCTimeoutGuard())
        try refused.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        guard case .headers(var headers) = head("Session") else { return }
        headers.headers.add(name: "grpc-timeout", value: "1S")
        headers.headers.add(name: "grpc-timeout", value: "-1S")
        try refused.writeInbound(HTTP2Frame.FramePayload.headers(headers))
        try refused.writeInbound(data(body("abc"), end: true))
        #expect(try refused.readInbound(as: HTTP2Frame.FramePayload.self) == nil)
        let lines = try written(refused)
        #expect(lines.count == 1)
        #expect(
            lines.first?.hasPrefix("\(Self.responseHeaders) grpc-status=3 grpc-message=grpc-timeout -1S") == true)
        #expect(lines.first?.hasSuffix("END") == true)

        let passed = EmbeddedChannel(handler: GRPCTimeoutGuard())
        try passed.writeInbound(head("Session", extra: ["grpc-timeout": "100m"]))
        try passed.writeInbound(data(body("abc"), end: true))
        guard case .headers = try passed.readInbound(as: HTTP2Frame.FramePayload.self),
            case .data = try passed.readInbound(as: HTTP2Frame.FramePayload.self)
        else {
            Issue.record("the call did not go on")
            return
        }
        #expect(throws: (any Error).self) { try passed.pipeline.syncOperations.handler(type: GRPCTimeoutGuard.self) }
    }

    /// The deadline in virtual time: nothing a millisecond before it, the status at it.
    @Test func aCallThatOutlivesItsDeadlineEndsWithDeadlineExceeded() throws {
        let channel = try channel()
        try channel.writeInbound(head("Heartbeat", extra: ["grpc-timeout": "100m"]))
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(99))
        #expect(try written(channel).isEmpty)
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        let lines = try written(channel)
        #expect(lines.count == 1, "\(lines)")
        #expect(lines.first?.hasPrefix("\(Self.responseHeaders) grpc-status=4") == true, "\(lines)")
        try channel.writeInbound(data(body("abc"), end: true))
        #expect(try written(channel).isEmpty, "a request after the deadline is not answered")
    }

    @Test func aStreamEndedWithoutBeatsGetsItsStatusInItsOnlyHeaders() throws {
        let channel = try channel()
        try channel.writeInbound(head())
        try channel.writeInbound(data(ByteBuffer(), end: true))
        #expect(try written(channel) == ["\(Self.responseHeaders) grpc-status=0 END"])
    }

    @Test func aCallAnsweredInTimeCancelsItsDeadline() throws {
        let channel = try channel()
        try channel.writeInbound(head("Heartbeat", extra: ["grpc-timeout": "100m"]))
        try channel.writeInbound(data(body("abc"), end: true))
        #expect(try written(channel).count == 3)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(try written(channel).isEmpty)
    }

    @Test func malformedBodiesGetAStatusNotATrap() throws {
        let cases: [(ByteBuffer, Int, String)] = [
            (ByteBuffer(bytes: [1, 0, 0, 0, 1, 0]), 13, "compressed"),
            (ByteBuffer(bytes: [0, 0, 1, 0, 0]), 8, "65536 bytes"),
            // A compressed message is refused for its size first, as grpc-swift refuses it.
            (ByteBuffer(bytes: [1, 0, 1, 0, 0]), 8, "65536 bytes"),
            (ByteBuffer(bytes: [0, 0, 0, 0, 9, 1]), 13, "ended inside a request"),
            (ByteBuffer(bytes: [0, 0, 0, 0, 2, 0xFF, 0xFF]), 3, "Can't deserialize"),
            // Only a flag of 1 means compressed, as grpc-swift reads it: 2 is read as plain.
            (ByteBuffer(bytes: [2, 0, 0, 0, 2, 0xFF, 0xFF]), 3, "Can't deserialize"),
        ]
        for (bytes, code, words) in cases {
            let channel = try channel()
            try channel.writeInbound(head("Heartbeat"))
            try channel.writeInbound(data(bytes, end: true))
            let lines = try written(channel)
            #expect(lines.count == 1, "\(lines)")
            #expect(lines.first?.contains("grpc-status=\(code) ") == true, "\(lines)")
            #expect(lines.first?.contains(words) == true, "\(lines)")
        }
    }

    @Test func aUnaryCallWithTwoRequestsOrNoneIsRefused() throws {
        for requests in [try body("a", "b"), ByteBuffer()] {
            let channel = try channel()
            try channel.writeInbound(head("Heartbeat"))
            try channel.writeInbound(data(requests, end: true))
            let lines = try written(channel)
            #expect(lines.count == 1 && lines[0].contains("grpc-status=13"), "\(lines)")
        }
    }

    /// A node that sends beats but reads no answers is not read while the stream cannot take more.
    @Test func readsWaitWhileTheStreamCannotTakeAnswers() throws {
        let channel = try channel()
        let reads = try channel.pipeline.syncOperations.handler(type: ReadCounter.self)
        try channel.writeInbound(head())
        channel.read()
        #expect(reads.count == 1)
        channel.isWritable = false
        channel.pipeline.fireChannelWritabilityChanged()
        channel.read()
        #expect(reads.count == 1)
        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        #expect(reads.count == 2)
    }

    /// Frames that each end one byte into the next message: what the reader holds stays the
    /// size of a message, however long the stream.
    @Test func theReaderKeepsOnlyTheUnreadBytes() throws {
        var reader = GRPCMessageReader(maximumMessageBytes: 1024)
        let message = try body("a session id of some length")
        var stream = ByteBuffer()
        for _ in 0..<10_001 { stream.writeImmutableBuffer(message) }
        var messages = 0
        var largest = 0
        // The first frame is the first message and one byte; every later one the rest of a
        // message and one byte of the next.
        var offset = 0
        var length = message.readableBytes + 1
        while offset < stream.readableBytes {
            let cut = min(length, stream.readableBytes - offset)
            reader.append(stream.getSlice(at: offset, length: cut)!)
            offset += cut
            length = message.readableBytes
            while try reader.next() != nil { messages += 1 }
            largest = max(largest, reader.bufferedCapacity)
        }
        try reader.checkEnded()
        #expect(messages == 10_001)
        #expect(largest <= 4 * message.readableBytes, "the reader held \(largest) bytes")
    }

    @Test(arguments: [
        ("5S", Duration.seconds(5)), ("2M", .seconds(120)), ("1H", .seconds(3600)), ("250m", .milliseconds(250)),
        ("7u", .microseconds(7)), ("99999999n", .nanoseconds(99_999_999)),
    ])
    func deadlinesParseAsTheProtocolWritesThem(text: String, duration: Duration) {
        #expect(HeartbeatCallHead.timeout(text) == duration)
    }

    @Test(arguments: ["", "S", "5", "123456789S", "5s", "-5S", "5 S", "٣S"])
    func deadlinesThatDoNotParseAreRefused(text: String) {
        #expect(HeartbeatCallHead.timeout(text) == nil)
    }

    @Test func messagesArePercentEncodedAsTheProtocolAsks() {
        #expect(EventLoopHeartbeatHandler.percentEncoded("plain text: ok") == "plain text: ok")
        #expect(EventLoopHeartbeatHandler.percentEncoded("100% é\n") == "100%25 %C3%A9%0A")
    }
}

/// Counts the reads that pass it towards the channel.
private final class ReadCounter: ChannelOutboundHandler {
    typealias OutboundIn = HTTP2Frame.FramePayload
    var count = 0

    func read(context: ChannelHandlerContext) {
        count += 1
        context.read()
    }
}
#endif
