import BeaconCore

/// Every open assignment stream, by the wheel slot of the session it belongs to: each node's
/// ``NodeAssignments`` and its sink, which feeds have changes waiting for their debounce, and the
/// messages those changes become.
///
/// A value with no clock or lock: the time comes with each call, and what must reach a stream is
/// returned as ``Delivery`` values for ``DispatcherCore`` to hand over (under its lock, which
/// keeps each stream's messages in order).
struct AssignmentFeeds {
    typealias Sink = StreamEvent<AssignmentMessage>.Sink

    /// One event for one stream.
    struct Delivery {
        let sink: Sink
        let event: StreamEvent<AssignmentMessage>

        func perform() {
            sink(event)
        }
    }

    private struct Feed {
        var assignments: NodeAssignments
        let sink: Sink
    }

    private var feeds: [UInt32: Feed] = [:]
    /// Feeds holding changes not sent yet.
    private var dirty: Set<UInt32> = []
    /// Messages sent and their encoded bytes, for ``DispatcherCounters``.
    private(set) var messageCount = 0
    private(set) var byteCount = 0

    var count: Int { feeds.count }

    /// Opens the stream of `slot` with `assignments`, whose first `messages` (the COMPLETE set)
    /// were flushed already. Replaces a stream the slot had open: that one ends normally.
    mutating func open(
        _ slot: UInt32, assignments: NodeAssignments, sending messages: [AssignmentMessage], to sink: @escaping Sink
    ) -> [Delivery] {
        var deliveries: [Delivery] = []
        if let previous = end(slot, with: nil) { deliveries.append(previous) }
        feeds[slot] = Feed(assignments: assignments, sink: sink)
        append(messages, for: sink, to: &deliveries)
        return deliveries
    }

    /// Ends the stream of `slot`, normally (nil) or with `error`.
    mutating func end(_ slot: UInt32, with error: DispatcherError?) -> Delivery? {
        dirty.remove(slot)
        guard let feed = feeds.removeValue(forKey: slot) else { return nil }
        return Delivery(sink: feed.sink, event: .finished(error))
    }

    /// Ends every stream with `error`.
    mutating func endAll(with error: DispatcherError) -> [Delivery] {
        let deliveries = feeds.values.map { Delivery(sink: $0.sink, event: .finished(error)) }
        feeds = [:]
        dirty = []
        return deliveries
    }

    /// A task of the node in `slot` was created or written. Returns the end of its stream when
    /// the change cannot be sent.
    mutating func taskUpdated(_ task: DispatchedTask, inSlot slot: UInt32, at now: BeaconInstant) -> Delivery? {
        do throws(TaskDiffError) {
            // Through the optional chain the feed is changed in place, not copied out and back.
            if try feeds[slot]?.assignments.addOrUpdate(task, at: now) == true { dirty.insert(slot) }
            return nil
        } catch {
            return fail(slot, error)
        }
    }

    /// A task of the node in `slot` was deleted.
    mutating func taskDeleted(_ task: DispatchedTask, inSlot slot: UInt32, at now: BeaconInstant) {
        if feeds[slot]?.assignments.remove(task, at: now) == true { dirty.insert(slot) }
    }

    /// The batches due at `now`, each for its stream.
    mutating func flush(at now: BeaconInstant) -> [Delivery] {
        var deliveries: [Delivery] = []
        for slot in dirty {
            // No copy of the feed is held while it is flushed: a second reference would make the
            // flush copy the batcher's storage.
            guard let sink = feeds[slot]?.sink, let due = feeds[slot]?.assignments.batcher.isFlushDue(at: now) else {
                dirty.remove(slot)
                continue
            }
            guard due else { continue }
            do throws(TaskDiffError) {
                let messages = try feeds[slot]?.assignments.flushIfDue(at: now) ?? []
                append(messages, for: sink, to: &deliveries)
                dirty.remove(slot)
            } catch {
                if let end = fail(slot, error) { deliveries.append(end) }
            }
        }
        return deliveries
    }

    /// When the next batch is due: `now` if one is due already, nil when no feed waits.
    func nextFlush(after now: BeaconInstant) -> BeaconInstant? {
        var next: BeaconInstant?
        for slot in dirty {
            guard let batcher = feeds[slot]?.assignments.batcher else { continue }
            next = .earliest(next, batcher.isFlushDue(at: now) ? now : batcher.flushDeadline)
        }
        return next
    }

    private mutating func append(
        _ messages: [AssignmentMessage], for sink: @escaping Sink, to deliveries: inout [Delivery]
    ) {
        for message in messages {
            messageCount += 1
            byteCount += message.bytes.count
            deliveries.append(Delivery(sink: sink, event: .message(message)))
        }
    }

    private mutating func fail(_ slot: UInt32, _ error: TaskDiffError) -> Delivery? {
        end(slot, with: .invalidArgument("assignments cannot be sent: \(error)"))
    }
}
