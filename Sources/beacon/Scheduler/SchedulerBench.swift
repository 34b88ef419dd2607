import ArgumentParser
import BeaconCommandLineOptions
import BeaconReports
import BeaconScheduler
import BeaconSimulation
import BenchmarkSupport
import Foundation

struct SchedulerBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract:
            "Measure a scheduling group: how long a join or a clean leave takes to reach every participant, and how many groups and hosts one process holds.",
        discussion: """
            Propagation: --participants hosts follow one group (strategy alpha, no maximum, so every join \
            changes the set); a newcomer joins and then leaves --rounds times. Each time is measured from \
            the newcomer's call to schedule (or shutdown) to the moment the last participant \
            reported the new set. Scale: --groups groups of --participants hosts each join, then all are \
            held for --hold while in-band errors (failed refreshes, lost leases) are counted. --groups × \
            --participants may be at most \(SchedulerBench.maximumParticipants).
            """
    )

    @OptionGroup var store: StoreChoice

    static let participantCount = OptionValue.integer(in: 1...1_000)
    static let roundCount = OptionValue.integer(in: 0...100_000)
    static let groupCount = OptionValue.integer(in: 1...10_000)
    static let holds = OptionValue.duration(in: .zero...(.seconds(86_400)))
    static let defaultParticipants = 10
    static let defaultRounds = 100
    static let defaultGroups = 1
    static let defaultHold = DurationArgument(.zero)
    /// The participants of a group share one view, so memory grows with the participants: about
    /// 16 KB each (docs/benchmarks.md), so half a million take some 8 GiB, the most a run may ask for.
    static let maximumParticipants = 500_000

    func validate() throws {
        let total = groups * participants
        guard total <= Self.maximumParticipants else {
            throw ValidationError(
                "--groups \(groups) × --participants \(participants) = \(total) participants; at most \(Self.maximumParticipants) fit in memory: "
                    + "give fewer groups or participants")
        }
    }

    @Option(
        help: Self.participantCount.help("Hosts per group", default: Self.defaultParticipants),
        transform: Self.participantCount.parse)
    var participants = SchedulerBench.defaultParticipants

    @Option(
        help: Self.roundCount.help("Join-and-leave rounds measured in the first group", default: Self.defaultRounds),
        transform: Self.roundCount.parse)
    var rounds = SchedulerBench.defaultRounds

    @Option(
        help: Self.groupCount.help("Groups, each with --participants hosts", default: Self.defaultGroups),
        transform: Self.groupCount.parse)
    var groups = SchedulerBench.defaultGroups

    @Option(
        help: SchedulerOptionRange.ttl.help("Session TTL", default: SchedulerOptionRange.defaultTTL),
        transform: SchedulerOptionRange.ttl.parse)
    var ttl = SchedulerOptionRange.defaultTTL

    @Option(
        help: Self.holds.help(
            "How long to hold every group after the rounds, counting in-band errors", default: Self.defaultHold),
        transform: Self.holds.parse)
    var hold = SchedulerBench.defaultHold

    /// Issue 23's targets for the embedded store (a join reaching ten participants, one shared
    /// view per group and process) and the etcd one's from the scheduler's first issue.
    static func targets(
        embedded: Bool, joinP99: Duration?, floorP99: Duration?, bytesPerParticipant: Int
    ) -> BenchReport.Section {
        var section = BenchReport.Section(title: "targets")
        if let joinP99 {
            section.add(
                "join → every participant, p99", Stopwatch.seconds(joinP99) * 1e6, "µs", atMost: embedded ? 100 : 50_000
            )
        }
        if let floorP99 {
            section.add("  the floor (same run), p99", Stopwatch.seconds(floorP99) * 1e6, "µs")
        }
        if embedded {
            section.add("resident memory per participant", Double(bytesPerParticipant), "B", atMost: 8_192)
        }
        return section
    }

    func run() async throws {
        let (coordination, close) = try store.open()
        let scheduler = Scheduler(store: coordination)
        var options = ScheduleOptions(strategy: "alpha")
        options.maxCount = participants + 1
        options.sessionTTL = ttl.value
        let clock = ContinuousClock()
        let rssBefore = ResidentMemory.bytes()

        var handles: [ScheduleHandle] = []
        let joinStart = clock.now
        for group in 0..<groups {
            for host in 0..<participants {
                handles.append(
                    try await scheduler.schedule(path: "/bench/g\(group)", hostname: "h\(host)", options: options))
            }
        }
        let everyone = (0..<participants).map { "h\($0)" }.sorted()
        for handle in handles {
            let clock = ContinuousClock()
            let deadline = clock.now.advanced(by: .seconds(120))
            while handle.latest != everyone, clock.now < deadline { try await Task.sleep(for: .milliseconds(1)) }
            guard handle.latest == everyone else {
                throw SchedulerError.backendFailure("\(handle.path) did not converge")
            }
        }
        let converged = clock.now - joinStart
        let rssHeld = ResidentMemory.bytes()

        let observer = GroupObserver()
        for handle in handles.prefix(participants) { observer.follow(handle) }
        var joins = DurationSample()
        var leaves = DurationSample()
        // Timed from the call, not from its return: with the embedded store the last participant
        // may hear of a join before `schedule` has returned to its caller.
        func propagation(of step: String, in round: Int, to expected: [String], since start: ContinuousClock.Instant)
            async throws -> Duration
        {
            switch await observer.agreement(on: expected, since: start) {
            case .reached(let after): return after
            case .unchanged:
                throw SchedulerError.backendFailure(
                    "round \(round): every participant held the set before the \(step) began")
            case nil: throw SchedulerError.backendFailure("round \(round): the \(step) did not reach every participant")
            }
        }
        for round in 0..<rounds {
            let newcomer = "z\(round)"
            var start = clock.now
            let joiner = try await scheduler.schedule(path: "/bench/g0", hostname: newcomer, options: options)
            joins.add(try await propagation(of: "join", in: round, to: (everyone + [newcomer]).sorted(), since: start))
            start = clock.now
            await joiner.shutdown()
            leaves.add(try await propagation(of: "leave", in: round, to: everyone, since: start))
        }
        if hold.value > .zero { try await Task.sleep(for: hold.value) }
        // After the rounds, so that it takes nothing from them.
        let floor =
            store.embedded && rounds > 0 ? await HandOffFloor.measure(waiters: participants, rounds: rounds) : nil
        let errors = observer.errors
        observer.stop()
        for handle in handles { await handle.shutdown() }
        await scheduler.close()
        await close()

        print("backend: \(store.embedded ? "embedded" : "etcd \(store.etcd ?? "")")")
        print(
            "groups × hosts: \(groups) × \(participants) = \(groups * participants) participants, converged in \(converged.readable)"
        )
        let bytesPerParticipant = (rssHeld - rssBefore) / (groups * participants)
        print(
            "resident memory for them: \((rssHeld - rssBefore) / 1_048_576) MiB (\(bytesPerParticipant) B per participant)"
        )
        if rounds > 0 {
            print(
                "join → every participant (\(participants)): p50 \(joins.percentile(0.5).readable), p99 \(joins.percentile(0.99).readable), max \(joins.percentile(1).readable)"
            )
            print(
                "clean leave → every participant: p50 \(leaves.percentile(0.5).readable), p99 \(leaves.percentile(0.99).readable), max \(leaves.percentile(1).readable)"
            )
        }
        if let floor {
            print(
                "floor: a value handed to \(participants) waiting tasks, no store or step: p50 \(floor.percentile(0.5).readable), p99 \(floor.percentile(0.99).readable)"
            )
        }
        print("in-band errors in the first group\(hold.value > .zero ? " (held \(hold.value))" : ""): \(errors.count)")
        for error in errors.prefix(10) { print("  \(error)") }
        let targets = Self.targets(
            embedded: store.embedded, joinP99: rounds > 0 ? joins.percentile(0.99) : nil,
            floorP99: floor?.percentile(0.99), bytesPerParticipant: bytesPerParticipant)
        print("")
        for line in targets.textLines(nameWidth: 34) { print(line) }
    }
}
