import BeaconCore

/// Every open assignment stream, by the wheel slot of the session it belongs to: each node's
/// ``NodeAssignments`` and its sink, which feeds have changes waiting for their debounce, and the
/// messages those changes become.
///
/// A value with no clock or lock: the time comes with each call, and what must reach a stream is
/// returned as ``Delivery`` values for ``DispatcherCore`` to hand over (under its lock, which
/// keeps each stream's messages in order).
struct AssignmentFeeds {
    typealias Sink = StreamEvent<AssignmentMessage>.AnsweringSink

    /// One event for one stream.
    struct Delivery {
        let sink: Sink
        let event: StreamEvent<AssignmentMessage>
        /// The slot whose feed a message comes from, so that a stream that refuses it stops being
        /// fed; nil for the end of a stream.
        fileprivate var slot: UInt32?

        /// Hands the event over; false if the stream took it as its last or refused it.
        @discardableResult
        func perform() -> Bool {
            sink(event)
        }
    }

    /// A class, so that reading a feed out of the dictionary retains one object instead of
    /// copying every field of its assignments (the flush path did that for each waiting feed on
    /// every tick of the dispatcher's loop).
    private final class Feed {
        var assignments: NodeAssignments
        let sink: Sink

        init(assignments: NodeAssignments, sink: @escaping Sink) {
            self.assignments = assignments
            self.sink = sink
        }

        /// When its pending changes are due to go out: `now` if at once, nil if never.
        func due(at now: BeaconInstant) -> BeaconInstant? {
            assignments.batcher.isFlushDue(at: now) ? now : assignments.batcher.flushDeadline
        }
    }

    private var feeds: [UInt32: Feed] = [:]
    /// Feeds holding changes not sent yet, and when each is due: worked out at each change, so a
    /// tick of the loop only compares instants and touches the feeds that are due.
    private var dueAt: [UInt32: BeaconInstant] = [:]
    /// Messages a stream took and their encoded bytes, for ``DispatcherCounters``.
    private(set) var messageCount = 0
    private(set) var byteCount = 0
    /// Tasks and dependencies left out of the streams as too large for a message.
    private(set) var oversizedCount = 0

    var count: Int { feeds.count }

    /// Opens the stream of `slot` with `assignments`, whose first `messages` (the COMPLETE set)
    /// were flushed already. Replaces a stream the slot had open: that one ends normally.
    mutating func open(
        _ slot: UInt32, assignments: NodeAssignments, sending messages: [AssignmentMessage], to sink: @escaping Sink
    ) -> [Delivery] {
        var deliveries: [Delivery] = []
        if let previous = end(slot, with: nil) { deliveries.append(previous) }
        oversizedCount += assignments.oversizedObjects
        let feed = Feed(assignments: assignments, sink: sink)
        feeds[slot] = feed
        append(messages, from: feed, inSlot: slot, to: &deliveries)
        return deliveries
    }

    /// Performs `deliveries` in order, counting the messages taken, and stops feeding each stream
    /// that refuses a message: one whose reader has gone, or that ended itself past its backlog
    /// limit. The rest of its messages are not handed over, and its node's changes are no longer
    /// encoded for it; the node opens a new stream to get them.
    mutating func deliver(_ deliveries: [Delivery]) {
        var refused: Set<UInt32> = []
        for delivery in deliveries {
            guard let slot = delivery.slot else {
                delivery.perform()
                continue
            }
            guard !refused.contains(slot) else { continue }
            if delivery.perform() {
                if case .message(let message) = delivery.event {
                    messageCount += 1
                    byteCount += message.bytes.count
                }
                continue
            }
            refused.insert(slot)
            feeds.removeValue(forKey: slot)
            dueAt.removeValue(forKey: slot)
        }
    }

    /// Ends the stream of `slot`, normally (nil) or with `error`.
    mutating func end(_ slot: UInt32, with error: DispatcherError?) -> Delivery? {
        dueAt.removeValue(forKey: slot)
        guard let feed = feeds.removeValue(forKey: slot) else { return nil }
        return Delivery(sink: feed.sink, event: .finished(error))
    }

    /// Ends every stream with `error`.
    mutating func endAll(with error: DispatcherError) -> [Delivery] {
        let deliveries = feeds.values.map { Delivery(sink: $0.sink, event: .finished(error)) }
        feeds = [:]
        dueAt = [:]
        return deliveries
    }

    /// A task of the node in `slot` was created or written. Returns the end of its stream when
    /// the change cannot be sent.
    mutating func taskUpdated(_ task: DispatchedTask, inSlot slot: UInt32, at now: BeaconInstant) -> Delivery? {
        guard let feed = feeds[slot] else { return nil }
        let oversized = feed.assignments.oversizedObjects
        defer { oversizedCount += feed.assignments.oversizedObjects - oversized }
        do throws(TaskDiffError) {
            if try feed.assignments.addOrUpdate(task, at: now) { dueAt[slot] = feed.due(at: now) }
            return nil
        } catch {
            return fail(slot, error)
        }
    }

    /// A task of the node in `slot` was deleted.
    mutating func taskDeleted(_ task: DispatchedTask, inSlot slot: UInt32, at now: BeaconInstant) {
        guard let feed = feeds[slot] else { return }
        if feed.assignments.remove(task, at: now) { dueAt[slot] = feed.due(at: now) }
    }

    /// The batches due at `now`, each for its stream.
    mutating func flush(at now: BeaconInstant) -> [Delivery] {
        var deliveries: [Delivery] = []
        // Collected first: the loop below changes `dueAt`.
        let dueSlots = dueAt.compactMap { $0.value <= now ? $0.key : nil }
        for slot in dueSlots {
            guard let feed = feeds[slot] else {
                dueAt.removeValue(forKey: slot)
                continue
            }
            do throws(TaskDiffError) {
                append(try feed.assignments.flushIfDue(at: now), from: feed, inSlot: slot, to: &deliveries)
                dueAt[slot] = feed.due(at: now)
            } catch {
                if let end = fail(slot, error) { deliveries.append(end) }
            }
        }
        return deliveries
    }

    /// When the next batch is due: `now` if one is due already, nil when no feed waits.
    func nextFlush(after now: BeaconInstant) -> BeaconInstant? {
        dueAt.values.min().map { max($0, now) }
    }

    private mutating func append(
        _ messages: [AssignmentMessage], from feed: Feed, inSlot slot: UInt32, to deliveries: inout [Delivery]
    ) {
        for message in messages {
            deliveries.append(Delivery(sink: feed.sink, event: .message(message), slot: slot))
        }
    }

    private mutating func fail(_ slot: UInt32, _ error: TaskDiffError) -> Delivery? {
        end(slot, with: .invalidArgument("assignments cannot be sent: \(error)"))
    }
}
