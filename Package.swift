// swift-tools-version: 6.1
import PackageDescription

// The core and its tests build on the standard library alone; the command-line tool adds only
// swift-argument-parser and a small C malloc counter. Network layers (gRPC, HTTP clients) stay out of this
// graph so `swift build` and the main benchmark command finish in about a minute on two cores.
let strictSwift: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "beacon",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "BeaconCore", targets: ["BeaconCore"]),
        .executable(name: "beacon", targets: ["beacon"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/ordo-one/malloc-interposer", from: "1.6.1"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        .target(
            name: "BeaconCore",
            swiftSettings: strictSwift + [
                .define("BEACON_INVARIANTS", .when(configuration: .debug))
            ]
        ),
        .executableTarget(
            name: "beacon",
            dependencies: [
                "BeaconCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "MallocInterposerSwift", package: "malloc-interposer"),
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
        .testTarget(
            name: "BeaconCoreTests",
            dependencies: [
                "BeaconCore",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strictSwift
        ),
    ],
    swiftLanguageModes: [.v6]
)
