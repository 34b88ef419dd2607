/// The least a change can take to reach every participant of a group in this process: one value
/// handed to as many tasks, each parked on a stream of its own as a participant's reader is, timed
/// from the hand-off to the last task's wake-up. No store, no step, no view: what Swift's
/// cooperative pool costs on this machine, for the scheduler bench to print beside its join
/// times as a baseline measured in the same run.
enum HandOffFloor {
    static func measure(waiters: Int, rounds: Int) async -> DurationSample {
        let clock = ContinuousClock()
        let (wakeUps, wakeUpSink) = AsyncStream<ContinuousClock.Instant>.makeStream()
        var sinks: [AsyncStream<Int>.Continuation] = []
        var readers: [Task<Void, Never>] = []
        for _ in 0..<waiters {
            let (values, sink) = AsyncStream<Int>.makeStream()
            sinks.append(sink)
            readers.append(Task.detached { for await _ in values { wakeUpSink.yield(clock.now) } })
        }
        var sample = DurationSample()
        var woken = wakeUps.makeAsyncIterator()
        for round in 0..<rounds {
            let start = clock.now
            for sink in sinks { sink.yield(round) }
            var last = start
            for _ in 0..<waiters {
                guard let wakeUp = await woken.next() else { break }
                last = max(last, wakeUp)
            }
            sample.add(last - start)
            // The bench's rounds are apart too (a shutdown, a new participant): the pool's
            // threads may park between them, and waking them is part of what a join pays.
            try? await Task.sleep(for: .microseconds(200))
        }
        for sink in sinks { sink.finish() }
        for reader in readers { await reader.value }
        return sample
    }
}
