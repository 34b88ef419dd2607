import BeaconCore
import BeaconPrimitives

/// A ``MessageTransport`` between masters and workers in one process: a send puts the message
/// straight into the receiver's ``MessageMailbox``, and a send to a full, closed or missing
/// mailbox fails at once instead of waiting.
///
/// ``disconnect(_:)`` closes an executor's mailboxes, which is how tests simulate its death.
public final class InProcessTransport: MessageTransport {
    private struct Address: Hashable {
        var executor: ExecutorID
        var topic: String
    }

    private struct Route {
        /// Tells a mailbox from the one that replaced it at the same address after a disconnect.
        var serial: UInt64
        /// Weak, so a mailbox its owner dropped without closing it goes away (and its `deinit`
        /// closes it, which frees the topics) instead of being kept alive by its routes.
        weak var mailbox: MessageMailbox?
    }

    private struct Registry {
        var routes: [Address: Route] = [:]
        var nextSerial: UInt64 = 0
    }

    private let registry = PosixMutex(Registry())

    public init() {}

    public func trySend(_ message: MasterWorkerMessage, topic: String, from sender: ExecutorID, to receiver: ExecutorID)
        -> Bool
    {
        guard let mailbox = registry.withLock({ $0.routes[Address(executor: receiver, topic: topic)]?.mailbox }) else {
            return false
        }
        return mailbox.deliver(MessageDelivery(topic: topic, sender: sender, message: message))
    }

    public func mailbox(on executor: ExecutorID, topics: [String], capacity: Int) throws(MasterWorkerError)
        -> MessageMailbox
    {
        let addresses = topics.map { Address(executor: executor, topic: $0) }
        return try registry.withLock { (registry) throws(MasterWorkerError) in
            if let taken = addresses.first(where: { registry.routes[$0] != nil }) {
                throw .invalidConfiguration("topic \(taken.topic) already has a mailbox on executor \(executor)")
            }
            registry.nextSerial += 1
            let serial = registry.nextSerial
            let mailbox = try MessageMailbox(capacity: capacity) { [weak self] in
                self?.registry.withLock { registry in
                    for address in addresses where registry.routes[address]?.serial == serial {
                        registry.routes[address] = nil
                    }
                }
            }
            for address in addresses { registry.routes[address] = Route(serial: serial, mailbox: mailbox) }
            return mailbox
        }
    }

    /// Closes every mailbox on `executor`: sends to it fail from now on and its readers see the
    /// end of their streams.
    public func disconnect(_ executor: ExecutorID) {
        let closing = registry.withLock { registry in
            let matching = registry.routes.filter { $0.key.executor == executor }
            for address in matching.keys { registry.routes[address] = nil }
            return matching.values.compactMap(\.mailbox)
        }
        for mailbox in closing { mailbox.close() }
    }
}
