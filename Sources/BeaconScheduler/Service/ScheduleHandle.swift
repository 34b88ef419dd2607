/// One host's part in one group, from ``Scheduler/schedule(path:hostname:options:)``.
public struct ScheduleHandle: Sendable {
    let participant: GroupParticipant
    let onShutdown: @Sendable () -> Void

    /// The group's path.
    public var path: GroupPath { participant.path }
    /// This host's name in the group.
    public var hostname: String { participant.hostname }

    /// The chosen host sets, each different from the one before or the first after a lost lease;
    /// in-band errors are thrown by `next()` without ending the sequence, which finishes after
    /// ``shutdown()``.
    public var results: ScheduleResults { ScheduleResults(mailbox: participant.results) }

    /// The last chosen set this participant learnt, read or not.
    public var latest: [String]? { participant.results.latest }

    /// Leaves the group and ends ``results``: resigns if leading, and revokes the session lease
    /// (so the others reschedule at once) unless ``ScheduleOptions/reuseLease`` keeps it.
    /// Idempotent; returns when done.
    public func shutdown() async {
        await participant.shutdown()
        onShutdown()
    }

    /// Stops as if the process had crashed: no resignation, no revocation, no more lease
    /// refreshes — the group notices when the lease lapses, a TTL later.
    package func simulateCrash() async {
        await participant.abandon()
        onShutdown()
    }
}
