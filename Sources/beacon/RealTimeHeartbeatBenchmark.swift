import BeaconCore
import BenchmarkSupport
import Foundation
import Synchronization

/// The measurements that need real time: a `HeartbeatTimer` on its own thread, the system's
/// monotonic clock, and wall-clock waits.
enum RealTimeHeartbeatBenchmark {
    /// Lateness samples written by the timer thread only; read after `stop()` (which joins it).
    final class LatenessLog: @unchecked Sendable {
        let deadlines: UnsafeMutablePointer<UInt64>
        let samples: UnsafeMutablePointer<Int64>
        let capacity: Int
        var count = 0

        init(capacity: Int) {
            self.capacity = capacity
            deadlines = .allocate(capacity: capacity)
            deadlines.initialize(repeating: 0, count: capacity)
            samples = .allocate(capacity: capacity)
            samples.initialize(repeating: 0, count: capacity)
        }

        deinit {
            deadlines.deallocate()
            samples.deallocate()
        }

        func record(_ expiry: HeartbeatExpiry) {
            let now = MonotonicClock().now.nanoseconds
            for handle in expiry.handles where count < capacity {
                samples[count] = Int64(bitPattern: now &- deadlines[Int(handle.index)])
                count += 1
            }
        }
    }

    struct Lateness {
        var p50: Double
        var p99: Double
        var max: Double
        var allocationsPerExpiry: Double?
    }

    /// `nodes` nodes registered with deadlines spread evenly over one second, then left to
    /// expire. Lateness is delivery time minus the deadline (the clock read just before
    /// `register` plus the TTL, a lower bound of the wheel's own deadline).
    static func lateness(nodes: Int, slot: Duration, countAllocations: Bool) throws -> Lateness {
        let timer = try HeartbeatTimer(configuration: .init(slotWidth: slot, maximumTTL: .seconds(10), capacity: nodes))
        let log = LatenessLog(capacity: nodes)
        let clock = MonotonicClock()
        try timer.start { log.record($0) }
        let start = clock.now.nanoseconds
        for i in 0..<nodes {
            // Deadlines at start + 2 s + i/nodes seconds, whatever time registration itself takes.
            let now = clock.now.nanoseconds
            let target = start + 2_000_000_000 + UInt64(i) * 1_000_000_000 / UInt64(nodes)
            // If registering took longer than 2 s, the late nodes get the shortest TTL (1 µs).
            let ttl = HeartbeatTTL(microseconds: target > now ? max(1, (target - now) / 1000) : 1)
            let handle = try timer.wheel.register(ttl: ttl)
            log.deadlines[Int(handle.index)] = now + ttl.microseconds * 1000
        }
        var allocations: Double?
        let wait = {
            while clock.now.nanoseconds < start + 3_100_000_000 { Thread.sleep(forTimeInterval: 0.05) }
        }
        if countAllocations {
            allocations = Double(AllocationCounter.count(wait)) / Double(nodes)
        } else {
            wait()
        }
        timer.stop()
        let samples = UnsafeBufferPointer(start: log.samples, count: log.count).sorted()
        guard samples.count == nodes else {
            throw HeartbeatError.timerStartFailed("only \(samples.count) of \(nodes) expiries were delivered")
        }
        func milliseconds(_ quantile: Double) -> Double {
            Double(samples[min(samples.count - 1, Int(Double(samples.count) * quantile))]) / 1e6
        }
        return Lateness(
            p50: milliseconds(0.5), p99: milliseconds(0.99), max: Double(samples.last!) / 1e6,
            allocationsPerExpiry: allocations)
    }

    /// Wake-ups of a timer holding `nodes` armed nodes whose deadlines lie beyond the window.
    static func idleWakeUps(nodes: Int, seconds: Double) throws -> Int {
        // The deadlines lie a minute past the window, and the wheel must take them: `--idle`
        // goes up to ten minutes.
        let ttl = HeartbeatTTL(microseconds: UInt64((seconds + 60) * 1_000_000))
        let timer = try HeartbeatTimer(
            configuration: .init(slotWidth: .milliseconds(1), maximumTTL: .seconds(seconds + 120), capacity: nodes))
        try timer.start { _ in }
        defer { timer.stop() }
        let handles = try (0..<nodes).map { _ in try timer.wheel.register(ttl: ttl) }
        for handle in handles { try timer.wheel.beat(handle, ttl: ttl) }
        // Let the thread file the registrations and notice the beats have stopped.
        Thread.sleep(forTimeInterval: 0.2)
        let before = timer.wakeUps
        Thread.sleep(forTimeInterval: seconds)
        return timer.wakeUps - before
    }

    struct SteadyState {
        var timerPercent: Double
        var beatPercent: Double
        var wakeUpsPerSecond: Double
    }

    /// `nodes` nodes, each beating every 5 s with SwarmKit's 15 s TTL, paced by one thread in
    /// 1 ms steps. The nodes' first deadlines are spread over 15 s so that slots come due (and
    /// beaten nodes are re-filed) throughout the run, as in a cluster that has been up for a
    /// while. The timer thread's share is the process's CPU time minus the beating thread's.
    static func steadyState(nodes: Int, slot: Duration, seconds: Double) throws -> SteadyState {
        let timer = try HeartbeatTimer(configuration: .init(slotWidth: slot, maximumTTL: .seconds(30), capacity: nodes))
        try timer.start { _ in }
        defer { timer.stop() }
        let ttl = HeartbeatTTL(microseconds: 15_000_000)
        let handles = try (0..<nodes).map {
            try timer.wheel.register(
                ttl: HeartbeatTTL(microseconds: 1_000_000 + UInt64($0) * 14_000_000 / UInt64(nodes)))
        }
        Thread.sleep(forTimeInterval: 0.5)
        let clock = MonotonicClock()
        let beatsPerMillisecond = Swift.max(1, nodes / 5000)
        let wakeUpsBefore = timer.wakeUps
        let cpuBefore = ProcessCPU.seconds()
        let start = clock.now.nanoseconds
        let end = start + UInt64(seconds * 1e9)
        var next = 0
        var tick = start
        let beaterStart = ThreadCPU.seconds()
        while tick < end {
            for _ in 0..<beatsPerMillisecond {
                try? timer.wheel.beat(handles[next], ttl: ttl)
                next = next + 1 == handles.count ? 0 : next + 1
            }
            tick += 1_000_000
            let now = clock.now.nanoseconds
            if tick > now { Thread.sleep(forTimeInterval: Double(tick - now) / 1e9) }
        }
        let beaterCPU = ThreadCPU.seconds() - beaterStart
        let processCPU = ProcessCPU.seconds() - cpuBefore
        let wall = Double(clock.now.nanoseconds - start) / 1e9
        // The beating thread's CPU includes its pacing loop and sleeps; the beats themselves are
        // measured by the micro-benchmark, so report the beats' share from that thread's time.
        return SteadyState(
            timerPercent: max(0, processCPU - beaterCPU) / wall * 100,
            beatPercent: beaterCPU / wall * 100,
            wakeUpsPerSecond: Double(timer.wakeUps - wakeUpsBefore) / wall)
    }
}
