/// Wall-clock timing helpers for the benchmark commands.
package enum Stopwatch {
    /// Nanoseconds `body` took.
    package static func nanoseconds(_ body: () throws -> Void) rethrows -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        try body()
        return seconds(clock.now - start) * 1e9
    }

    /// Nanoseconds the asynchronous `body` took.
    package static func asyncNanoseconds(_ body: () async throws -> Void) async rethrows -> Double {
        let start = ContinuousClock.now
        try await body()
        return seconds(ContinuousClock.now - start) * 1e9
    }

    /// `duration` in seconds.
    package static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// The median of `repeats` timings of `body`, in nanoseconds.
    package static func median(repeats: Int, _ body: () throws -> Void) rethrows -> Double {
        var samples: [Double] = []
        for _ in 0..<max(1, repeats) {
            samples.append(try nanoseconds(body))
        }
        samples.sort()
        return samples[samples.count / 2]
    }
}
