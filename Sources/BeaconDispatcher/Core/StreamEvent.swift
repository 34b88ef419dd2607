/// What a session or assignment stream's consumer receives.
package enum StreamEvent<Message: Sendable>: Sendable {
    case message(Message)
    /// The stream ends: normally (nil) or with the reason.
    case finished(DispatcherError?)

    /// Where the core hands a session stream's events. A sink only buffers (an `AsyncStream`
    /// yield never runs the reader), so the core may call it under its lock, which is what keeps
    /// each stream's messages in order when several threads feed it.
    package typealias Sink = (StreamEvent) -> Void
    /// A sink that also answers whether its stream takes more: false once the stream's reader has
    /// gone, or once the stream has ended (an assignment stream ends itself when too much waits
    /// for its reader, ``DispatcherConfiguration/assignmentBacklogLimit``).
    package typealias AnsweringSink = (StreamEvent) -> Bool
}
