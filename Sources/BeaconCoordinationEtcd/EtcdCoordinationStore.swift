import BeaconPrimitives

#if Etcd
import AsyncHTTPClient
import BeaconCore
public import BeaconCoordination
import Foundation
import NIOCore
import NIOHTTP1

/// A `CoordinationStore` on a real etcd cluster (v3.4 or later), through its JSON gateway
/// over plain HTTP/1.1 — no generated code, and none of the HTTP/2 ping trouble native gRPC
/// clients meet with etcd (see `docs/scheduler.md`).
///
/// Requests go to the first endpoint that answers; on a connection failure the next endpoint in
/// the list is tried, so give every member of the cluster. Watches hold one long response each
/// and use their own connection pool, so open watches never starve ordinary requests.
///
/// A watch streams from one member, and a member that froze (a stopped process, a machine that
/// hangs, a partition that drops packets without a reset) keeps it open and silent while the
/// cluster moves on. etcd's Go client finds that out with HTTP/2 pings, which its JSON gateway
/// does not have; so when nothing has come from a watch's member for `watchProbeInterval`, the
/// store asks that member for its status on another connection, and ends the watch (with
/// `CoordinationError/failure(_:)`) if no answer comes within `timeout`. The reader then reads
/// and watches again, through a member that answers. (A watch's own connection dropped by
/// something between the two, a NAT or a load balancer, while the member stays well, is not
/// found this way: the probe's connection is another one.)
public final class EtcdCoordinationStore: CoordinationStore {
    public let endpoints: [String]
    private let requests: HTTPClient
    private let watches: HTTPClient
    private let timeout: Duration
    private let watchProbeInterval: Duration
    private let watchBufferLimit: Int
    /// Index of the endpoint that answered last.
    private let preferred = PosixMutex(0)
    /// The keys the next read asks for in a page: ``rangePageLimit``, or less after a read whose
    /// pages had to be halved to fit ``answerLimit``.
    private let pageLimit = PosixMutex(EtcdCoordinationStore.rangePageLimit)
    /// When each endpoint last answered anything: a response, a watch's bytes, a probe. Shared by
    /// the watches on one member, so that one probe a quiet interval serves them all.
    private let lastHeard: PosixMutex<[ContinuousClock.Instant]>
    private let clock = ContinuousClock()

    /// - Parameters:
    ///   - endpoints: `http://host:port` of each cluster member (TLS is not supported here).
    ///   - timeout: how long one request may take before the next endpoint is tried, and how long
    ///     a watch's member may take to answer a probe.
    ///   - watchProbeInterval: how long a watch's member may say nothing before it is probed; at
    ///     least ``shortestWatchProbeInterval``.
    ///   - watchBufferLimit: batches a watch holds for a reader that has not taken them; one more
    ///     ends the watch with `CoordinationError/failure(_:)` after those it holds, and the reader
    ///     reads again.
    /// - Throws: `CoordinationError/invalidArgument(_:)` for no endpoint or a malformed one, a
    ///   timeout that is not positive, a probe interval below ``shortestWatchProbeInterval``, or a
    ///   buffer limit below 1.
    public init(
        endpoints: [String], timeout: Duration = .seconds(5), watchProbeInterval: Duration = .seconds(10),
        watchBufferLimit: Int = 10_000
    ) throws(CoordinationError) {
        if let problem = EtcdEndpoints.problem(with: endpoints) { throw .invalidArgument("etcd: \(problem)") }
        guard timeout > .zero else { throw .invalidArgument("etcd: the timeout must be positive, not \(timeout)") }
        guard watchProbeInterval >= Self.shortestWatchProbeInterval else {
            throw .invalidArgument(
                "etcd: the watch probe interval must be at least \(Self.shortestWatchProbeInterval), not \(watchProbeInterval)"
            )
        }
        guard watchBufferLimit >= 1 else {
            throw .invalidArgument("etcd: the watch buffer limit must be at least 1 batch, not \(watchBufferLimit)")
        }
        self.watchBufferLimit = watchBufferLimit
        self.endpoints = endpoints.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.timeout = timeout
        self.watchProbeInterval = watchProbeInterval
        lastHeard = PosixMutex(Array(repeating: clock.now, count: endpoints.count))
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(2), read: .nanoseconds(timeout.nanosecondsRoundedUp))
        requests = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        var watchConfiguration = HTTPClient.Configuration()
        watchConfiguration.timeout = .init(connect: .seconds(2))
        watchConfiguration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 10_000
        watches = HTTPClient(eventLoopGroupProvider: .singleton, configuration: watchConfiguration)
    }

    /// Probing a member more often than this would only load it, for a freeze found at most that
    /// much sooner.
    public static let shortestWatchProbeInterval = Duration.milliseconds(100)

    /// Closes both connection pools; the store is unusable afterwards.
    public func shutdown() async {
        try? await requests.shutdown()
        try? await watches.shutdown()
    }

    deinit {
        // A store dropped without `shutdown()` (a caller that threw past it) closes its pools in
        // the background: a client shutting down keeps itself alive until it is done, where one
        // dropped while running traps in debug builds and leaks its connections in release ones.
        // After `shutdown()` these calls only report that it already happened.
        _ = requests.shutdown()
        _ = watches.shutdown()
    }

    /// - Throws: `CoordinationError.invalidArgument` for a TTL that is not positive or is longer
    ///   than `GrantedLease.longestTTL`.
    public func grantLease(ttl: Duration) async throws(CoordinationError) -> GrantedLease {
        guard ttl > .zero, ttl <= GrantedLease.longestTTL else {
            throw .invalidArgument("lease TTL must be positive and at most \(GrantedLease.longestTTL), not \(ttl)")
        }
        // etcd counts whole seconds; round up so the lease is never shorter than asked.
        let (whole, fraction) = ttl.components
        let seconds = max(1, whole + (fraction > 0 ? 1 : 0))
        return try await EtcdGatewayDecoder.grantedLease(call("/v3/lease/grant", ["TTL": String(seconds)]))
    }

    public func keepAlive(_ lease: LeaseID) async throws(CoordinationError) -> Bool {
        try await EtcdGatewayDecoder.isAlive(keepAlive: call("/v3/lease/keepalive", ["ID": String(lease.rawValue)]))
    }

    public func revoke(_ lease: LeaseID) async throws(CoordinationError) {
        do {
            try await EtcdGatewayDecoder.acknowledgement(
                call("/v3/lease/revoke", ["ID": String(lease.rawValue)]), of: "lease revoke")
        } catch .leaseNotFound {
            return
        }
    }

    /// Reads the prefix in pages of at most 1 000 keys, every page at the revision the first was
    /// read at, so the snapshot is one revision's whatever its size. A page whose answer would
    /// pass 16 MiB is asked for again with half as many keys, and the next read starts from the
    /// size that fit (growing back by doubling after a read that needed no halving). A compaction
    /// of that revision between two pages fails the read, and the caller reads again.
    public func read(prefix: String) async throws(CoordinationError) -> StoreSnapshot {
        let rangeEnd = EtcdGatewayJSON.rangeEnd(ofPrefix: prefix)
        var start = EtcdGatewayJSON.rangeStart(ofPrefix: prefix)
        let firstLimit = pageLimit.withLock { $0 }
        var limit = firstLimit
        var values: [StoredValue] = []
        var pinned: Int64?
        var previousLastKey: Data?
        while true {
            var request: [String: Any] = ["key": start, "range_end": rangeEnd, "limit": String(limit)]
            if let pinned { request["revision"] = String(pinned) }
            guard let answer = try await exchange("/v3/kv/range", request, isRead: true) else {
                guard limit > 1 else {
                    throw .failure(
                        "etcd: /v3/kv/range: one value under \(prefix.debugDescription) is larger than \(Self.answerLimit) bytes as JSON"
                    )
                }
                limit /= 2
                continue
            }
            let page = try EtcdGatewayDecoder.rangePage(answer)
            if let previousLastKey, let first = page.firstKey, !previousLastKey.lexicographicallyPrecedes(first) {
                throw .failure("etcd: /v3/kv/range: a page does not start after the page before it")
            }
            let revision = pinned ?? page.snapshot.revision
            pinned = revision
            values += page.snapshot.values
            guard page.more, let last = page.lastKey else {
                let next = limit < firstLimit ? limit : min(limit * 2, Self.rangePageLimit)
                pageLimit.withLock { $0 = next }
                return StoreSnapshot(values: values, revision: revision)
            }
            previousLastKey = last
            start = EtcdGatewayJSON.keyAfter(last)
        }
    }

    /// The most keys a read asks for in one request. Records of the package's layers are a few
    /// hundred bytes, so a page of them is well under ``answerLimit``.
    static let rangePageLimit = 1_000

    /// The largest answer the store takes whole: a range page bigger than this is asked for
    /// again in smaller pages, and any other answer this big is a failure.
    static let answerLimit = 16 << 20

    public func transaction(
        if conditions: [StoreCondition], then success: [StoreOperation], else failure: [StoreOperation]
    ) async throws(CoordinationError) -> TransactionOutcome {
        try StoreOperation.check(branch: success)
        try StoreOperation.check(branch: failure)
        return try await EtcdGatewayDecoder.outcome(
            txn: call(
                "/v3/kv/txn",
                [
                    "compare": conditions.map(EtcdGatewayJSON.condition),
                    "success": success.map(EtcdGatewayJSON.operation),
                    "failure": failure.map(EtcdGatewayJSON.operation),
                ]))
    }

    public func watch(prefix: String, after revision: Int64) -> AsyncThrowingStream<[StoreChange], any Error> {
        guard revision < .max else { return .nothing(after: revision) }
        let body: [String: Any] = [
            "create_request": [
                "key": EtcdGatewayJSON.rangeStart(ofPrefix: prefix),
                "range_end": EtcdGatewayJSON.rangeEnd(ofPrefix: prefix),
                // At least 1: etcd reads a start revision of 0 as "from now on", where the
                // in-memory store, asked for changes after a revision below every change, replays
                // them all.
                "start_revision": String(max(revision, 0) + 1),
            ]
        ]
        let payload = (try? JSONSerialization.data(withJSONObject: body)) ?? Data()
        let (stream, continuation) = AsyncThrowingStream<[StoreChange], any Error>.makeStream(
            bufferingPolicy: .bufferingOldest(watchBufferLimit))
        let task = Task { [self] in
            do {
                try await streamWatch(payload: payload, into: continuation)
                continuation.finish(throwing: CoordinationError.failure("etcd: watch ended"))
            } catch {
                continuation.finish(
                    throwing: (error as? CoordinationError) ?? .failure("etcd: watch failed: \(error)"))
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    // MARK: Transport

    private func streamWatch(
        payload: Data, into continuation: AsyncThrowingStream<[StoreChange], any Error>.Continuation
    ) async throws {
        // etcd's require-leader option, as its Go client's `WithRequireLeader`: a member that
        // has lost its leader (cut off from the others, or alone after they died) ends the watch
        // with "no leader" instead of keeping it open and silent while the cluster moves on.
        let (response, endpoint) = try await send(
            "/v3/watch", payload: payload, client: watches, deadline: timeout,
            headers: [("Grpc-Metadata-hasleader", "true")])
        guard response.status == .ok else {
            let body = try await response.body.collect(upTo: 1 << 20)
            throw EtcdGatewayDecoder.failure(status: response.status.code, body: Data(body.readableBytesView))
        }
        // Whichever ends first ends the watch: the stream, or the member falling silent.
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                var splitter = EtcdWatchLineSplitter()
                for try await chunk in response.body {
                    heard(from: endpoint)
                    for line in try splitter.lines(appending: chunk.readableBytesView) {
                        let changes = try EtcdGatewayDecoder.changes(watchLine: line)
                        guard !changes.isEmpty else { continue }
                        if case .dropped = continuation.yield(changes) {
                            throw CoordinationError.behind(batches: watchBufferLimit)
                        }
                    }
                }
            }
            group.addTask { [self] in try await probeWhileQuiet(endpoint) }
            try await group.next()
            group.cancelAll()
        }
    }

    /// Returns, throwing, once `endpoint` has said nothing for a probe interval and then does not
    /// answer a status request within the timeout; runs until cancelled while it answers.
    private func probeWhileQuiet(_ endpoint: Int) async throws {
        while true {
            // Jittered, so the watches on one member do not all probe it at the same moment: the
            // first probe answered counts for the others, which find the member heard from.
            let jitter = Duration.nanoseconds(Int64.random(in: 0...max(1, watchProbeInterval.nanosecondsRoundedUp / 4)))
            let due = lastHeard.withLock { $0[endpoint] }.advanced(by: watchProbeInterval)
            if clock.now < due {
                try await clock.sleep(until: due.advanced(by: jitter))
                continue
            }
            let asked = clock.now
            if try await answersStatus(endpoint) { continue }
            // Bytes that came on a watch meanwhile are an answer too.
            if lastHeard.withLock({ $0[endpoint] }) > asked { continue }
            throw CoordinationError.failure(
                "etcd: \(endpoints[endpoint]) sent nothing on a watch for \(watchProbeInterval) and did not answer a status request within \(timeout); watching again through a member that answers"
            )
        }
    }

    /// Whether the member at `endpoint` answers a status request, whole, within the timeout. On
    /// the watches' pool, which never makes a request wait for a connection, so a busy pool for
    /// ordinary requests is not taken for a silent member.
    private func answersStatus(_ endpoint: Int) async throws -> Bool {
        let request = post("/v3/maintenance/status", to: endpoint, payload: Data("{}".utf8))
        let answered = await withTaskGroup(of: Bool.self) { [request] group in
            group.addTask { [self] in
                guard let response = try? await execute(request, on: watches, deadline: timeout),
                    (try? await response.body.collect(upTo: 1 << 16)) != nil
                else { return false }
                return true
            }
            group.addTask { [clock, timeout] in
                try? await clock.sleep(for: timeout)
                return false
            }
            defer { group.cancelAll() }
            return await group.next() ?? false
        }
        try Task.checkCancellation()
        if answered { heard(from: endpoint) }
        return answered
    }

    private func heard(from endpoint: Int) {
        let now = clock.now
        lastHeard.withLock { $0[endpoint] = max($0[endpoint], now) }
    }

    /// One unary call: a POST with a JSON body; returns the body of a 200 answer for
    /// ``EtcdGatewayDecoder`` to read. Tries each endpoint in turn, starting with the one that
    /// answered last, while the connection itself fails. A read (`isRead`) is sent again, up to
    /// `leaderChangeAttempts` times in all, while etcd answers that its leader changed (a read
    /// it did not serve: see `EtcdGatewayDecoder.isLeaderChange`); etcd reports the change once
    /// the new leader is known, so the next attempt goes out at once. A write is not sent again
    /// on that answer: should anything in front of etcd answer the same for a write it passed
    /// on, a second copy could apply twice.
    ///
    /// Moving on to the next endpoint does send a write again, whatever failed, and a write whose
    /// answer was lost (a timeout, a connection closed after the request went out) may have been
    /// applied by the first member. The package's writes survive that: the records' commits
    /// compare revisions, so a second copy is refused and the commit reads again and finds its
    /// change made; a sharded manager whose join is refused that way revokes its lease, which takes
    /// the first copy's entry with it, and joins again; unconditional puts write the same value
    /// twice; a second lease grant leaves a lease nobody refreshes, which lapses after its TTL.
    private func call(_ path: String, _ body: [String: Any], isRead: Bool = false) async throws(CoordinationError)
        -> Data
    {
        guard let answer = try await exchange(path, body, isRead: isRead) else {
            throw .failure("etcd: \(path): the answer is larger than \(Self.answerLimit) bytes")
        }
        return answer
    }

    /// ``call(_:_:isRead:)``'s work: nil when the answer is larger than ``answerLimit``, for a
    /// caller that can ask for less.
    private func exchange(_ path: String, _ body: [String: Any], isRead: Bool) async throws(CoordinationError)
        -> Data?
    {
        let payload: Data
        do {
            payload = try JSONSerialization.data(withJSONObject: body)
        } catch {
            throw .failure("etcd: cannot encode a request: \(error)")
        }
        var attempt = 1
        while true {
            let response: HTTPClientResponse
            let bytes: ByteBuffer
            do {
                response = try await send(path, payload: payload, client: requests, deadline: timeout).response
                bytes = try await response.body.collect(upTo: Self.answerLimit)
            } catch let error as CoordinationError {
                throw error
            } catch is NIOTooManyBytesError {
                return nil
            } catch {
                throw .failure("etcd: \(path): \(error)")
            }
            let data = Data(bytes.readableBytesView)
            if response.status == .ok { return data }
            let status = response.status.code
            guard isRead, attempt < Self.leaderChangeAttempts,
                EtcdGatewayDecoder.isLeaderChange(status: status, body: data), !Task.isCancelled
            else { throw EtcdGatewayDecoder.failure(status: status, body: data) }
            attempt += 1
        }
    }

    /// Three: one election interrupts a read once; a cluster still electing after that is down
    /// as far as the caller can tell.
    private static let leaderChangeAttempts = 3

    /// Runs `request`, a second time if the pooled connection it was given had already been
    /// closed by etcd (a restart, etcd's idle timeout) when the request was written to it:
    /// no whole request reached etcd then, so the second try cannot apply a write twice. The pool
    /// opens a new connection for it. It happens when the pool hands out the connection before
    /// its event loop has seen etcd close it: the first call after etcd restarted failed that way
    /// once on a busy machine (`aFollowerRecoversFromAnEtcdRestart`, run beside other suites).
    private func execute(_ request: HTTPClientRequest, on client: HTTPClient, deadline: Duration) async throws
        -> HTTPClientResponse
    {
        do {
            return try await client.execute(request, timeout: .nanoseconds(deadline.nanosecondsRoundedUp))
        } catch ChannelError.ioOnClosedChannel {
            return try await client.execute(request, timeout: .nanoseconds(deadline.nanosecondsRoundedUp))
        }
    }

    /// Sends to the endpoints in turn, from the one that answered last; returns the first answer
    /// and the index of the endpoint that gave it.
    private func send(
        _ path: String, payload: Data, client: HTTPClient, deadline: Duration, headers: [(String, String)] = []
    ) async throws -> (response: HTTPClientResponse, endpoint: Int) {
        let first = preferred.withLock { $0 }
        var lastError: (any Error)?
        for attempt in 0..<endpoints.count {
            let index = (first + attempt) % endpoints.count
            let request = post(path, to: index, payload: payload, headers: headers)
            do {
                let response = try await execute(request, on: client, deadline: deadline)
                heard(from: index)
                if attempt > 0 { preferred.withLock { $0 = index } }
                return (response, index)
            } catch {
                if Task.isCancelled { throw error }
                lastError = error
            }
        }
        throw CoordinationError.failure(
            "etcd: no endpoint answered \(path): \(lastError.map { "\($0)" } ?? "no endpoints")")
    }

    /// A gateway call: a POST of `payload` as JSON to `path` on the endpoint at `index`.
    private func post(_ path: String, to index: Int, payload: Data, headers: [(String, String)] = [])
        -> HTTPClientRequest
    {
        var request = HTTPClientRequest(url: endpoints[index] + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: payload))
        return request
    }
}
#endif
