import BeaconCore
import BeaconPrimitives

/// A ``MessageTransport`` between masters and workers in one process: each mailbox is a bounded
/// stream, and a send to a full or missing mailbox fails at once instead of waiting.
///
/// ``disconnect(_:)`` closes an executor's mailboxes, which is how tests simulate its death.
public final class InProcessTransport: MessageTransport {
    private struct Address: Hashable {
        var executor: ExecutorID
        var topic: String
    }

    private struct Mailbox {
        /// Tells a mailbox from the one that replaced it at the same address after a disconnect.
        var serial: UInt64
        var continuation: AsyncStream<MessageDelivery>.Continuation
    }

    private struct Registry {
        var mailboxes: [Address: Mailbox] = [:]
        var nextSerial: UInt64 = 0
    }

    private let registry = PosixMutex(Registry())

    public init() {}

    public func trySend(_ message: MasterWorkerMessage, topic: String, from sender: ExecutorID, to receiver: ExecutorID)
        -> Bool
    {
        guard let mailbox = registry.withLock({ $0.mailboxes[Address(executor: receiver, topic: topic)] }) else {
            return false
        }
        if case .enqueued = mailbox.continuation.yield(MessageDelivery(topic: topic, sender: sender, message: message))
        {
            return true
        }
        return false
    }

    public func mailbox(on executor: ExecutorID, topics: [String], capacity: Int) throws(MasterWorkerError)
        -> AsyncStream<MessageDelivery>
    {
        guard capacity > 0 else { throw .invalidConfiguration("a mailbox capacity must be positive, got \(capacity)") }
        let addresses = topics.map { Address(executor: executor, topic: $0) }
        let (stream, continuation) = AsyncStream.makeStream(
            of: MessageDelivery.self, bufferingPolicy: .bufferingOldest(capacity))
        let serial = try registry.withLock { (registry) throws(MasterWorkerError) in
            if let taken = addresses.first(where: { registry.mailboxes[$0] != nil }) {
                throw .invalidConfiguration("topic \(taken.topic) already has a mailbox on executor \(executor)")
            }
            registry.nextSerial += 1
            for address in addresses {
                registry.mailboxes[address] = Mailbox(serial: registry.nextSerial, continuation: continuation)
            }
            return registry.nextSerial
        }
        continuation.onTermination = { [weak self] _ in
            self?.registry.withLock { registry in
                for address in addresses where registry.mailboxes[address]?.serial == serial {
                    registry.mailboxes[address] = nil
                }
            }
        }
        return stream
    }

    /// Closes every mailbox on `executor`: sends to it fail from now on and its readers see the
    /// end of their streams.
    public func disconnect(_ executor: ExecutorID) {
        let closing = registry.withLock { registry in
            let matching = registry.mailboxes.filter { $0.key.executor == executor }
            for address in matching.keys { registry.mailboxes[address] = nil }
            return matching.values.map(\.continuation)
        }
        for continuation in closing { continuation.finish() }
    }
}
