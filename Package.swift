// swift-tools-version:6.2
import PackageDescription

let package = Package(
    name: "fluxbrain",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "fluxbrain", targets: ["fluxbrain"]),
        .executable(name: "fluxbrain-testbed", targets: ["fluxbrain-testbed"]),
        .executable(name: "fluxbrain-bench", targets: ["FluxbrainBenchmarks"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // No traits: environment variables and in-memory values are all Fluxbrain reads (Hummingbird asks for none).
        .package(url: "https://github.com/apple/swift-configuration", from: "1.0.0", traits: []),
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
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.5.0"),
    ],
    targets: [
        // hiredis 0.14 from Debian (`libhiredis-dev`).
        .systemLibrary(
            name: "CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        // The one error shape (a generic error over a per-layer code), shared by FluxbrainRedis and FluxbrainCore,
        // which do not depend on each other. No dependencies.
        .target(name: "FluxbrainErrors"),
        // The only code that touches hiredis pointers.
        .target(
            name: "FluxbrainRedis",
            dependencies: [
                "CHiredis",
                "FluxbrainErrors",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // Domain types, fingerprint, detection, context building, ports with in-memory implementations.
        .target(
            name: "FluxbrainCore",
            dependencies: [
                "FluxbrainErrors",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            plugins: ["BuildRevisionPlugin"]
        ),
        // Writes the git revision being built into FluxbrainCore (`BuildInfo.revision`).
        .plugin(name: "BuildRevisionPlugin", capability: .buildTool()),
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
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
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
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
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
                .product(name: "Yams", package: "Yams"),
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
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // The testbed's fake cluster and webhook sink: not part of the product.
        .executableTarget(
            name: "fluxbrain-testbed",
            dependencies: [
                "FluxbrainService",
                "FluxbrainTestbed",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "FluxbrainBenchmarks",
            dependencies: [
                "FluxbrainCore",
                "FluxbrainIntegrations",
                "FluxbrainRedis",
                "FluxbrainTestbed",
                "FluxbrainTestSupport",  // LegacyRedactor and FluxMessageGenerator for `redaction`
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
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
                "FluxbrainCoordination", "FluxbrainCore", "FluxbrainIntegrations", "FluxbrainRedis", "FluxbrainService",
                "FluxbrainTestSupport", "FluxbrainTestbed",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]
        ),
    ]
)
