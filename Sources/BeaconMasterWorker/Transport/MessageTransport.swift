/// One message as it arrives: on which topic, from which executor.
public struct MessageDelivery: Sendable, Hashable {
    public var topic: String
    public var sender: ExecutorID
    public var message: MasterWorkerMessage

    public init(topic: String, sender: ExecutorID, message: MasterWorkerMessage) {
        self.topic = topic
        self.sender = sender
        self.message = message
    }
}

/// How masters and workers reach each other: topic mailboxes on executors, as in TiFlow's
/// peer-to-peer router.
public protocol MessageTransport: Sendable {
    /// Sends without waiting. Returns false when the receiving executor or topic is unknown or its
    /// queue is full — the caller decides whether that matters (a master does not count a ping
    /// whose pong it could not send; a worker reloads where its master runs).
    func trySend(_ message: MasterWorkerMessage, topic: String, from sender: ExecutorID, to receiver: ExecutorID)
        -> Bool

    /// Opens one mailbox on `executor` receiving `topics`, holding at most `capacity` messages
    /// that were not yet read. The transport stops routing to it once it is closed
    /// (``MessageMailbox/close()``), and the topics can then have a new mailbox.
    ///
    /// - Throws: ``MasterWorkerError/invalidConfiguration(_:)`` if one of the topics already has a
    ///   mailbox on that executor or `capacity` is not positive.
    func mailbox(on executor: ExecutorID, topics: [String], capacity: Int) throws(MasterWorkerError) -> MessageMailbox
}
