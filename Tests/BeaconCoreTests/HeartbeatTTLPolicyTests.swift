import Foundation
import PropertyBased
import Testing

@testable import BeaconCore

@Suite struct HeartbeatTTLPolicyTests {
    /// SwarmKit's `TestPeriodChooser`: every chosen period lies within period ± ε, and the TTL is
    /// the chosen period times the grace multiplier.
    @Test func jitteredPeriodsStayWithinTheirBand() throws {
        let policy = try JitteredPeriodPolicy(period: .milliseconds(100), jitter: .milliseconds(50), graceMultiplier: 3)
        var generator = SplitMix64(seed: 7)
        var lowest = Duration.seconds(1)
        var highest = Duration.zero
        var total = Duration.zero
        for _ in 0..<1024 {
            let assignment = policy.next(using: &generator)
            #expect(assignment.period >= .milliseconds(50) && assignment.period <= .milliseconds(150))
            #expect(assignment.ttl.duration == assignment.period * 3)
            lowest = min(lowest, assignment.period)
            highest = max(highest, assignment.period)
            total += assignment.period
        }
        // The band is used, not one value: both ends are approached and the mean sits mid-band.
        #expect(lowest < .milliseconds(55) && highest > .milliseconds(145))
        #expect(total / 1024 > .milliseconds(95) && total / 1024 < .milliseconds(105))
    }

    @Test func jitteredPolicyRefusesBadValues() throws {
        #expect(throws: HeartbeatError.self) {
            try JitteredPeriodPolicy(period: .zero, jitter: .zero, graceMultiplier: 3)
        }
        #expect(throws: HeartbeatError.self) {
            try JitteredPeriodPolicy(period: .seconds(1), jitter: .seconds(1), graceMultiplier: 3)
        }
        #expect(throws: HeartbeatError.self) {
            try JitteredPeriodPolicy(period: .seconds(1), jitter: .zero, graceMultiplier: 0)
        }
        #expect(throws: HeartbeatError.self) {
            try JitteredPeriodPolicy(period: .seconds(3000), jitter: .zero, graceMultiplier: 3)
        }
        let fixed = try JitteredPeriodPolicy(period: .seconds(1), jitter: .zero, graceMultiplier: 2)
        var generator = SplitMix64(seed: 1)
        #expect(fixed.next(using: &generator).ttl.duration == .seconds(2))
        #expect(JitteredPeriodPolicy.swarmKitDefault.graceMultiplier == 3)
    }

    /// The TTL is integer arithmetic on a fixed-point multiplier: for a multiplier with at most 31
    /// bits after the point (here k / 1024) it is exactly `ceil(period × multiplier)`; for any
    /// other it is never below the exact product and, for these periods, at most a microsecond
    /// above it rounded up.
    @Test func ttlIsTheChosenPeriodTimesTheGraceRoundedUp() async {
        await propertyCheck(
            count: 500, input: Gen.int(in: 1...3_000_000), Gen.int(in: 0...999), Gen.int(in: 1024...8192), Gen.uint64()
        ) { periodMicros, jitterPermille, graceKilo, random in
            let period = Duration.microseconds(periodMicros)
            let jitter = period * (Double(jitterPermille) / 1000)
            let dyadic = Double(graceKilo) / 1024
            let decimal = Double(graceKilo) / 1000
            for grace in [dyadic, decimal] {
                let policy = try JitteredPeriodPolicy(period: period, jitter: jitter, graceMultiplier: grace)
                let assignment = policy.next(random: random)
                let chosen = UInt64(assignment.period / .microseconds(1))
                let ttl = assignment.ttl.microseconds
                if grace == dyadic {
                    #expect(ttl == (chosen * UInt64(graceKilo) + 1023) / 1024)
                } else {
                    // 1000 × ttl ≥ chosen × graceKilo, exactly, in integers.
                    #expect(ttl * 1000 >= chosen * UInt64(graceKilo))
                    #expect(ttl <= (chosen * UInt64(graceKilo) + 999) / 1000 + 1)
                }
            }
        }
    }

    /// The fixed-point TTL at the edges: the largest multiplier and period the limit allows, a
    /// multiplier just above 1 on a period near the limit, and a product just above a whole
    /// microsecond, where a multiplier rounded down instead of up would expire the node early.
    @Test func ttlArithmeticHoldsAtTheLimits() throws {
        let limit = HeartbeatTTL.limit.microseconds
        func ttl(_ periodMicros: UInt64, _ grace: Double) throws -> UInt64 {
            let policy = try JitteredPeriodPolicy(
                period: .microseconds(Int64(periodMicros)), jitter: .zero, graceMultiplier: grace)
            return policy.next(random: 0).ttl.microseconds
        }
        #expect(try ttl(1, 0x1p32) == limit)
        #expect(try ttl(limit, 1) == limit)
        // (2^32 − 1000) × (1 + 2^−33) = 2^32 − 1000 + 0.4999…: 2 µs over, for a 71-minute period.
        #expect(try ttl(limit - 1000, 1 + 0x1p-33) == limit - 998)
        // The same multiplier on 2^32 − 1 µs would come out 1 µs above the limit: refused.
        #expect(throws: HeartbeatError.self) { try ttl(limit - 1, 1 + 0x1p-33) }
        // 3 500 001 × 1.001 = 3 503 501.001; a multiplier rounded down would give …501.
        #expect(try ttl(3_500_001, 1.001) == 3_503_502)
    }

    func estimator() throws -> AdaptiveTTLEstimator {
        try AdaptiveTTLEstimator(
            configuration: .init(
                initialTTL: HeartbeatTTL(.seconds(10)), minimumTTL: HeartbeatTTL(.seconds(1)),
                maximumTTL: HeartbeatTTL(.seconds(30))))
    }

    /// The TTL follows the node's rhythm: tight for a steady node, loose for an erratic one with
    /// the same mean, always within bounds.
    @Test func adaptiveTTLFollowsTheArrivalPattern() throws {
        var steady = try estimator()
        var erratic = try estimator()
        var time = BeaconInstant(nanoseconds: 1_000_000_000)
        #expect(steady.observe(arrivalAt: time) == (try HeartbeatTTL(.seconds(10))))
        var erraticTime = time
        for beat in 1...200 {
            time = time.advanced(by: .seconds(1))
            _ = steady.observe(arrivalAt: time)
            erraticTime = erraticTime.advanced(by: beat.isMultiple(of: 2) ? .milliseconds(400) : .milliseconds(1600))
            _ = erratic.observe(arrivalAt: erraticTime)
        }
        let steadyTTL = steady.ttl.duration
        // mean 1 s + pause 0.5 s + z(phi 8) ≈ 5.2 × the 100 ms floor.
        #expect(steadyTTL > .milliseconds(1900) && steadyTTL < .milliseconds(2200))
        #expect(erratic.ttl.duration > steadyTTL + .seconds(1))
        #expect(try #require(steady.meanInterval) == .seconds(1))
        // A node that goes quiet for a long stretch pushes the estimate up, but never past the bound.
        _ = steady.observe(arrivalAt: time.advanced(by: .seconds(3600)))
        #expect(steady.ttl == (try HeartbeatTTL(.seconds(30))))
    }

    @Test func quantileMatchesTheLogisticApproximation() {
        for phi in [1.0, 3.0, 8.0, 16.0] {
            let z = AdaptiveTTLEstimator.upperQuantile(phi: phi)
            let tail = 1 / (1 + exp(z * (1.5976 + 0.070566 * z * z)))
            #expect(abs(-log10(tail) - phi) < 1e-6)
        }
    }

    @Test func adaptiveEstimatorRefusesBadConfiguration() throws {
        let ttl = try HeartbeatTTL(.seconds(1))
        #expect(throws: HeartbeatError.self) {
            try AdaptiveTTLEstimator(
                configuration: .init(smoothing: 0, initialTTL: ttl, minimumTTL: ttl, maximumTTL: ttl))
        }
        #expect(throws: HeartbeatError.self) {
            try AdaptiveTTLEstimator(
                configuration: .init(phiThreshold: -1, initialTTL: ttl, minimumTTL: ttl, maximumTTL: ttl))
        }
        #expect(throws: HeartbeatError.self) {
            try AdaptiveTTLEstimator(
                configuration: .init(initialTTL: ttl, minimumTTL: HeartbeatTTL(.seconds(2)), maximumTTL: ttl))
        }
    }
}
