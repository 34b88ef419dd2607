import BeaconPrimitives

/// Where a transport leaves the messages for one executor's topics, and where a master or a worker
/// takes them: in arrival order, everything waiting at once.
///
/// Taking a batch instead of one message per wake-up is what keeps a busy master cheap: a burst of
/// pings costs one wake-up, one lock and one pass of the manager, not one of each per ping.
///
/// A transport makes one with ``init(capacity:onClose:)`` and fills it with ``deliver(_:)``. Its
/// owner reads it with ``nextBatch()`` and calls ``close()`` when it stops reading; the transport
/// learns of that through `onClose` and stops routing to it.
public final class MessageMailbox: Sendable {
    private let queue: Mailbox<MessageDelivery>
    private let onClose: @Sendable () -> Void

    /// - Parameters:
    ///   - capacity: the most messages that may wait unread; further deliveries are refused.
    ///   - onClose: runs once, when the mailbox closes.
    /// - Throws: ``MasterWorkerError/invalidConfiguration(_:)`` if `capacity` is not positive.
    public init(capacity: Int, onClose: @escaping @Sendable () -> Void = {}) throws(MasterWorkerError) {
        guard capacity > 0 else { throw .invalidConfiguration("a mailbox capacity must be positive, got \(capacity)") }
        queue = Mailbox(capacity: capacity)
        self.onClose = onClose
    }

    /// The most messages that may wait unread.
    public var capacity: Int { queue.capacity }

    /// Queues a message for the owner. Returns false, and queues nothing, when the mailbox is
    /// full or closed.
    @discardableResult
    public func deliver(_ delivery: MessageDelivery) -> Bool {
        queue.push(delivery)
    }

    /// Every message waiting, oldest first, after waiting for at least one; nil once the mailbox
    /// is closed and everything queued before has been taken, or once the calling task is
    /// cancelled.
    public func nextBatch() async -> [MessageDelivery]? {
        await queue.takeAll()
    }

    /// Refuses deliveries from now on and runs `onClose` (once, however often it is called). What
    /// was queued can still be taken. A mailbox dropped without a close closes itself.
    public func close() {
        if queue.close() { onClose() }
    }

    deinit {
        close()
    }
}
