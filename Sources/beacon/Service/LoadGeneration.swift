import BeaconPrimitives

#if GRPC
import BeaconAgent
import BeaconClient
import BeaconCore
import BeaconDispatcher
import BeaconDispatcherAPI
import BenchmarkSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2

#if Etcd
import BeaconCoordinationEtcd
#endif

/// One `beacon loadgen` run: its agents, what they measured, and the report.
struct LoadGeneration {
    /// Heartbeat round trips: every one counted, and a uniform sample of at most
    /// `sampleLimit` kept for the percentiles (reservoir sampling), so a long run at a high rate
    /// holds 32 MiB of them rather than eight bytes per beat.
    private struct Measurements {
        static let sampleLimit = 4 << 20
        var count = 0
        var roundTrips: [Int64] = []
        var random = SystemRandomNumberGenerator()

        mutating func record(_ nanoseconds: Int64) {
            count += 1
            if roundTrips.count < Self.sampleLimit {
                roundTrips.append(nanoseconds)
            } else {
                let slot = Int.random(in: 0..<count, using: &random)
                if slot < Self.sampleLimit { roundTrips[slot] = nanoseconds }
            }
        }

        /// Heartbeats by the manager that took them, when there are several.
        var byManager: [String: Int] = [:]

        mutating func reset() {
            count = 0
            roundTrips.removeAll(keepingCapacity: true)
            byManager = [:]
        }
    }

    let command: LoadgenCommand
    /// The agents that run to the end share these connections; the slice that is stopped has its
    /// own, like a rack that loses power. Cancelling a thousand agents resets their streams, and
    /// an HTTP/2 server takes a burst of resets on one connection for an attack (SwiftNIO closes
    /// it after 200 in 30 s), which would end the sessions of every agent sharing it.
    private let connections: ManagerConnections
    private let stoppedConnections: ManagerConnections
    private let stopped: Range<Int>
    private let measurements: PosixMutex<Measurements>
    private let agents: [NodeAgent]
    private let managers: [String]
    private let serverPids: [Int32]

    init(command: LoadgenCommand) throws {
        self.command = command
        managers = try command.managerList()
        serverPids = try command.serverPids()
        // Thousands of agents share each connection, so unary calls get connections of their own
        // (see ManagerConnections): beside thousands of streams, each would cost the server more.
        connections = try ManagerConnections(
            connectionsPerManager: command.connections, unaryCallsOnSeparateConnections: true)
        stoppedConnections = try ManagerConnections(connectionsPerManager: 1, unaryCallsOnSeparateConnections: true)
        let stopCount = Int((Double(command.nodes) * command.stopFraction).rounded())
        stopped = command.nodes - stopCount..<command.nodes
        let measurements = PosixMutex(Measurements())
        self.measurements = measurements
        var agents: [NodeAgent] = []
        agents.reserveCapacity(command.nodes)
        let several = managers.count > 1
        for index in 0..<command.nodes {
            let node = try NodeID("\(command.prefix)-\(index)")
            // Each agent starts at the next manager in turn; with sharded managers it then
            // follows the one that names its owner.
            let first = index % managers.count
            let list = Array(managers[first...] + managers[..<first])
            // With several managers each beat is counted for the manager at the front of the
            // agent's list, the one its session is with.
            let front = PosixMutex<ServerManager?>(nil)
            let agent = try NodeAgent(
                configuration: AgentConfiguration(
                    node: node, description: NodeDescription(hostname: node.rawValue), managers: list,
                    followsAssignments: index < command.assignmentNodes,
                    heartbeatTransport: command.unaryHeartbeats
                        ? .unaryCalls : command.datagramHeartbeats ? .datagrams : .stream),
                connections: stopped.contains(index) ? stoppedConnections : connections,
                heartbeatObserver: { _, roundTrip in
                    let manager = several ? front.withLock { $0 }?.find()?.address : nil
                    measurements.withLock { measurements in
                        measurements.record(roundTrip.nanosecondsRoundedUp)
                        if let manager { measurements.byManager[manager, default: 0] += 1 }
                    }
                })
            front.withLock { $0 = agent.managers }
            agents.append(agent)
        }
        self.agents = agents
    }

    func run() async throws {
        let clock = ContinuousClock()
        let servers = serverPids.map { ServerProcess(pid: $0) }
        print(
            "\(command.nodes) agents over \(command.connections) connections per manager for streams and as many for unary calls (and two for the \(stopped.count) to stop) to \(managers.joined(separator: ", ")); ramp \(command.ramp.value), then \(command.duration.value)"
        )
        var tasks: [Task<Void, Never>] = []
        // The servers' memory before any agent, so the report can say what the agents added.
        let memoryBefore = servers.map { $0.residentBytes()?.now }
        let rampStart = clock.now
        for (index, agent) in agents.enumerated() {
            if command.ramp.value > .zero, index % 100 == 0 {
                let due = rampStart + command.ramp.value * (Double(index) / Double(command.nodes))
                try await Task.sleep(until: due, clock: clock)
            }
            tasks.append(Task { try? await agent.run() })
        }
        while agents.contains(where: { $0.sessionsStarted == 0 }),
            clock.now - rampStart < command.ramp.value + .seconds(60)
        {
            try await Task.sleep(for: .milliseconds(100))
        }
        let registered = agents.count { $0.sessionsStarted > 0 }
        print(String(format: "registered %d agents in %.1f s", registered, Stopwatch.seconds(clock.now - rampStart)))

        let store = try EtcdRevision(command.etcd)
        let startRevision = await store?.now()
        let start = clock.now
        let startCPU = servers.map { $0.cpuSeconds() }
        let startOwnCPU = ProcessCPU.seconds()
        // Round trips are measured from here: the ramp's are dropped.
        measurements.withLock { $0.reset() }
        let startSessions = agents.map(\.sessionsStarted)
        let handoff = command.killAfter.map { after in
            Task {
                await killLastManager(at: start + after.value, clock: clock, ending: start + command.duration.value)
            }
        }
        try await Task.sleep(for: command.duration.value / 3)
        for index in stopped { tasks[index].cancel() }
        let stoppedAt = clock.now
        print("stopped \(stopped.count) agents")
        try await Task.sleep(until: start + command.duration.value, clock: clock)
        let elapsed = Stopwatch.seconds(clock.now - start)
        let endCPU = servers.map { $0.cpuSeconds() }
        // Read with the CPU times: beats go on counting while the run winds down.
        let beatsCounted = measurements.withLock { ($0.count, $0.byManager) }
        let endOwnCPU = ProcessCPU.seconds()
        let memory = servers.map { $0.residentBytes() }
        let endRevision = await store?.now()
        await store?.close()
        let moved = await handoff?.value ?? []
        let heartbeats = beatsCounted.0
        let sample = measurements.withLock { $0.roundTrips }
        let roundTrips = sample.sorted()
        // The stopped slice is the last one, so the live agents are the ones before it.
        let live = 0..<stopped.lowerBound
        // An agent of a killed manager must register again; any other that had to lost its session.
        let falseDowns = live.count { !moved.contains($0) && agents[$0].sessionsStarted > startSessions[$0] }

        // A stopped node's deadline passes period × grace after its last heartbeat; wait for it.
        let deadline =
            stoppedAt + (command.heartbeat.period.value + command.heartbeat.jitter.value) * command.heartbeat.grace
            + .seconds(1)
        if clock.now < deadline, !stopped.isEmpty {
            print(
                String(
                    format: "waiting %.1f s more for the stopped agents' deadlines",
                    Stopwatch.seconds(deadline - clock.now)))
            try await Task.sleep(until: deadline, clock: clock)
        }
        let probe = try await probeStopped()

        for (index, task) in tasks.enumerated() where !stopped.contains(index) { task.cancel() }
        for task in tasks { await task.value }
        let assignmentBytes = agents.prefix(command.assignmentNodes).reduce(0) { $0 + $1.assignmentBytesReceived }
        await connections.close()
        await stoppedConnections.close()

        print(String(format: "heartbeats: %d in %.1f s = %.0f/s", heartbeats, elapsed, Double(heartbeats) / elapsed))
        if let startRevision, let endRevision {
            let writes = endRevision - startRevision
            print(
                String(
                    format: "etcd writes (revisions) in the same %.1f s: %d = %.1f/s, %.4f per heartbeat", elapsed,
                    writes, Double(writes) / elapsed, Double(writes) / Double(max(heartbeats, 1))))
        }
        if !roundTrips.isEmpty {
            print(
                String(
                    format: "heartbeat RPC round trip: p50 %.2f ms, p99 %.2f ms, max %.2f ms",
                    Double(roundTrips.percentileOfSorted(0.5)!) / 1e6,
                    Double(roundTrips.percentileOfSorted(0.99)!) / 1e6,
                    Double(roundTrips.last!) / 1e6))
        }
        print("false DOWNs (live agents that had to register again): \(falseDowns) of \(live.count - moved.count)")
        let reasons = Dictionary(grouping: live.compactMap { agents[$0].lastSessionEnd }, by: { $0 }).mapValues(\.count)
        for (reason, count) in reasons.sorted(by: { $0.value > $1.value }).prefix(5) {
            print("  \(count) agents' last session ended with: \(reason)")
        }
        print("stopped agents the dispatcher no longer knows (DOWN): \(probe.detected) of \(stopped.count)")
        for (reason, count) in probe.failed.sorted(by: { $0.value > $1.value }) {
            print("  \(count) probes failed: \(reason)")
        }
        if let expiryLog = command.expiryLog { reportLateness(log: expiryLog) }
        print(
            "assignment bytes received by \(command.assignmentNodes) following agents: \(assignmentBytes)"
        )
        let byManager = beatsCounted.1
        for (index, pid) in serverPids.enumerated() {
            let name = managers.count > 1 ? "server \(managers[index]) (pid \(pid))" : "server"
            if let before = startCPU[index], let after = endCPU[index] {
                let beats = managers.count > 1 ? byManager[managers[index], default: 0] : heartbeats
                print(
                    String(
                        format: "%@ CPU: %.1f %% of one core, %.1f µs per heartbeat", name,
                        100 * (after - before) / elapsed, 1e6 * (after - before) / Double(max(beats, 1))))
            }
            if let (now, peak) = memory[index] {
                // Every agent (the stopped ones too) opened its streams during the run; with several
                // managers the agents are not evenly spread, so no share per agent is given.
                var perAgent = ""
                if managers.count == 1, let before = memoryBefore[index] {
                    perAgent = String(
                        format: ", %.1f KiB per agent above the %.0f MiB before the agents",
                        Double(now - before) / 1024 / Double(command.nodes), Double(before) / 1_048_576)
                }
                print(
                    String(
                        format: "%@ memory: resident %.0f MiB%@; peak %.0f MiB", name, Double(now) / 1_048_576,
                        perAgent, Double(peak) / 1_048_576))
            }
        }
        print(
            String(
                format: "load generator CPU: %.1f %% of one core, %.1f µs per heartbeat",
                100 * (endOwnCPU - startOwnCPU) / elapsed, 1e6 * (endOwnCPU - startOwnCPU) / Double(max(heartbeats, 1)))
        )
        if managers.count > 1 {
            let total = max(1, byManager.values.reduce(0, +))
            for manager in managers {
                let beats = byManager[manager, default: 0]
                print(
                    String(
                        format: "heartbeats taken by %@: %d (%.1f %%)", manager, beats,
                        100 * Double(beats) / Double(total)))
            }
        }
    }

    /// Kills the last manager with SIGKILL at `instant`, then follows the agents whose session was
    /// with it until each holds a session with another manager (or the run ends); reports how
    /// long that took and returns those agents.
    private func killLastManager(
        at instant: ContinuousClock.Instant, clock: ContinuousClock, ending end: ContinuousClock.Instant
    )
        async -> Set<Int>
    {
        try? await Task.sleep(until: instant, clock: clock)
        let killed = managers[managers.count - 1]
        let orphans = Set(
            agents.indices.filter { !stopped.contains($0) && agents[$0].managers.find()?.address == killed })
        kill(serverPids[serverPids.count - 1], SIGKILL)
        let killedAt = clock.now
        print(
            "killed \(killed) (pid \(serverPids[serverPids.count - 1])) with SIGKILL; \(orphans.count) agents held a session there"
        )
        var waiting = orphans
        var seconds: [Double] = []
        while !waiting.isEmpty, clock.now < end {
            try? await Task.sleep(for: .milliseconds(50))
            for index in waiting where agents[index].session != nil && agents[index].managers.find()?.address != killed
            {
                waiting.remove(index)
                seconds.append(Stopwatch.seconds(clock.now - killedAt))
            }
        }
        seconds.sort()
        if let last = seconds.last {
            print(
                String(
                    format:
                        "agents of the killed manager in a session elsewhere: %d of %d; after p50 %.1f s, p99 %.1f s, max %.1f s",
                    seconds.count, orphans.count, seconds.percentileOfSorted(0.5)!, seconds.percentileOfSorted(0.99)!,
                    last))
        } else {
            print("agents of the killed manager in a session elsewhere: 0 of \(orphans.count)")
        }
        return orphans
    }

    /// Heartbeats each stopped node on its old session: a node the dispatcher marked DOWN
    /// answers NotFound. (A node it still knew would have its deadline pushed back, so this runs
    /// only once the deadlines have passed.)
    private func probeStopped() async throws -> (detected: Int, failed: [String: Int]) {
        guard !stopped.isEmpty else { return (0, [:]) }
        var detected = 0
        var failed: [String: Int] = [:]
        // Each stopped node is asked at the manager its session was with.
        let byManager = Dictionary(grouping: stopped) { agents[$0].managers.find()?.address ?? managers[0] }
        for (manager, indices) in byManager {
            let target = try ManagerAddress(manager).target
            try await withGRPCClient(transport: .http2NIOPosix(target: target, transportSecurity: .plaintext)) { grpc in
                let client = Beacon_Dispatcher_V1_Dispatcher.Client(wrapping: grpc)
                for index in indices {
                    guard let session = agents[index].session else { continue }
                    do {
                        _ = try await client.heartbeat(
                            .with { $0.sessionID = session },
                            metadata: [
                                DispatcherWire.nodeIDMetadataKey: .string(agents[index].configuration.node.rawValue)
                            ]
                        )
                    } catch let error as RPCError where error.code == .notFound {
                        detected += 1
                    } catch {
                        failed["\(error)", default: 0] += 1
                    }
                }
            }
        }
        return (detected, failed)
    }

    /// For each stopped node in the server's expiry log: how long after its last heartbeat was
    /// sent the server marked it DOWN. Each beat's deadline is its drawn period × grace, and the
    /// period is drawn within ±jitter, so the bound is (period + jitter) × grace.
    private func reportLateness(log: String) {
        guard let text = try? String(contentsOfFile: log, encoding: .utf8) else {
            print("cannot read the expiry log \(log) (is it `beacon serve --expiry-log`'s file?)")
            return
        }
        // The log is appended to across server runs, so a node may have older expiries too: its
        // DOWN for this run is the first one after its last beat.
        var expiries: [Substring: [UInt64]] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 2, let nanos = UInt64(fields[1]) else { continue }
            expiries[fields[0], default: []].append(nanos)
        }
        var delays: [Int64] = []
        for index in stopped {
            guard let beat = agents[index].lastHeartbeatSent,
                let down = expiries[Substring(agents[index].configuration.node.rawValue)]?
                    .filter({ $0 > beat.nanoseconds }).min()
            else {
                continue
            }
            // Clamped: the log is a text file, and a line written by hand may hold any number.
            delays.append(Int64(clamping: down - beat.nanoseconds))
        }
        delays.sort()
        guard !delays.isEmpty else {
            print("no stopped node in the expiry log \(log)")
            return
        }
        print(
            String(
                format:
                    "DOWN after the last heartbeat (server's log, %d of %d stopped): p50 %.3f s, p99 %.3f s, max %.3f s; bound (period + jitter) × grace = %.3f s",
                delays.count, stopped.count, Double(delays.percentileOfSorted(0.5)!) / 1e9,
                Double(delays.percentileOfSorted(0.99)!) / 1e9, Double(delays.last!) / 1e9,
                Stopwatch.seconds(
                    (command.heartbeat.period.value + command.heartbeat.jitter.value) * command.heartbeat.grace)))
    }
}

/// A server process's CPU time (/proc/PID/stat: utime + stime, in clock ticks) and memory
/// (/proc/PID/status: resident set now and at its peak), read from outside it.
struct ServerProcess {
    let pid: Int32

    func cpuSeconds() -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command name: state is field 3, utime 14 and stime 15 (1-based).
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Resident bytes now and at the peak (VmRSS, VmHWM); nil if the process is gone.
    func residentBytes() -> (now: Int, peak: Int)? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        var now: Int?
        var peak: Int?
        for line in status.split(separator: "\n") {
            // "VmRSS:\t  123456 kB"
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count == 3, fields[2] == "kB", let kilobytes = Int(fields[1]) else { continue }
            if fields[0] == "VmRSS:" { now = kilobytes * 1024 }
            if fields[0] == "VmHWM:" { peak = kilobytes * 1024 }
        }
        guard let now, let peak else { return nil }
        return (now, peak)
    }
}

/// etcd's revision, which every write to it advances by one: how many writes the managers made.
struct EtcdRevision {
    #if Etcd
    private let store: EtcdCoordinationStore

    /// Nil without `urls`.
    init?(_ urls: String?) throws {
        guard let urls else { return nil }
        store = try EtcdCoordinationStore(endpoints: etcdEndpoints(urls))
    }

    /// The revision now; nil when etcd does not answer.
    func now() async -> Int64? {
        try? await store.read(prefix: "/beacon-loadgen-revision-probe/").revision
    }

    func close() async {
        await store.shutdown()
    }
    #else
    init?(_ urls: String?) throws {
        return nil
    }

    func now() async -> Int64? { nil }

    func close() async {}
    #endif
}
#endif
