import BeaconCore
import BeaconMasterWorker
import BeaconPrimitives
import Synchronization

/// Turns many concurrent single-item writes into few batched ones: an item submitted while a
/// batch is being written waits for the next batch, and every submitter returns once the batch
/// holding its item is written (or throws that batch's error, or the error the batch's writer
/// gave its item alone, which it left unwritten).
///
/// One batch is written at a time, by a task started when the first item arrives and ending
/// when no item is waiting, so an idle committer holds no task.
final class GroupCommitter<Item: Sendable>: Sendable {
    private typealias Waiter = CheckedContinuation<Void, any Error>

    private struct State {
        var pending: [Item] = []
        var waiters: [Waiter] = []
        var writing = false
    }

    private let state = PosixMutex(State())
    private let committedBatches = Atomic<Int>(0)
    private let committedItems = Atomic<Int>(0)
    private let writeBatch: @Sendable ([Item]) async throws(MasterWorkerError) -> [MasterWorkerError?]

    /// - Parameter writeBatch: writes a batch in one transaction and answers, for each item in
    ///   order, nil if it was written or why it was refused; throwing fails the whole batch.
    init(writeBatch: @escaping @Sendable ([Item]) async throws(MasterWorkerError) -> [MasterWorkerError?]) {
        self.writeBatch = writeBatch
    }

    /// Batches and items written so far.
    var statistics: GroupCommitStatistics {
        GroupCommitStatistics(
            transactions: committedBatches.load(ordering: .relaxed), statuses: committedItems.load(ordering: .relaxed))
    }

    func submit(_ item: Item) async throws(MasterWorkerError) {
        do {
            try await withCheckedThrowingContinuation { (waiter: Waiter) in
                let startWriter = state.withLock { state in
                    state.pending.append(item)
                    state.waiters.append(waiter)
                    guard !state.writing else { return false }
                    state.writing = true
                    return true
                }
                if startWriter {
                    Task { await self.writeUntilDrained() }
                }
            }
        } catch let error as MasterWorkerError {
            throw error
        } catch {
            throw .storage("\(error)")
        }
    }

    private func writeUntilDrained() async {
        while true {
            let (items, waiters) = state.withLock { state in
                defer {
                    state.pending.removeAll(keepingCapacity: true)
                    state.waiters.removeAll(keepingCapacity: true)
                }
                if state.pending.isEmpty { state.writing = false }
                return (state.pending, state.waiters)
            }
            guard !items.isEmpty else { return }
            do {
                let refusals = try await writeBatch(items)
                precondition(refusals.count == waiters.count, "a batch writer answers for each item")
                committedBatches.add(1, ordering: .relaxed)
                committedItems.add(refusals.count { $0 == nil }, ordering: .relaxed)
                for (index, waiter) in waiters.enumerated() {
                    if let refusal = refusals[index] { waiter.resume(throwing: refusal) } else { waiter.resume() }
                }
            } catch {
                for waiter in waiters { waiter.resume(throwing: error) }
            }
        }
    }
}

/// How well saves were grouped: statuses committed, and in how many transactions.
public struct GroupCommitStatistics: Sendable, Hashable {
    public var transactions: Int
    public var statuses: Int

    public init(transactions: Int, statuses: Int) {
        self.transactions = transactions
        self.statuses = statuses
    }
}
