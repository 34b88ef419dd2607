#if GRPC
import BeaconDispatcher

/// The agent's task statuses and which of them the current session has not acknowledged yet.
///
/// A dispatcher answers a status report before it commits it, and a new leader knows nothing of
/// what the last one queued, so every new session starts by resending every status (SwarmKit's
/// agent does the same): a status can only be dropped once the task itself is gone. A task is
/// gone when the node reports it so (a nil status), or when the managers have taken it off the
/// node's assignments and acknowledged its last status; without the second, an agent whose
/// caller never reports nil would keep, and resend to every new manager, each task it ever ran.
struct StatusBook: Sendable {
    private(set) var statuses: [String: TaskStatus] = [:]
    /// Tasks whose latest status this session has not sent, or sent without an answer yet.
    private var unsent: Set<String> = []
    /// The tasks of the node's last settled assignment set; nil until one settles.
    private var assigned: Set<String>?

    /// Records the latest status of a task and queues it.
    mutating func record(_ update: TaskStatusUpdate) {
        guard let status = update.status else {
            statuses.removeValue(forKey: update.taskID)
            unsent.remove(update.taskID)
            return
        }
        statuses[update.taskID] = status
        unsent.insert(update.taskID)
    }

    /// The node's assignments settled on `tasks`: an acknowledged status of a task no longer
    /// among them is forgotten (an unacknowledged one once it is acknowledged).
    mutating func assignmentsSettled(_ tasks: Set<String>) {
        assigned = tasks
        statuses = statuses.filter { tasks.contains($0.key) || unsent.contains($0.key) }
    }

    /// A new session knows none of the statuses: queue them all again.
    mutating func sessionStarted() {
        unsent = Set(statuses.keys)
    }

    /// The largest status one report may carry (its task id, message and error text together):
    /// 16 KiB, or less when the managers' request limit (`byteBudget`) leaves less room.
    static func maximumUpdateBytes(byteBudget: Int) -> Int {
        min(16 * 1024, byteBudget - 128)
    }

    /// An upper bound of the update's protobuf size: its text, plus the tags, lengths and state.
    static func encodedSize(of update: TaskStatusUpdate) -> Int {
        update.taskID.utf8.count + (update.status.map { $0.message.utf8.count + $0.error.utf8.count } ?? 0) + 32
    }

    /// Up to `limit` queued statuses to send, in task id order, together at most `maximumBytes`
    /// on the wire; they stay queued until ``acknowledged(_:)``.
    ///
    /// A status that alone would not fit (the manager reads less than ``NodeAgent/report(_:)``
    /// allowed for) has its error and message cut to fit, and is kept so: its state is what the
    /// managers act on, and whole it would never be sent. Returns the tasks cut. One whose task id
    /// alone leaves no room stays queued, unsent.
    mutating func nextBatch(limit: Int, maximumBytes: Int) -> (batch: [TaskStatusUpdate], cut: [String]) {
        var batch: [TaskStatusUpdate] = []
        var cut: [String] = []
        var bytes = Self.requestOverhead
        for task in unsent.sorted() {
            var update = TaskStatusUpdate(taskID: task, status: statuses[task])
            if Self.requestOverhead + Self.encodedSize(of: update) > maximumBytes {
                let room =
                    maximumBytes - Self.requestOverhead
                    - Self.encodedSize(of: TaskStatusUpdate(taskID: task, status: nil))
                guard let status = update.status, let shortened = Self.cut(status, toTextBytes: room) else { continue }
                statuses[task] = shortened
                update.status = shortened
                cut.append(task)
            }
            let size = Self.encodedSize(of: update)
            guard batch.count < limit, bytes + size <= maximumBytes else { break }
            bytes += size
            batch.append(update)
        }
        return (batch, cut)
    }

    /// A report's bytes besides its statuses: the session id, tags and lengths.
    private static let requestOverhead = 64
    /// Ends a text that was cut.
    static let cutMarker = " [cut to fit the manager's request limit]"

    /// `status` with its error and message together at most `room` bytes: the error keeps at
    /// least half of the room (a failure's reason is usually there), the message what is left.
    /// Nil if not even the markers fit.
    private static func cut(_ status: TaskStatus, toTextBytes room: Int) -> TaskStatus? {
        guard room >= 2 * cutMarker.utf8.count else { return nil }
        var shortened = status
        shortened.error = prefix(of: status.error, fitting: max((room + 1) / 2, room - status.message.utf8.count))
        shortened.message = prefix(of: status.message, fitting: room - shortened.error.utf8.count)
        return shortened
    }

    /// `text` if it fits in `bytes` of UTF-8, else its longest prefix of whole scalars that fits
    /// with ``cutMarker`` after it.
    private static func prefix(of text: String, fitting bytes: Int) -> String {
        guard text.utf8.count > bytes else { return text }
        let room = bytes - cutMarker.utf8.count
        var taken = 0
        var end = text.unicodeScalars.startIndex
        for scalar in text.unicodeScalars {
            let width = UTF8.width(scalar)
            guard taken + width <= room else { break }
            taken += width
            end = text.unicodeScalars.index(after: end)
        }
        return String(text.unicodeScalars[..<end]) + cutMarker
    }

    /// The dispatcher accepted `batch`; a status recorded while the batch was on its way stays
    /// queued. An accepted status of a task the assignments no longer hold is forgotten.
    mutating func acknowledged(_ batch: [TaskStatusUpdate]) {
        for update in batch where statuses[update.taskID] == update.status {
            unsent.remove(update.taskID)
            if let assigned, !assigned.contains(update.taskID) { statuses.removeValue(forKey: update.taskID) }
        }
    }

    /// The dispatcher refused `update` for good (its task is not this node's): forgotten, unless
    /// a newer status of the task was recorded while it was on its way, which gets its own answer.
    mutating func refused(_ update: TaskStatusUpdate) {
        guard statuses[update.taskID] == update.status else { return }
        statuses.removeValue(forKey: update.taskID)
        unsent.remove(update.taskID)
    }

    var hasUnsent: Bool { !unsent.isEmpty }
    var unsentCount: Int { unsent.count }
}
#endif
