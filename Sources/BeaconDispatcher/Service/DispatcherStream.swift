/// A stream the dispatcher feeds: a node's session messages or its assignment messages. It ends
/// normally (the dispatcher stopped, or the stream was replaced) or by throwing why it ended
/// (``DispatcherError/sessionInvalid`` when a newer session took over,
/// ``DispatcherError/nodeNotRegistered`` when the node's heartbeat expired).
public struct DispatcherStream<Element: Sendable>: AsyncSequence, Sendable {
    public typealias Failure = DispatcherError

    let events: AsyncStream<StreamEvent<Element>>
    let backlog: (any StreamBacklog<Element>)?

    /// A stream and the sink that feeds it. Session messages are whole states, so a slow reader
    /// only needs the newest; assignment messages are deltas and are all kept, up to `backlog`'s
    /// limit, past which the stream ends with the backlog's error and the node opens it again.
    /// The sink answers whether the stream takes more: false once its reader has gone, or once it
    /// has ended.
    static func make(
        keepingNewest limit: Int?, backlog: (any StreamBacklog<Element>)? = nil
    ) -> (DispatcherStream, StreamEvent<Element>.AnsweringSink) {
        let (stream, continuation) = AsyncStream<StreamEvent<Element>>.makeStream(
            bufferingPolicy: limit.map { .bufferingNewest($0) } ?? .unbounded)
        let sink: StreamEvent<Element>.AnsweringSink = { event in
            switch event {
            case .message(let element):
                if let backlog, !backlog.admit(element) {
                    continuation.yield(.finished(backlog.overflow))
                    continuation.finish()
                    return false
                }
                if case .terminated = continuation.yield(event) { return false }
                return true
            case .finished:
                continuation.yield(event)
                continuation.finish()
                return false
            }
        }
        return (DispatcherStream(events: stream, backlog: backlog), sink)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncStream<StreamEvent<Element>>.Iterator
        let backlog: (any StreamBacklog<Element>)?
        var finished = false

        public mutating func next() async throws(DispatcherError) -> Element? {
            guard !finished else { return nil }
            return try unwrap(await base.next())
        }

        public mutating func next(isolation actor: isolated (any Actor)?) async throws(DispatcherError) -> Element? {
            guard !finished else { return nil }
            return try unwrap(await base.next(isolation: actor))
        }

        private mutating func unwrap(_ event: StreamEvent<Element>?) throws(DispatcherError) -> Element? {
            switch event {
            case .message(let element):
                backlog?.taken(element)
                return element
            case .finished(let error):
                finished = true
                if let error { throw error }
                return nil
            case nil:
                finished = true
                return nil
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: events.makeAsyncIterator(), backlog: backlog)
    }
}

/// A node's session: its id, which every later call presents, and the stream of session
/// messages, the first of which is already waiting.
public struct NodeSession: AsyncSequence, Sendable {
    public typealias Element = SessionMessage
    public typealias Failure = DispatcherError

    public let id: SessionID
    public let messages: DispatcherStream<SessionMessage>

    public func makeAsyncIterator() -> DispatcherStream<SessionMessage>.AsyncIterator {
        messages.makeAsyncIterator()
    }
}
