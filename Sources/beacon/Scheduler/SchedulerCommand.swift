import ArgumentParser
import BeaconCommandLine
import BeaconScheduler
#if Etcd
import BeaconSchedulerEtcd
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
    @Option(help: "Comma-separated etcd client URLs (http://host:port). Needs a build with `--traits Etcd`.")
    var etcd: String?

    @Flag(help: "Use the embedded in-memory store (participants in this process).")
    var embedded = false

    func validate() throws {
        guard (etcd != nil) != embedded else { throw ValidationError("give exactly one of --etcd and --embedded") }
        #if !Etcd
        if etcd != nil {
            throw ValidationError(
                "this beacon was built without etcd support; run it as `swift run --traits Etcd beacon scheduler …`")
        }
        #endif
        if let etcd { _ = try etcdEndpoints(etcd) }
    }

    /// The store, and how to close it when done.
    func open() throws -> (store: any CoordinationStore, close: @Sendable () async -> Void) {
        #if Etcd
        if let etcd {
            let store = try EtcdCoordinationStore(endpoints: etcdEndpoints(etcd))
            return (store, { await store.shutdown() })
        }
        #endif
        return (InMemoryCoordinationStore(), {})
    }
}

struct SchedulerJoin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "join",
        abstract: "Join a group and print each new chosen set, or (--demo, and always with --embedded) run a scripted multi-participant demo.",
        discussion: """
            On etcd, the host stays in the group until --duration passes (or forever), then leaves cleanly; \
            if the process is killed instead, the group drops it when its session lease lapses (--ttl).
            """
    )

    @OptionGroup var store: StoreChoice

    @Option(help: "The group's path: starts with / and does not end with one.")
    var path = "/sched/demo"

    @Option(help: "This host's name in the group (required with --etcd).")
    var host: String?

    @Option(help: "Most hosts chosen.")
    var max = 1

    @Option(help: "Strategy: rr, alpha, ring or weighted.")
    var strategy = "rr"

    @Option(help: "Session TTL (etcd raises it to at least 2s).")
    var ttl = DurationArgument(.seconds(10))

    @Option(help: "This host's weight for the weighted strategy.")
    var weight = 1.0

    @Option(help: "Comma-separated hosts that may be chosen.")
    var filter: String?

    @Option(help: "Leave after this long (default: stay until killed; the embedded demo runs its script).")
    var duration: DurationArgument?

    @Flag(help: "Run the scripted demo: --participants hosts join, the leader leaves, a chosen host crashes, a newcomer joins.")
    var demo = false

    @Option(help: "Participants in the demo.")
    var participants = 5

    func validate() throws {
        if store.etcd != nil, !demo, host == nil { throw ValidationError("--host is required with --etcd") }
        guard (2 ... 1_000).contains(participants) else { throw ValidationError("--participants must be in 2...1000") }
        _ = try options()
    }

    private func options() throws(ValidationError) -> ScheduleOptions {
        var options = ScheduleOptions(strategy: strategy)
        options.maxCount = max
        options.sessionTTL = ttl.value
        options.weight = weight
        if let filter {
            options.hostsFilter = Set(try parseOption("--filter") { () throws(CommandLineValueError) in
                try CommaSeparatedList.elements(filter, of: "host names").map(String.init)
            })
        }
        return options
    }

    func run() async throws {
        let (coordination, close) = try store.open()
        if store.embedded || demo {
            try await EmbeddedSchedulerDemo(store: coordination, path: path, participants: participants, options: options()).run()
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
