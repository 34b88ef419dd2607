// swift-tools-version: 6.1
import PackageDescription

// Its own package so the root package does not depend on the benchmark harness.
let package = Package(
    name: "BeaconBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "beacon", path: "../"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "PlacementBenchmarks",
            dependencies: [
                .product(name: "BeaconCore", package: "beacon"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/PlacementBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "HeartbeatBenchmarks",
            dependencies: [
                .product(name: "BeaconCore", package: "beacon"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/HeartbeatBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "TaskDiffBenchmarks",
            dependencies: [
                .product(name: "BeaconCore", package: "beacon"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/TaskDiffBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "DispatcherBenchmarks",
            dependencies: [
                .product(name: "BeaconDispatcher", package: "beacon"),
                .product(name: "BeaconCore", package: "beacon"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/DispatcherBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "ClientBenchmarks",
            dependencies: [
                .product(name: "BeaconClient", package: "beacon"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/ClientBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "CallPlacementBenchmarks",
            dependencies: [
                .product(name: "BeaconPlacement", package: "beacon"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/CallPlacementBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
