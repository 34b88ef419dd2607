import Foundation
import Testing

/// `beacon-master-worker` refuses bad option values while parsing: exit 64, nothing on stdout,
/// a message naming the option and what it accepts. The rows are the cases (counts
/// that crashed with "failed to allocate", `--duration=-1` that ran forever, the old
/// `--seconds` and `--heartbeat-milliseconds`, the raw Cocoa error of `--directory /proc/x`)
/// and their neighbours: negative, zero, huge, non-numeric, missing unit, empty, unknown.
@Suite struct MasterWorkerToolBadInputTests {
    /// A database path in a folder that exists; no row gets far enough to create it.
    static let database = FileManager.default.temporaryDirectory.appendingPathComponent(
        "beacon-tool-tests-\(UUID()).sqlite"
    ).path

    /// A folder that does not exist, whose parent does not either.
    static let missing = FileManager.default.temporaryDirectory.appendingPathComponent("beacon-tool-tests-\(UUID())/a")
        .path

    static func run(_ arguments: String...) -> [String] { ["run", "--database", database] + arguments }

    static let durationSyntax = "(ms, s, m, h)"

    static let runRows: [RejectedInput] = [
        .init(run("--duration=-1"), ["--duration", "no sign", "1ms to 1000000000s"]),
        .init(run("--duration=-1s"), ["--duration", "no sign", "1ms to 1000000000s"]),
        .init(run("--duration", "30"), ["--duration", durationSyntax, "1ms to 1000000000s"]),
        .init(run("--duration", "99999999999h"), ["--duration", "out of range", "1ms to 1000000000s"]),
        .init(run("--duration", "0s"), ["--duration", "out of range", "1ms to 1000000000s"]),
        .init(run("--duration", "0.5ms"), ["--duration", "finer than a millisecond"]),
        .init(run("--duration", "1e3s"), ["--duration", durationSyntax]),
        .init(run("--duration", "5 s"), ["--duration", durationSyntax]),
        .init(run("--duration", "inf"), ["--duration", durationSyntax]),
        .init(run("--duration", ""), ["--duration", "empty", durationSyntax]),
        .init(run("--workers", "0"), ["--workers", "1...10000"]),
        .init(run("--workers", "10001"), ["--workers", "1...10000"]),
        .init(run("--workers", "100000000000"), ["--workers", "1...10000"]),
        .init(run("--workers", "99999999999999999999999"), ["--workers", "1...10000"]),
        .init(run("--workers=-1"), ["--workers", "1...10000"]),
        .init(run("--workers", "ten"), ["--workers", "1...10000"]),
        .init(run("--workers", "5.0"), ["--workers", "1...10000"]),
        .init(run("--heartbeat-interval", "0s"), ["--heartbeat-interval", "1ms to 10m"]),
        .init(run("--heartbeat-interval", "50"), ["--heartbeat-interval", durationSyntax]),
        .init(run("--heartbeat-interval", "11m"), ["--heartbeat-interval", "1ms to 10m"]),
        .init(run("--heartbeat-interval=-50ms"), ["--heartbeat-interval", "no sign"]),
        .init(run("--pause=-1ms"), ["--pause", "no sign", "0s to 1h"]),
        .init(run("--pause", "2h"), ["--pause", "0s to 1h"]),
        .init(run("--pause", "10"), ["--pause", durationSyntax]),
        .init(run("--seconds", "40"), ["Unknown option '--seconds'"]),
        .init(run("--heartbeat-milliseconds", "50"), ["Unknown option '--heartbeat-milliseconds'"]),
        .init(run("--pause-milliseconds", "10"), ["Unknown option '--pause-milliseconds'"]),
        .init(run("--bogus"), ["Unknown option '--bogus'"]),
        .init(run("--master", ""), ["--master", "must not be empty"]),
        .init(run("--master", String(repeating: "m", count: 257)), ["--master", "at most 256"]),
        // The longest worker name, <master>-w49, must fit too.
        .init(run("--master", String(repeating: "m", count: 253)), ["--master", "at most 256"]),
        .init(run("--master", "a\u{7}b"), ["--master", "control characters"]),
        .init(["run"], ["--database"]),
        .init(["run", "--database", ""], ["--database", "empty"]),
        .init(["run", "--database", "/"], ["--database", "is a folder"]),
        .init(["run", "--database", missing + "/b.sqlite"], ["--database", missing, "does not exist"]),
        .init(
            ["run", "--database", "/proc/beacon.sqlite", "--duration", "1s"], ["--database", "/proc/beacon.sqlite"]),
    ]

    static let heartbeatsRows: [RejectedInput] = [
        .init(["bench", "heartbeats", "--workers", "100000000000"], ["--workers", "1...10000000"]),
        .init(["bench", "heartbeats", "--workers", "0"], ["--workers", "1...10000000"]),
        .init(["bench", "heartbeats", "--workers=-5"], ["--workers", "1...10000000"]),
        .init(
            ["bench", "heartbeats", "--workers", "10000000", "--duration", "24h"],
            ["--workers", "--duration", "200000000"]),
        .init(["bench", "heartbeats", "--duration", "0s"], ["--duration", "1s to 24h"]),
        .init(["bench", "heartbeats", "--duration", "25h"], ["--duration", "1s to 24h"]),
        .init(["bench", "heartbeats", "--duration", "60"], ["--duration", durationSyntax]),
        .init(["bench", "heartbeats", "--seconds", "60"], ["Unknown option '--seconds'"]),
        .init(["bench", "heartbeats", "--stopped-percent", "101"], ["--stopped-percent", "[0, 100]"]),
        .init(["bench", "heartbeats", "--stopped-percent=-1"], ["--stopped-percent", "[0, 100]"]),
        .init(["bench", "heartbeats", "--stopped-percent", "nan"], ["--stopped-percent", "[0, 100]"]),
        .init(["bench", "heartbeats", "--stopped-percent", "1e1"], ["--stopped-percent", "[0, 100]"]),
        .init(["bench", "heartbeats", "--seed=-1"], ["--seed", "0...9223372036854775807"]),
        .init(["bench", "heartbeats", "--seed", "99999999999999999999"], ["--seed", "0...9223372036854775807"]),
    ]

    static let masterRows: [RejectedInput] = [
        .init(["bench", "master", "--workers", "100000000000"], ["--workers", "1...1000000"]),
        .init(["bench", "master", "--workers", "0"], ["--workers", "1...1000000"]),
        .init(["bench", "master", "--duration", "29s"], ["--duration", "30s to 24h"]),
        .init(["bench", "master", "--duration", "40"], ["--duration", durationSyntax]),
        .init(["bench", "master", "--seconds", "40"], ["Unknown option '--seconds'"]),
        .init(["bench", "master", "--stopped-percent", "100.5"], ["--stopped-percent", "[0, 100]"]),
    ]

    static let statusRows: [RejectedInput] = [
        .init(["bench", "status", "--rate", "100000000000", "--duration", "1s"], ["--rate", "1...1000000"]),
        .init(["bench", "status", "--rate", "0"], ["--rate", "1...1000000"]),
        .init(["bench", "status", "--rate=-10"], ["--rate", "1...1000000"]),
        .init(["bench", "status", "--workers", "100000000000", "--duration", "1s"], ["--workers", "1...1000000"]),
        .init(["bench", "status", "--workers", "0"], ["--workers", "1...1000000"]),
        .init(["bench", "status", "--rate", "1000000", "--duration", "1h"], ["--rate", "--duration", "3000000"]),
        .init(["bench", "status", "--duration", "50ms"], ["--duration", "100ms to 1h"]),
        .init(["bench", "status", "--duration", "2h"], ["--duration", "100ms to 1h"]),
        .init(["bench", "status", "--seconds", "1"], ["Unknown option '--seconds'"]),
        .init(
            ["bench", "status", "--directory", "/proc/beacon-status", "--duration", "100ms"],
            ["--directory", "/proc/beacon-status"]),
        .init(["bench", "status", "--directory", missing + "/b"], ["--directory", missing, "does not exist"]),
        .init(["bench", "status", "--directory", ""], ["--directory", "empty"]),
        .init(["bench", "status", "--directory", "/etc/passwd"], ["--directory", "not a folder"]),
        .init(["bench", "nosuch"], ["nosuch"]),
        .init(["--bogus"], ["--bogus"]),
    ]

    @Test(arguments: runRows + heartbeatsRows + masterRows + statusRows)
    func rejected(_ row: RejectedInput) async throws {
        try await expectRejected("beacon-master-worker", row.arguments, mentioning: row.mentioning)
    }

    /// `--directory /nonexistent/a/b` used to create the whole path.
    @Test func aMissingParentFolderIsNotCreated() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("beacon-tool-tests-\(UUID())")
        try await expectRejected(
            "beacon-master-worker", ["bench", "status", "--directory", root.appendingPathComponent("a/b").path],
            mentioning: ["--directory", "does not exist"])
        #expect(!FileManager.default.fileExists(atPath: root.path))
    }
}
