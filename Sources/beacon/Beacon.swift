import ArgumentParser

@main
struct Beacon: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "beacon",
        abstract: "Beacon: heartbeats and placement for cluster managers.",
        subcommands: [
            Bench.self, Simulate.self, SchedulerCommand.self, ServeCommand.self, AgentCommand.self, LoadgenCommand.self,
        ]
    )
}

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure Beacon's core structures.",
        subcommands: [BenchPlacers.self, BenchHeartbeat.self, BenchDiff.self, BenchPlacement.self]
    )
}
