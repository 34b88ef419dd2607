import ArgumentParser

@main
struct MasterWorkerTool: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "beacon-master-worker",
        abstract: "Run and measure Beacon's epoch-fenced master/worker heartbeats (SQLite-backed).",
        subcommands: [RunJob.self, Bench.self]
    )
}

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure the master's heartbeat path and the status store.",
        subcommands: [BenchHeartbeats.self, BenchMaster.self, BenchStatus.self]
    )
}
