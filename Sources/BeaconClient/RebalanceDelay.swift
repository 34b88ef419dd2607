/// Consul's rebalance interval: at least 120 s plus up to 60 s of jitter, and long enough that
/// the whole cluster reconnects at no more than 64 connections per second per server.
public enum RebalanceDelay {
    /// The shortest interval before jitter (Consul's `clientRPCMinReuseDuration`).
    public static let minimum: Duration = .seconds(120)
    /// The jitter's range: `minimum / 2`.
    public static let maximumJitter: Duration = .seconds(60)
    /// Reconnections per second each server accepts (Consul's `newRebalanceConnsPerSecPerServer`).
    public static let connectionsPerSecondPerServer = 64

    /// `max(minimum + jitter, nodes / (64 × servers) s)`; with no servers, `minimum + jitter`.
    ///
    /// - Parameters:
    ///   - servers: the servers in the client's list.
    ///   - nodes: the nodes in the cluster, every one a client of those servers.
    ///   - jitter: in `0 ..< maximumJitter`; out-of-range values are clamped.
    public static func interval(servers: Int, nodes: Int, jitter: Duration) -> Duration {
        let low = minimum + min(max(jitter, .zero), maximumJitter)
        guard servers > 0, nodes > 0 else { return low }
        // So many servers that they would take the whole cluster back in under a nanosecond.
        let (rate, tooManyServers) = servers.multipliedReportingOverflow(by: connectionsPerSecondPerServer)
        guard !tooManyServers else { return low }
        // Whole nanoseconds, truncated, as Go's time.Duration arithmetic gives Consul's table.
        let nanoseconds = Int64(nodes).multipliedReportingOverflow(by: 1_000_000_000)
        let scaled: Duration =
            nanoseconds.overflow
            ? .seconds(Int64(nodes) / Int64(rate)) : .nanoseconds(nanoseconds.partialValue / Int64(rate))
        return max(low, scaled)
    }

    /// A jitter drawn uniformly from `0 ..< maximumJitter`.
    static func randomJitter(using random: inout some RandomNumberGenerator) -> Duration {
        .nanoseconds(Int64.random(in: 0..<60_000_000_000, using: &random))
    }
}
