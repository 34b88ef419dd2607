import BeaconCommandLine
import BeaconCoordination
import BeaconScheduler

/// `beacon scheduler join --embedded`: participants of one group in this process, on the
/// embedded store, through a short script — everyone joins, the leader leaves cleanly, a chosen
/// host crashes, a newcomer joins — printing what every participant agrees on after each step
/// and how long the news took to reach the last of them.
struct EmbeddedSchedulerDemo {
    let store: any CoordinationStore
    let path: String
    let participants: Int
    let options: ScheduleOptions

    func run() async throws {
        let scheduler = Scheduler(store: store)
        let observer = GroupObserver()
        var handles: [String: ScheduleHandle] = [:]
        let clock = ContinuousClock()
        let names = Self.hostnames(participants: participants).dropLast()
        let started = clock.now
        print(
            "\(participants) participants in \(path): strategy \(options.strategy ?? "-"), max \(options.maxCount), session TTL \(DurationParser.format(options.sessionTTL))"
        )

        func report(_ step: String, since start: ContinuousClock.Instant) async throws {
            let expected = try await agreedSet(among: handles)
            let agreement = await observer.agreement(on: expected, since: start, within: settleLimit)
            let at = (clock.now - started).readable
            let chosen = "[\(expected.joined(separator: ", "))]"
            switch agreement {
            case .reached(let took):
                print("[\(at)] \(step) → all \(handles.count) see \(chosen), the last after \(took.readable)")
            case .unchanged:
                print("[\(at)] \(step) → all \(handles.count) still see \(chosen): the chosen set did not change")
            case nil:
                throw SchedulerError.backendFailure("participants did not agree after: \(step)")
            }
        }

        var start = clock.now
        for name in names {
            let handle = try await scheduler.schedule(path: path, hostname: name, options: options)
            handles[name] = handle
            observer.follow(handle)
        }
        try await report("\(participants) hosts joined", since: start)

        let leader = try await currentLeader(handles: handles)
        start = clock.now
        await handles.removeValue(forKey: leader)?.shutdown()
        observer.forget(leader)
        try await report("leader \(leader) left cleanly", since: start)

        if let chosen = try await agreedSet(among: handles).first(where: { handles[$0] != nil }), handles.count > 1 {
            start = clock.now
            observer.forget(chosen)
            await handles.removeValue(forKey: chosen)?.simulateCrash()
            try await report("\(chosen) crashed (lease lapses after the TTL)", since: start)
        }

        let newcomer = Self.hostnames(participants: participants).last!
        start = clock.now
        let joined = try await scheduler.schedule(path: path, hostname: newcomer, options: options)
        handles[newcomer] = joined
        observer.follow(joined)
        try await report("\(newcomer) joined", since: start)

        for handle in handles.values { await handle.shutdown() }
        observer.stop()
        await scheduler.close()
        let errors = observer.errors
        print("in-band errors reported: \(errors.count)")
        for error in errors { print("  \(error)") }
    }

    /// Every host the demo names: the participants that join first, then the newcomer.
    static func hostnames(participants: Int) -> [String] {
        (1...participants + 1).map { "host-\($0)" }
    }

    /// How long a step may take to settle: a crashed host stays in the group until its lease
    /// lapses, up to a whole session TTL after the crash.
    private var settleLimit: Duration { options.sessionTTL + .seconds(30) }

    /// The decision stored for the group, once there is one.
    private func agreedSet(among handles: [String: ScheduleHandle]) async throws -> [String] {
        let group = try GroupPath(path)
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: settleLimit)
        while clock.now < deadline {
            let scheduled = try await store.read(prefix: group.rawValue + "/scheduled").values.first
            let members = Set(handles.keys)
            let exchange = group.rawValue + "/exchange/"
            let registered = try await store.read(prefix: exchange).values.map {
                String($0.key.dropFirst(exchange.count))
            }
            // Settled: the store holds exactly the live participants, the decision names only
            // them, and every participant reports it.
            if let scheduled, Set(registered) == members {
                let hosts = Set(scheduled.value.split(separator: ",").map(String.init)).sorted()
                if Set(hosts).isSubset(of: members), handles.values.allSatisfy({ $0.latest == hosts }) { return hosts }
            }
            try await Task.sleep(for: .milliseconds(1))
        }
        throw SchedulerError.backendFailure("no agreed decision in \(path)")
    }

    /// The host holding the oldest election key.
    private func currentLeader(handles: [String: ScheduleHandle]) async throws -> String {
        let candidates = try await store.read(prefix: path + "/election/").values
        guard let leader = candidates.min(by: { $0.createRevision < $1.createRevision })?.value else {
            throw SchedulerError.backendFailure("no leader in \(path)")
        }
        return leader
    }
}
