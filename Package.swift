// swift-tools-version:6.1
import PackageDescription

// Every target is Swift 6 with complete checking, plus the two upcoming features that
// Hummingbird and swift-jobs turn on (STYLE.md section 4).
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "jobd",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "jobd", targets: ["jobd"]),
        .executable(name: "jobctl", targets: ["jobctl"]),
        .library(name: "JobdClient", targets: ["JobdClient"]),
        .library(name: "JobdModel", targets: ["JobdModel"]),
    ],
    dependencies: [
        // Exact versions: the machine's package mirror holds only these.
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client", exact: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-configuration", exact: "1.4.0", traits: [.defaults, "YAML"]),
        // swift-configuration's YAML trait brings it; jobd reads with it what the snapshot
        // cannot hold: `limits.host_rates`, a map whose keys (host:port) hold dots and
        // colons, and `schedules:`, a list of mappings.
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        .package(url: "https://github.com/apple/swift-metrics", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-collections", exact: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
    ],
    targets: [
        .target(
            name: "JobdModel",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "JobdStore",
            dependencies: ["JobdModel", .product(name: "DequeModule", package: "swift-collections")],
            swiftSettings: swiftSettings
        ),
        // sqlite3_config, which Swift cannot call (variadic): process-wide SQLite settings.
        .target(
            name: "CSQLiteSetup",
            linkerSettings: [.linkedLibrary("sqlite3")]
        ),
        .target(
            name: "JobdStoreSQLite",
            dependencies: [
                "CSQLiteSetup",
                "JobdModel",
                "JobdStore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "JobdStorePostgres",
            dependencies: [
                "JobdModel",
                "JobdStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The store conformance suite: cases written once against the `JobStore` protocol,
        // run by each engine's test target (swift-jobs tests every driver with one set).
        .target(
            name: "JobdStoreConformance",
            dependencies: ["JobdModel", "JobdStore"],
            path: "Tests/JobdStoreConformance",
            swiftSettings: swiftSettings
        ),
        // Test helpers shared by test targets: a private PostgreSQL cluster per test process.
        .target(
            name: "JobdTestSupport",
            path: "Tests/JobdTestSupport",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "JobdRuntime",
            dependencies: [
                "JobdModel",
                "JobdStore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "JobdLoopback", swiftSettings: swiftSettings),
        .target(
            name: "JobdServer",
            dependencies: [
                "JobdModel",
                "JobdLoopback",
                "JobdStore",
                "JobdRuntime",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "JobdClient",
            dependencies: [
                "JobdModel",
                "JobdLoopback",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "JobctlOutput",
            dependencies: ["JobdModel", "JobdClient"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "JobdDaemon",
            dependencies: [
                "JobdModel",
                "JobdStore",
                "JobdRuntime",
                "JobdServer",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "jobd",
            dependencies: [
                "JobdDaemon",
                "JobdModel",
                "JobdStoreSQLite",
                "JobdStore",
                "JobdStorePostgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "jobctl",
            dependencies: [
                "JobdModel",
                "JobdClient",
                "JobctlOutput",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "JobdModelTests", dependencies: ["JobdModel"], exclude: ["Fixtures"], swiftSettings: swiftSettings),
        .testTarget(
            name: "JobdStoreSQLiteTests",
            dependencies: [
                "JobdModel", "JobdStore", "JobdStoreSQLite", "JobdStoreConformance",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "JobdStorePostgresTests",
            dependencies: [
                "JobdModel", "JobdStore", "JobdStorePostgres", "JobdStoreConformance", "JobdTestSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "JobdRuntimeTests",
            dependencies: [
                "JobdModel", "JobdStore", "JobdStoreSQLite", "JobdRuntime",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "JobdServerTests",
            dependencies: [
                "JobdModel", "JobdStore", "JobdStoreSQLite", "JobdRuntime", "JobdServer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "JobdDaemonTests",
            dependencies: [
                "JobdModel", "JobdStore", "JobdDaemon",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "JobdClientTests",
            dependencies: ["JobdModel", "JobdClient", "JobdLoopback"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "JobctlOutputTests",
            dependencies: ["JobdModel", "JobdClient", "JobctlOutput"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "JobdModel", "JobdClient", "JobdTestSupport", "jobd", "jobctl",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
