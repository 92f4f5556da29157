// swift-tools-version:6.2
import PackageDescription

let package = Package(
    name: "fluxbrain",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "fluxbrain", targets: ["fluxbrain"]),
        .executable(name: "fluxbrain-bench", targets: ["FluxbrainBenchmarks"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.30.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.25.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.1.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
    ],
    targets: [
        // hiredis 0.14 from Debian (`libhiredis-dev`).
        .systemLibrary(
            name: "CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        // The only code that touches hiredis pointers.
        .target(
            name: "FluxbrainRedis",
            dependencies: [
                "CHiredis",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // Domain types, fingerprint, detection, context building, ports with in-memory implementations.
        .target(
            name: "FluxbrainCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Leader lock, reliable queue and shared incident state in Redis.
        .target(
            name: "FluxbrainCoordination",
            dependencies: [
                "FluxbrainCore",
                "FluxbrainRedis",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // Kubernetes, snapshots, Errorbrain, Slack, webhook and GitHub over HTTP.
        .target(
            name: "FluxbrainIntegrations",
            dependencies: [
                "FluxbrainCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // Configuration, scheduler, workers, health and metrics server, composition.
        .target(
            name: "FluxbrainService",
            dependencies: [
                "FluxbrainCore",
                "FluxbrainCoordination",
                "FluxbrainIntegrations",
                "FluxbrainRedis",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // A fake Flux cluster (Kubernetes API over HTTP/HTTPS) and a webhook sink: the local testbed and tests.
        .target(
            name: "FluxbrainTestbed",
            dependencies: [
                "FluxbrainCore",
                "FluxbrainIntegrations",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "fluxbrain",
            dependencies: [
                "FluxbrainCoordination",
                "FluxbrainCore",
                "FluxbrainIntegrations",
                "FluxbrainRedis",
                "FluxbrainService",
                "FluxbrainTestbed",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "FluxbrainBenchmarks",
            dependencies: [
                "FluxbrainCore",
                "FluxbrainIntegrations",
                "FluxbrainRedis",
                "FluxbrainTestbed",
            ]
        ),
        // Fake Kubernetes, Errorbrain, Slack, webhook and GitHub servers and a redis-server runner.
        .target(
            name: "FluxbrainTestSupport",
            dependencies: [
                "FluxbrainCore",
                "FluxbrainRedis",
                "FluxbrainTestbed",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Tests/FluxbrainTestSupport"
        ),
        .testTarget(name: "FluxbrainRedisTests", dependencies: ["FluxbrainRedis", "FluxbrainTestSupport"]),
        .testTarget(name: "FluxbrainCoreTests", dependencies: ["FluxbrainCore", "FluxbrainTestSupport"]),
        .testTarget(
            name: "FluxbrainIntegrationsTests",
            dependencies: ["FluxbrainIntegrations", "FluxbrainTestSupport"]
        ),
        .testTarget(
            name: "FluxbrainCoordinationTests",
            dependencies: ["FluxbrainCoordination", "FluxbrainTestSupport"]
        ),
        .testTarget(
            name: "FluxbrainServiceTests",
            dependencies: [
                "FluxbrainCoordination", "FluxbrainCore", "FluxbrainRedis", "FluxbrainService", "FluxbrainTestSupport",
                "FluxbrainTestbed", .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]
        ),
    ]
)
