import ArgumentParser
import BeaconCommandLine
import BeaconCommandLineOptions
import BeaconCoordination
import BeaconScheduler

#if Etcd
import BeaconCoordinationEtcd
#endif

struct SchedulerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler",
        abstract: "Join scheduling groups (mgmt's scheduler) on etcd or in this process, and measure them.",
        subcommands: [SchedulerJoin.self, SchedulerBench.self]
    )
}

/// Where a command's groups coordinate: a real etcd cluster, or the embedded store.
struct StoreChoice: ParsableArguments {
    @Option(
        help:
            "Comma-separated etcd client URLs (http://host:port) (default: none; give this or --embedded). Needs a build with `--traits Etcd`."
    )
    var etcd: String?

    @Flag(help: "Use the embedded in-memory store (participants in this process).")
    var embedded = false

    /// The endpoints are checked with the other options; which store was chosen only when the
    /// command runs (``open()``), because ArgumentParser validates before it reports unknown
    /// options, and `join --bogus` must be told about `--bogus`, not about a missing store.
    func validate() throws {
        if let etcd { _ = try etcdEndpoints(etcd) }
    }

    /// The store, and how to close it when done.
    ///
    /// - Throws: the exit-64 `ExitCode` of ``OptionFailure`` unless exactly one of `--etcd` and
    ///   `--embedded` was given, or for `--etcd` in a build without etcd support.
    func open() throws -> (store: any CoordinationStore, close: @Sendable () async -> Void) {
        guard (etcd != nil) != embedded else { throw OptionFailure.report("give exactly one of --etcd and --embedded") }
        #if Etcd
        if let etcd {
            let store = try EtcdCoordinationStore(endpoints: etcdEndpoints(etcd))
            return (store, { await store.shutdown() })
        }
        #else
        if etcd != nil {
            throw OptionFailure.report(
                "--etcd: this beacon was built without etcd support; run it as `swift run --traits Etcd beacon scheduler …`"
            )
        }
        #endif
        return (InMemoryCoordinationStore(), {})
    }
}

/// The ranges (and the shared TTL default) of the scheduler commands' options.
enum SchedulerOptionRange {
    /// A participant refreshes its session lease a few times per TTL: below 100 ms that is a
    /// busy loop, and a day is already far past any use (etcd raises anything below 2 s to 2 s).
    static let ttl = OptionValue.duration(in: .milliseconds(100)...(.seconds(86_400)))
    static let weight = OptionValue.decimal(in: DecimalRange(above: 0, through: 1_000_000))
    static let maximumChosen = OptionValue.integer(in: 1...1_000)
    static let participants = OptionValue.integer(in: 2...1_000)
    static let strategies = OptionValue.name(from: StrategyRegistry.standard.names)
    static let durations = OptionValue.duration(in: DurationParser.fullRange)
    static let defaultTTL = DurationArgument(.seconds(10))
}

struct SchedulerJoin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "join",
        abstract:
            "Join a group and print each new chosen set, or (--demo, and always with --embedded) run a scripted multi-participant demo.",
        discussion: """
            On etcd, the host stays in the group until --duration passes (or forever), then leaves cleanly; \
            if the process is killed instead, the group drops it when its session lease lapses (--ttl). \
            The demo names its participants host-1, host-2, …; --filter must name at least one of them.
            """
    )

    static let defaultPath = "/sched/demo"
    static let defaultMax = 1
    static let defaultStrategy = "rr"
    static let defaultWeight = 1.0
    static let defaultParticipants = 5

    @OptionGroup var store: StoreChoice

    @Option(
        help: "The group's path: starts with / and does not end with one (default: \(SchedulerJoin.defaultPath)).",
        transform: { try GroupPath($0).rawValue })
    var path = SchedulerJoin.defaultPath

    @Option(
        help:
            "This host's name in the group: not empty, no ',' or '/' (default: none; required with --etcd, unused by the demo)."
    )
    var host: String?

    @Option(
        help: SchedulerOptionRange.maximumChosen.help("Most hosts chosen", default: SchedulerJoin.defaultMax),
        transform: SchedulerOptionRange.maximumChosen.parse)
    var max = SchedulerJoin.defaultMax

    @Option(
        help: SchedulerOptionRange.strategies.help("Strategy", default: SchedulerJoin.defaultStrategy),
        transform: SchedulerOptionRange.strategies.parse)
    var strategy = SchedulerJoin.defaultStrategy

    @Option(
        help: SchedulerOptionRange.ttl.help(
            "Session TTL", default: SchedulerOptionRange.defaultTTL, "etcd raises it to at least 2s."),
        transform: SchedulerOptionRange.ttl.parse)
    var ttl = SchedulerOptionRange.defaultTTL

    @Option(
        help: SchedulerOptionRange.weight.help(
            "This host's weight for the weighted strategy", default: SchedulerJoin.defaultWeight),
        transform: SchedulerOptionRange.weight.parse)
    var weight = SchedulerJoin.defaultWeight

    @Option(help: "Comma-separated hosts that may be chosen (default: any host).")
    var filter: String?

    @Option(
        help: SchedulerOptionRange.durations.help(
            "Leave after this long", absent: "stay until killed", "Not with the demo, which runs its script."),
        transform: SchedulerOptionRange.durations.parse)
    var duration: DurationArgument?

    @Flag(
        help:
            "Run the scripted demo: --participants hosts join, the leader leaves, a chosen host crashes, a newcomer joins."
    )
    var demo = false

    @Option(
        help: SchedulerOptionRange.participants.help(
            "Participants in the demo", default: SchedulerJoin.defaultParticipants),
        transform: SchedulerOptionRange.participants.parse)
    var participants = SchedulerJoin.defaultParticipants

    /// The scripted demo runs (on the embedded store always, on etcd with --demo).
    private var runsDemo: Bool { store.embedded || demo }

    func validate() throws {
        if runsDemo {
            if host != nil {
                throw ValidationError(
                    "--host names this process's host on etcd; the demo names its own (host-1, host-2, …)")
            }
            if duration != nil {
                throw ValidationError(
                    "--duration applies to a host joined on etcd; the demo runs its script to the end")
            }
        } else if store.etcd != nil {
            guard let host else { throw ValidationError("--host is required with --etcd") }
            do {
                try validateHostname(host)
            } catch .invalidHostname(let reason) {
                throw ValidationError("--host: '\(host)' cannot name a host in a group: \(reason)")
            } catch {
                throw ValidationError("--host: \(error)")
            }
        }
        if let filter = try hostsFilter(), runsDemo {
            let demoHosts = EmbeddedSchedulerDemo.hostnames(participants: participants)
            guard !filter.isDisjoint(with: demoHosts) else {
                throw ValidationError(
                    "--filter: '\(self.filter ?? "")' names none of the demo's hosts (\(demoHosts.first!) … \(demoHosts.last!)), so none could ever be chosen"
                )
            }
        }
    }

    /// The hosts `--filter` names, each a name a host could have: a filter naming `x/y` would
    /// leave the group with no host it could ever choose.
    private func hostsFilter() throws(ValidationError) -> Set<String>? {
        guard let filter else { return nil }
        let hosts = try parseOption("--filter") { () throws(CommandLineValueError) in
            try CommaSeparatedList.elements(filter, of: "host names").map(String.init)
        }
        for host in hosts {
            do {
                try validateHostname(host)
            } catch {
                throw ValidationError("--filter: '\(host)' cannot name a host in a group: \(error)")
            }
        }
        return Set(hosts)
    }

    private func options() throws(ValidationError) -> ScheduleOptions {
        var options = ScheduleOptions(strategy: strategy)
        options.maxCount = max
        options.sessionTTL = ttl.value
        options.weight = weight
        options.hostsFilter = try hostsFilter()
        return options
    }

    func run() async throws {
        let (coordination, close) = try store.open()
        if runsDemo {
            try await EmbeddedSchedulerDemo(
                store: coordination, path: path, participants: participants, options: options()
            ).run()
            await close()
            return
        }
        let scheduler = Scheduler(store: coordination)
        let handle = try await scheduler.schedule(path: path, hostname: host ?? "", options: options())
        print("joined \(path) as \(handle.hostname)")
        let stop = Task {
            guard let duration else { return }
            try? await Task.sleep(for: duration.value)
            await handle.shutdown()
        }
        var results = handle.results.makeAsyncIterator()
        while true {
            do {
                guard let hosts = try await results.next() else { break }
                print("scheduled: \(hosts.joined(separator: ","))")
            } catch {
                print("error (continuing): \(error)")
            }
        }
        stop.cancel()
        await scheduler.close()
        await close()
    }
}
