import Testing

/// Small runs that used to fail: defaults derived from another option, and key counts below the
/// 100 000 keys an allocation count once assumed.
@Suite struct BenchSmallRunTests {
    /// `--assignment-nodes` defaults to 1 000 streams, capped at `--nodes`: 500 nodes used to be
    /// refused for an option the user never gave.
    @Test func simulateDispatcherWithFewerNodesThanTheDefaultStreams() async throws {
        let arguments = ["simulate", "dispatcher", "--virtual-time", "--nodes", "500", "--duration", "30s"]
        let outcome = try await ToolProcess.run("beacon", arguments, timeout: .seconds(60))
        #expect(outcome.exitCode == 0 && !outcome.signalled, "\(outcome.standardError)")
        #expect(outcome.standardOutput.contains("assignments (500 streams"))
    }

    /// Three managers on one store: the report shows the shards, the handoff and the rejoin.
    @Test func simulateShardedDispatchersWithAKillAndARejoin() async throws {
        let arguments = [
            "simulate", "dispatcher", "--virtual-time", "--managers", "3", "--nodes", "600", "--duration", "60s",
            "--rejoin-after", "20s",
        ]
        let outcome = try await ToolProcess.run("beacon", arguments, timeout: .seconds(60))
        #expect(outcome.exitCode == 0 && !outcome.signalled, "\(outcome.standardError)")
        for section in ["shards once every manager joined", "handoff (m3 killed at 20.0 seconds", "rejoin (m3 back"] {
            #expect(outcome.standardOutput.contains(section), "\(outcome.standardOutput)")
        }
        #expect(!outcome.standardOutput.contains("MISSED"))
    }

    /// The load-aware placers counted allocations over the first 100 000 keys whatever `--keys`
    /// said, reading past the key buffer (a trap in a debug build) below that.
    @Test func benchPlacersWithFewKeysShowsTheKeyCountPerRow() async throws {
        let arguments = [
            "bench", "placers", "--members", "10", "--keys", "2048", "--repeats", "1", "--no-parallel",
            "--only", "power-of-two,bounded-load-requests,jump",
        ]
        let outcome = try await ToolProcess.run("beacon", arguments, timeout: .seconds(60))
        #expect(outcome.exitCode == 0 && !outcome.signalled, "\(outcome.standardError)")
        let rows = outcome.standardOutput.split(separator: "\n")
        #expect(rows.first?.split(separator: " ").prefix(3) == ["placer", "N", "keys"])
        // Every data row holds the key count; the load-aware ones show "-" for the ideal move.
        let data = rows.filter {
            $0.hasPrefix("jump") || $0.hasPrefix("power-of-two") || $0.hasPrefix("bounded-load-requests")
        }
        #expect(data.count == 3)
        for row in data {
            let cells = row.split(separator: " ")
            #expect(cells[2] == "2048", "\(row)")
            #expect(cells[10] == (row.hasPrefix("jump") ? "10.00%" : "-"), "\(row)")
        }
    }
}
