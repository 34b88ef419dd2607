/// What a session or assignment stream's consumer receives.
package enum StreamEvent<Message: Sendable>: Sendable {
    case message(Message)
    /// The stream ends: normally (nil) or with the reason.
    case finished(DispatcherError?)

    /// Where the core hands a session stream's events. A sink only buffers (an `AsyncStream`
    /// yield never runs the reader), so the core may call it under its lock, which is what keeps
    /// each stream's messages in order when several threads feed it. (An assignment stream's
    /// sink, `DispatcherCore.AssignmentSink`, also answers whether the stream takes more.)
    package typealias Sink = (StreamEvent) -> Void
}
