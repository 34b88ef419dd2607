// swift-tools-version: 6.1
import PackageDescription

// The core and its tests build on the standard library alone. The dispatcher layer adds swift-log
// and swift-metrics, and BeaconLifecycle swift-service-lifecycle; the command-line tool adds
// swift-argument-parser and a small C malloc counter. Network layers (gRPC, HTTP clients) stay out of this
// graph so `swift build` and the main benchmark command finish in about a minute on two cores: the
// etcd backend's AsyncHTTPClient is built only with the `Etcd` trait (`swift build --traits Etcd`),
// and the dispatcher's gRPC service, the node agent and `beacon serve | agent | loadgen` only with
// the `GRPC` trait (grpc-swift-2, SwiftNIO, swift-nio-ssl; about 6 minutes of first build).
let strictSwift: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "beacon",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "BeaconCore", targets: ["BeaconCore"]),
        .library(name: "BeaconDispatcher", targets: ["BeaconDispatcher"]),
        .library(name: "BeaconLifecycle", targets: ["BeaconLifecycle"]),
        .library(name: "BeaconScheduler", targets: ["BeaconScheduler"]),
        .library(name: "BeaconCoordination", targets: ["BeaconCoordination"]),
        .library(name: "BeaconCoordinationEtcd", targets: ["BeaconCoordinationEtcd"]),
        .library(name: "BeaconDispatcherCoordination", targets: ["BeaconDispatcherCoordination"]),
        .library(name: "BeaconClient", targets: ["BeaconClient"]),
        .library(name: "BeaconPlacement", targets: ["BeaconPlacement"]),
        .library(name: "BeaconMasterWorker", targets: ["BeaconMasterWorker"]),
        .library(name: "BeaconMasterWorkerSQLite", targets: ["BeaconMasterWorkerSQLite"]),
        .library(name: "BeaconDispatcherAPI", targets: ["BeaconDispatcherAPI"]),
        .library(name: "BeaconDispatcherService", targets: ["BeaconDispatcherService"]),
        .library(name: "BeaconAgent", targets: ["BeaconAgent"]),
        .library(name: "BeaconDispatcherLeadership", targets: ["BeaconDispatcherLeadership"]),
        .library(name: "BeaconSimulation", targets: ["BeaconSimulation"]),
        .executable(name: "beacon", targets: ["beacon"]),
        .executable(name: "beacon-master-worker", targets: ["beacon-master-worker"]),
    ],
    traits: [
        .trait(
            name: "Etcd",
            description:
                "The etcd backend of BeaconCoordination (AsyncHTTPClient, SwiftNIO), `beacon scheduler join --etcd` and `beacon serve --etcd`."
        ),
        .trait(
            name: "GRPC",
            description:
                "The dispatcher as a gRPC service, the node agent, and `beacon serve | agent | loadgen` (grpc-swift-2)."
        ),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/ordo-one/malloc-interposer", from: "1.6.1"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-http2", from: "1.46.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        // `beacon serve --metrics` only (GRPC trait): the Prometheus registry behind swift-metrics.
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // `swift package generate-documentation` only: a command plugin adds nothing to `swift build`.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // The concurrency primitives every module shares: one mutex that ThreadSanitizer sees, the
        // wake-up, latch and mailbox family, one back-off. `package` API only; not a product.
        .target(
            name: "BeaconPrimitives",
            swiftSettings: strictSwift
        ),
        // What Swift does not reach by itself (C): the CPU a thread runs on, prefetch hints, the
        // jump hash's loop compiled for SSE4.1, and the agents' datagram sockets. The core's
        // inlinable jump lookup calls into it, so clients load it with BeaconCore. Not a product.
        .target(name: "BeaconSystemShims"),
        .target(
            name: "BeaconCore",
            dependencies: ["BeaconPrimitives", "BeaconSystemShims"],
            swiftSettings: strictSwift + [
                .define("BEACON_INVARIANTS", .when(configuration: .debug))
            ]
        ),
        .target(
            name: "BeaconDispatcher",
            dependencies: [
                "BeaconCore",
                "BeaconPrimitives",
                "BeaconSystemShims",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strictSwift
        ),
        // swift-service-lifecycle brings swift-async-algorithms and swift-collections, which would
        // double the command-line tool's build; only services that run under a ServiceGroup need it.
        .target(
            name: "BeaconLifecycle",
            dependencies: [
                "BeaconCore",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSwift
        ),
        // The store the layers coordinate through (etcd's v3 model) and its embedded backend:
        // the scheduler and the dispatcher build on it alike.
        .target(
            name: "BeaconCoordination",
            dependencies: [
                "BeaconCore",
                "BeaconPrimitives",
            ],
            swiftSettings: strictSwift
        ),
        .target(
            name: "BeaconScheduler",
            dependencies: [
                "BeaconCore",
                "BeaconPrimitives",
                "BeaconCoordination",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift
        ),
        .target(
            name: "BeaconClient",
            dependencies: [
                "BeaconCore",
                "BeaconPrimitives",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift
        ),
        .target(
            name: "BeaconPlacement",
            dependencies: [
                "BeaconCore",
                "BeaconPrimitives",
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: strictSwift
        ),
        // TiFlow's master/worker protocol, liveness and runtimes, with the store as a protocol: no
        // SQLite here, so the message fuzzer and anything that only speaks the protocol build
        // without GRDB.
        .target(
            name: "BeaconMasterWorker",
            dependencies: [
                "BeaconCore",
                "BeaconPrimitives",
            ],
            swiftSettings: strictSwift
        ),
        // The SQLite store (GRDB costs about a minute of release build): only this target, the
        // master/worker tests and their own command-line tool depend on it, so the `beacon` tool
        // and the fuzzers stay light.
        .target(
            name: "BeaconMasterWorkerSQLite",
            dependencies: [
                "BeaconCore",
                "BeaconPrimitives",
                "BeaconMasterWorker",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strictSwift
        ),
        // Without the `Etcd` trait this target compiles to nothing and pulls in no HTTP client.
        .target(
            name: "BeaconCoordinationEtcd",
            dependencies: [
                "BeaconCore",
                "BeaconPrimitives",
                "BeaconCoordination",
                .product(name: "AsyncHTTPClient", package: "async-http-client", condition: .when(traits: ["Etcd"])),
                .product(name: "NIOCore", package: "swift-nio", condition: .when(traits: ["Etcd"])),
                .product(name: "NIOHTTP1", package: "swift-nio", condition: .when(traits: ["Etcd"])),
            ],
            swiftSettings: strictSwift
        ),
        // The dispatcher's store kept in a coordination store (etcd or in memory), so that its
        // nodes, tasks and statuses outlive the leader. Foundation's JSON for the records.
        .target(
            name: "BeaconDispatcherCoordination",
            dependencies: [
                "BeaconCore",
                "BeaconPrimitives",
                "BeaconCoordination",
                "BeaconDispatcher",
            ],
            swiftSettings: strictSwift
        ),
        // The generated protobuf messages and gRPC stubs of dispatcher.proto (see generate.sh there).
        // This and the two targets below compile to nothing without the `GRPC` trait.
        .target(
            name: "BeaconDispatcherAPI",
            dependencies: [
                "BeaconCore",
                "BeaconDispatcher",
                .product(name: "GRPCCore", package: "grpc-swift-2", condition: .when(traits: ["GRPC"])),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf", condition: .when(traits: ["GRPC"])),
                .product(name: "SwiftProtobuf", package: "swift-protobuf", condition: .when(traits: ["GRPC"])),
            ],
            exclude: ["dispatcher.proto", "generate.sh"],
            swiftSettings: strictSwift
        ),
        .target(
            name: "BeaconDispatcherService",
            dependencies: [
                "BeaconCore",
                "BeaconPrimitives",
                "BeaconDispatcher",
                "BeaconDispatcherAPI",
                "BeaconSystemShims",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRPCCore", package: "grpc-swift-2", condition: .when(traits: ["GRPC"])),
                .product(
                    name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport",
                    condition: .when(traits: ["GRPC"])),
                .product(name: "X509", package: "swift-certificates", condition: .when(traits: ["GRPC"])),
                .product(
                    name: "ServiceLifecycle", package: "swift-service-lifecycle", condition: .when(traits: ["GRPC"])),
                .product(name: "NIOCore", package: "swift-nio", condition: .when(traits: ["GRPC"])),
                .product(name: "NIOPosix", package: "swift-nio", condition: .when(traits: ["GRPC"])),
                .product(name: "NIOHTTP2", package: "swift-nio-http2", condition: .when(traits: ["GRPC"])),
                .product(name: "NIOHPACK", package: "swift-nio-http2", condition: .when(traits: ["GRPC"])),
                .product(name: "NIOSSL", package: "swift-nio-ssl", condition: .when(traits: ["GRPC"])),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strictSwift
        ),
        // `beacon serve --metrics`: swift-prometheus as the swift-metrics backend and a small
        // SwiftNIO HTTP/1.1 server for `GET /metrics`. Only with the GRPC trait, whose graph
        // already holds SwiftNIO; without it the module is empty and swift-prometheus unbuilt.
        .target(
            name: "BeaconMetricsEndpoint",
            dependencies: [
                "BeaconDispatcher",
                .product(name: "Prometheus", package: "swift-prometheus", condition: .when(traits: ["GRPC"])),
                .product(name: "CoreMetrics", package: "swift-metrics", condition: .when(traits: ["GRPC"])),
                .product(name: "NIOCore", package: "swift-nio", condition: .when(traits: ["GRPC"])),
                .product(name: "NIOPosix", package: "swift-nio", condition: .when(traits: ["GRPC"])),
                .product(name: "NIOHTTP1", package: "swift-nio", condition: .when(traits: ["GRPC"])),
                .product(
                    name: "ServiceLifecycle", package: "swift-service-lifecycle", condition: .when(traits: ["GRPC"])),
            ],
            swiftSettings: strictSwift
        ),
        .target(
            name: "BeaconAgent",
            dependencies: [
                "BeaconCore",
                "BeaconPrimitives",
                "BeaconSystemShims",
                "BeaconDispatcher",
                "BeaconClient",
                "BeaconDispatcherAPI",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRPCCore", package: "grpc-swift-2", condition: .when(traits: ["GRPC"])),
                .product(
                    name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport",
                    condition: .when(traits: ["GRPC"])),
                .product(name: "NIOCore", package: "swift-nio", condition: .when(traits: ["GRPC"])),
                .product(name: "NIOPosix", package: "swift-nio", condition: .when(traits: ["GRPC"])),
            ],
            swiftSettings: strictSwift
        ),
        // The command-line tools' value parsers (durations, lists, ranges): plain functions with
        // typed errors, shared by both tools and fuzzed by CommandLineFuzz.
        .target(
            name: "BeaconCommandLine",
            dependencies: ["BeaconCore"],
            swiftSettings: strictSwift
        ),
        // The ArgumentParser side of those parsers, shared by both tools: the one duration option
        // type, `@Option(transform:)` parsers with per-option ranges, the option-error helper.
        // Apart from BeaconCommandLine so the fuzzer builds without ArgumentParser.
        .target(
            name: "BeaconCommandLineOptions",
            dependencies: [
                "BeaconCommandLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSwift
        ),
        // Timing, CPU-time and percentile helpers shared by the two command-line tools.
        .target(
            name: "BenchmarkSupport",
            swiftSettings: strictSwift
        ),
        // The benchmark reports' pages and their one chart helper (axes with round ticks, a
        // fixed palette, legends), apart from the tool so tests render pages from fixtures.
        .target(
            name: "BeaconReports",
            swiftSettings: strictSwift
        ),
        // A dispatcher that leads only while a scheduling group chooses it (`beacon serve
        // --etcd`): the scheduler and the dispatcher, nothing of the network.
        .target(
            name: "BeaconDispatcherLeadership",
            dependencies: [
                "BeaconCore",
                "BeaconPrimitives",
                "BeaconDispatcher",
                "BeaconDispatcherCoordination",
                "BeaconScheduler",
                "BeaconCoordination",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift
        ),
        // The dispatcher and placement simulations behind `beacon simulate` and `beacon bench
        // placement`. No network dependency: the main benchmark command builds it.
        .target(
            name: "BeaconSimulation",
            dependencies: [
                "BeaconCore",
                "BeaconPrimitives",
                "BeaconDispatcher",
                "BeaconCoordination",
                "BeaconDispatcherCoordination",
                "BeaconPlacement",
                "BenchmarkSupport",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift
        ),
        .executableTarget(
            name: "beacon",
            dependencies: [
                "BeaconCore",
                "BeaconPrimitives",
                "BeaconSystemShims",
                "BenchmarkSupport",
                "BeaconCommandLine",
                "BeaconCommandLineOptions",
                "BeaconReports",
                "BeaconDispatcher",
                "BeaconDispatcherLeadership",
                "BeaconScheduler",
                "BeaconSimulation",
                "BeaconCoordination",
                "BeaconCoordinationEtcd",
                "BeaconDispatcherCoordination",
                "BeaconClient",
                "BeaconPlacement",
                "BeaconDispatcherService",
                "BeaconAgent",
                "BeaconDispatcherAPI",
                .byName(name: "BeaconLifecycle", condition: .when(traits: ["GRPC"])),
                .byName(name: "BeaconMetricsEndpoint", condition: .when(traits: ["GRPC"])),
                .product(name: "Metrics", package: "swift-metrics", condition: .when(traits: ["GRPC"])),
                .product(name: "GRPCCore", package: "grpc-swift-2", condition: .when(traits: ["GRPC"])),
                .product(
                    name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport",
                    condition: .when(traits: ["GRPC"])),
                .product(
                    name: "ServiceLifecycle", package: "swift-service-lifecycle", condition: .when(traits: ["GRPC"])),
                .product(name: "NIOCore", package: "swift-nio", condition: .when(traits: ["GRPC"])),
                .product(name: "NIOPosix", package: "swift-nio", condition: .when(traits: ["GRPC"])),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MallocInterposerSwift", package: "malloc-interposer"),
            ],
            swiftSettings: strictSwift
        ),
        .executableTarget(
            name: "beacon-master-worker",
            dependencies: [
                "BeaconCore",
                "BeaconReports",
                "BenchmarkSupport",
                "BeaconCommandLine",
                "BeaconCommandLineOptions",
                "BeaconMasterWorker",
                "BeaconMasterWorkerSQLite",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSwift
        ),
        .executableTarget(
            name: "RingFuzz",
            dependencies: ["BeaconCore"],
            path: "Fuzz/RingFuzz",
            swiftSettings: strictSwift
        ),
        .executableTarget(
            name: "HeartbeatFuzz",
            dependencies: ["BeaconCore"],
            path: "Fuzz/HeartbeatFuzz",
            swiftSettings: strictSwift
        ),
        .executableTarget(
            name: "DiffFuzz",
            dependencies: ["BeaconCore"],
            path: "Fuzz/DiffFuzz",
            swiftSettings: strictSwift
        ),
        .executableTarget(
            name: "DispatcherRequestFuzz",
            dependencies: ["BeaconDispatcher"],
            path: "Fuzz/DispatcherRequestFuzz",
            swiftSettings: strictSwift
        ),
        .executableTarget(
            name: "HeartbeatDatagramFuzz",
            dependencies: ["BeaconDispatcher"],
            path: "Fuzz/HeartbeatDatagramFuzz",
            swiftSettings: strictSwift
        ),
        .executableTarget(
            name: "EtcdResponseFuzz",
            dependencies: ["BeaconCoordinationEtcd"],
            path: "Fuzz/EtcdResponseFuzz",
            swiftSettings: strictSwift
        ),
        .executableTarget(
            name: "AgentStreamFuzz",
            dependencies: ["BeaconAgent"],
            path: "Fuzz/AgentStreamFuzz",
            swiftSettings: strictSwift
        ),
        .executableTarget(
            name: "MasterWorkerMessageFuzz",
            dependencies: ["BeaconMasterWorker"],
            path: "Fuzz/MasterWorkerMessageFuzz",
            swiftSettings: strictSwift
        ),
        .executableTarget(
            name: "CommandLineFuzz",
            dependencies: ["BeaconCommandLine"],
            path: "Fuzz/CommandLineFuzz",
            swiftSettings: strictSwift
        ),
        // The committed fuzz inputs, for the test targets that replay them through their harnesses.
        .target(
            name: "FuzzReplay",
            path: "Tests/FuzzReplay",
            swiftSettings: strictSwift
        ),
        // Starts an etcd of a test's own on loopback (the scheduler's and the dispatcher store's
        // etcd suites); empty without the `Etcd` trait.
        .target(
            name: "EtcdTestSupport",
            path: "Tests/EtcdTestSupport",
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "BeaconCoreTests",
            dependencies: [
                "FuzzReplay",
                "BeaconCore",
                "BeaconPrimitives",
                "BeaconSystemShims",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "BeaconDispatcherTests",
            dependencies: [
                "BeaconPrimitives",
                "FuzzReplay",
                "BeaconDispatcher",
                "BeaconLifecycle",
                "BeaconCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strictSwift
        ),
        // SwarmKit's dispatcher tests (seed spec A16) as a user writes them: the public API only,
        // on a manual clock.
        .testTarget(
            name: "BeaconDispatcherCoordinationTests",
            dependencies: [
                "BeaconDispatcherCoordination",
                "BeaconCoordination",
                "BeaconCoordinationEtcd",
                "BeaconPrimitives",
                "EtcdTestSupport",
                "BeaconDispatcher",
                "BeaconCore",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "BeaconDispatcherUserTests",
            dependencies: ["BeaconDispatcher", "BeaconCore"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "BeaconSimulationTests",
            dependencies: ["BeaconSimulation", "BeaconPlacement", "BeaconDispatcher", "BeaconCore"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "BeaconDispatcherLeadershipTests",
            dependencies: [
                "BeaconDispatcherLeadership", "BeaconScheduler", "BeaconCoordination", "BeaconDispatcher",
                "BeaconDispatcherCoordination", "BeaconCore", "BeaconPrimitives", "BeaconCoordinationEtcd",
                "EtcdTestSupport",
            ],
            swiftSettings: strictSwift
        ),
        // Every long-running service under one ServiceGroup through the one adapter.
        .testTarget(
            name: "BeaconLifecycleTests",
            dependencies: [
                "BeaconLifecycle",
                "BeaconCore",
                "BeaconDispatcher",
                "BeaconClient",
                "BeaconMasterWorker",
                "BeaconMasterWorkerSQLite",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "BeaconClientTests",
            dependencies: [
                "BeaconClient",
                "BeaconAgent",
                "BeaconLifecycle",
                "BeaconCore",
                "BeaconDispatcher",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "BeaconPlacementTests",
            dependencies: [
                "BeaconPrimitives",
                "BeaconPlacement",
                "BeaconCore",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "BeaconMasterWorkerTests",
            dependencies: [
                "FuzzReplay",
                "BeaconMasterWorker",
                "BeaconMasterWorkerSQLite",
                "BeaconCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "BeaconServiceTests",
            dependencies: [
                "BeaconPrimitives",
                "EtcdTestSupport",
                "BeaconCoordinationEtcd",
                "BeaconDispatcherCoordination",
                "FuzzReplay",
                "BeaconDispatcherService",
                "BeaconAgent",
                "BeaconDispatcherAPI",
                "BeaconDispatcher",
                "BeaconClient",
                "BeaconCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRPCCore", package: "grpc-swift-2", condition: .when(traits: ["GRPC"])),
                .product(
                    name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport",
                    condition: .when(traits: ["GRPC"])),
                .product(name: "X509", package: "swift-certificates", condition: .when(traits: ["GRPC"])),
                .product(name: "Crypto", package: "swift-crypto", condition: .when(traits: ["GRPC"])),
                .product(name: "SwiftASN1", package: "swift-asn1", condition: .when(traits: ["GRPC"])),
                .product(
                    name: "ServiceLifecycle", package: "swift-service-lifecycle", condition: .when(traits: ["GRPC"])),
                .byName(name: "BeaconMetricsEndpoint", condition: .when(traits: ["GRPC"])),
                .product(name: "Metrics", package: "swift-metrics", condition: .when(traits: ["GRPC"])),
                .product(name: "Prometheus", package: "swift-prometheus", condition: .when(traits: ["GRPC"])),
                .product(name: "NIOCore", package: "swift-nio", condition: .when(traits: ["GRPC"])),
                .product(name: "NIOPosix", package: "swift-nio", condition: .when(traits: ["GRPC"])),
                .product(name: "NIOEmbedded", package: "swift-nio", condition: .when(traits: ["GRPC"])),
                .product(name: "NIOHTTP2", package: "swift-nio-http2", condition: .when(traits: ["GRPC"])),
                .product(name: "NIOHPACK", package: "swift-nio-http2", condition: .when(traits: ["GRPC"])),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf", condition: .when(traits: ["GRPC"])),
            ],
            swiftSettings: strictSwift
        ),
        // Both command-line tools run as processes (bad-input tables, help texts, reports in a
        // browser): the tests find the executables that `swift build --build-tests` puts beside the
        // bundle, render report fixtures with BeaconReports, and lock with the PosixMutex that
        // ThreadSanitizer sees.
        .testTarget(
            name: "BeaconToolTests",
            dependencies: ["BeaconReports", "BeaconPrimitives"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "BeaconCommandLineTests",
            dependencies: [
                "BeaconCommandLine",
                "FuzzReplay",
            ],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "BeaconSchedulerTests",
            dependencies: [
                "FuzzReplay",
                "BeaconScheduler",
                "BeaconCoordination",
                "BeaconCoordinationEtcd",
                "EtcdTestSupport",
                "BeaconCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strictSwift
        ),
    ],
    swiftLanguageModes: [.v6]
)
