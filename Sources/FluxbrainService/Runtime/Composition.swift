import AsyncHTTPClient
import FluxbrainCoordination
import FluxbrainCore
import FluxbrainIntegrations
import FluxbrainRedis
import Foundation
import Logging
import ServiceLifecycle

/// How the console channel prints (`fluxbrain once --output`).
package enum ConsoleFormat: String, Sendable, CaseIterable {
    /// Readable reports (the default channel when nothing else is configured).
    case text
    /// One JSON object per notification per line.
    case json
}

/// Builds every part of a run from the configuration: the one composition function; no singletons.
package enum Composition {
    /// Builds the parts shared by `run` and `once`, runs `body` with them, and closes everything they opened (the
    /// HTTP clients, the Redis client) when `body` returns or throws: callers have nothing to remember.
    ///
    /// - Parameters:
    ///   - snapshot: read incidents from a snapshot instead of Kubernetes (`--snapshot`).
    ///   - console: how the console channel prints, or `nil` to use only the configured channels.
    package static func withParts<T>(
        configuration: FluxbrainConfiguration,
        snapshot: SnapshotSource.Input?,
        console: ConsoleFormat?,
        mode: FluxbrainConfiguration.RunMode,
        logger: Logger,
        _ body: (RuntimeParts) async throws -> T
    ) async throws -> T {
        try await withHTTPClients(HTTPClients(proxies: configuration.proxies)) { httpClients in
            try await withHTTPClients(HTTPClients.kubernetes()) { kubeHTTPClients in
                try await withState(configuration: configuration, logger: logger) { state in
                    let parts = try makeParts(
                        configuration: configuration,
                        snapshot: snapshot,
                        console: console,
                        mode: mode,
                        state: state,
                        httpClients: httpClients,
                        kubeHTTPClients: kubeHTTPClients,
                        logger: logger
                    )
                    return try await body(parts)
                }
            }
        }
    }

    /// `fluxbrain once --dry-run`: collection, detection, folding and routing, and nothing else. No notifier and
    /// no Errorbrain client is built and no shared state is written: nothing is sent anywhere.
    ///
    /// - Returns: every incident with its routing decision, and what could not be read.
    package static func dryRun(
        configuration: FluxbrainConfiguration,
        snapshot: SnapshotSource.Input?,
        silences: any SilenceStore,
        logger: Logger
    ) async throws -> (decisions: [(incident: Incident, decision: RoutingDecision)], unread: [String]) {
        let detector = Detector(stuckAfter: configuration.stuckAfter, gitHosts: configuration.gitHosts)
        let now = Date()
        let assessment: SourceAssessment
        if let snapshot {
            let source = SnapshotSource(
                input: snapshot,
                cluster: configuration.cluster ?? "snapshot",
                detector: detector
            )
            assessment = try await source.assess(now: now)
        } else {
            assessment = try await withHTTPClients(HTTPClients.kubernetes()) { clients in
                let source = try KubernetesSource.make(
                    configuration: configuration,
                    httpClients: clients,
                    detector: detector,
                    mode: .list,
                    logger: logger
                )
                return try await source.assess(now: now)
            }
        }
        let active = try await silences.active(at: now)
        let router = configuration.routing.router
        let decisions = assessment.clusters.flatMap(\.assessment.incidents).map { incident in
            (incident: incident, decision: router.decide(incident, silences: active, now: now))
        }
        return (decisions, assessment.unread)
    }

    /// Runs `body` with `clients` and shuts them down afterwards, also when `body` throws.
    package static func withHTTPClients<T>(
        _ clients: HTTPClients,
        _ body: (HTTPClients) async throws -> T
    )
        async throws -> T
    {
        let result: T
        do {
            result = try await body(clients)
        } catch {
            await clients.shutdown()
            throw error
        }
        await clients.shutdown()
        return result
    }

    private static func makeParts(
        configuration: FluxbrainConfiguration,
        snapshot: SnapshotSource.Input?,
        console: ConsoleFormat?,
        mode: FluxbrainConfiguration.RunMode,
        state: State,
        httpClients: HTTPClients,
        kubeHTTPClients: HTTPClients,
        logger: Logger
    ) throws -> RuntimeParts {
        let detector = Detector(stuckAfter: configuration.stuckAfter, gitHosts: configuration.gitHosts)

        // Where incidents come from.
        let source: any IncidentSource
        var services: [any Service] = []
        var clusterReadiness: (@Sendable () async -> [ReadinessCheck])?
        if let snapshot {
            source = SnapshotSource(input: snapshot, cluster: configuration.cluster ?? "snapshot", detector: detector)
        } else {
            let kubernetes = try KubernetesSource.make(
                configuration: configuration,
                httpClients: kubeHTTPClients,
                detector: detector,
                mode: configuration.runMode == .once || mode == .once ? .list : .watch,
                logger: logger
            )
            source = kubernetes
            if mode == .continuous, configuration.runMode == .continuous {
                services.append(kubernetes.collectorService)
            }
            clusterReadiness = { await kubernetes.readiness() }
        }

        // Analysis.
        let errorbrain = configuration.errorbrainURL.map { url in
            ErrorbrainClient(
                configuration: ErrorbrainClientConfiguration(
                    baseURL: url,
                    timeout: configuration.errorbrainTimeout,
                    environment: configuration.environmentName.flatMap(ErrorEvent.Environment.init(rawValue:))
                ),
                httpClient: httpClients.client(for: url),
                logger: logger
            )
        }
        let analyzer = Analyzer(
            service: errorbrain,
            store: state.analysis,
            backoff: Backoff(base: configuration.backoffBase, maximum: configuration.backoffMax),
            maxAttempts: configuration.analysisMaxAttempts,
            observer: MetricsAnalysisObserver(),
            logger: logger
        )

        // Notification.
        let routing = configuration.routing(console: console)
        let notifiers = makeNotifiers(routing: routing, console: console, httpClients: httpClients, logger: logger)
        let settings = NotificationSettings(
            repeatInterval: configuration.repeatInterval,
            sendResolved: configuration.sendResolved,
            sendLease: max(.seconds(120), configuration.errorbrainTimeout * 4),
            backoffBase: configuration.backoffBase,
            backoffMax: configuration.backoffMax
        )
        var dispatcher = NotificationDispatcher(
            notifiers: notifiers,
            store: state.notification,
            settings: settings,
            metrics: SwiftMetricsNotificationMetrics(),
            logger: logger
        )
        dispatcher.channelSettings = ChannelDefinition.channelSettings(routing.channels, base: settings)
        let processor = PipelineProcessor(
            analyzer: analyzer,
            analysisStore: state.analysis,
            dispatcher: dispatcher,
            router: routing.router,
            silences: SilenceCache(store: state.silences),
            logger: logger
        )

        let readinessChecks = state.readiness
        let clusterChecks = clusterReadiness
        return RuntimeParts(
            queue: state.queue,
            lock: state.lock,
            index: state.index,
            silences: state.silences,
            source: source,
            processor: processor,
            workerExecutor: httpClients.workerExecutor,
            readiness: {
                var checks = await readinessChecks()
                if let clusterChecks { checks += await clusterChecks() }
                if let errorbrain {
                    let ok = await errorbrain.healthy()
                    // Errorbrain being down delays analysis but never stops notifications: reported, not required.
                    checks.append(
                        ReadinessCheck(
                            name: "errorbrain",
                            ok: true,
                            detail: ok ? "healthy" : "unreachable (notifications go out without analysis)"
                        )
                    )
                }
                return checks
            },
            services: services
        )
    }

    /// The notifiers of `routing`'s channels; console channels print as `console` says (text by default).
    package static func makeNotifiers(
        routing: RoutingConfiguration,
        console: ConsoleFormat?,
        httpClients: HTTPClients,
        logger: Logger
    ) -> [any Notifier] {
        NotifierFactory.make(
            routing.channels,
            clients: { httpClients.client(for: $0) },
            logger: logger,
            console: { id -> any Notifier in
                console == .json
                    ? JSONConsoleNotifier(channel: id) : ConsoleNotifier(channel: id, write: ConsoleOutput.write)
            }
        )
    }

    /// Shared state: Redis when `FLUXBRAIN_REDIS_URL` is set, else in memory.
    struct State: Sendable {
        var queue: any WorkQueue
        var lock: any LeaderLock
        var index: any IncidentIndex
        var analysis: any AnalysisStore
        var notification: any NotificationStore
        /// From ``makeSilenceStore(redis:configuration:logger:)``.
        var silences: any SilenceStore
        var readiness: @Sendable () async -> [ReadinessCheck]
    }

    /// Runs `body` with the shared state; a Redis client is closed when `body` returns or throws.
    static func withState<T>(
        configuration: FluxbrainConfiguration,
        logger: Logger,
        _ body: (State) async throws -> T
    ) async throws -> T {
        guard configuration.redisURL != nil else {
            let memory = InMemoryCoordination(maxAttempts: configuration.maxAttempts)
            return try await body(
                State(
                    queue: memory,
                    lock: memory,
                    index: memory,
                    analysis: InMemoryAnalysisStore(),
                    notification: InMemoryNotificationStore(),
                    silences: makeSilenceStore(redis: nil, configuration: configuration, logger: logger),
                    readiness: { [ReadinessCheck(name: "state", ok: true, detail: "in-memory (single process)")] }
                )
            )
        }
        return try await withRedisCoordination(
            configuration: configuration,
            logger: logger
        ) { coordination, client in
            let health = RedisHealth(client: client)
            for warning in await health.configurationWarnings() {
                logger.warning("redis configuration", metadata: ["warning": "\(warning)"])
            }
            let timeout = configuration.redisTimeout
            return try await body(
                State(
                    queue: coordination,
                    lock: coordination,
                    index: coordination,
                    analysis: RedisAnalysisStore(client: client, keyPrefix: configuration.redisPrefix, logger: logger),
                    notification: RedisNotificationStore(
                        client: client,
                        keyPrefix: configuration.redisPrefix,
                        logger: logger
                    ),
                    silences: makeSilenceStore(redis: client, configuration: configuration, logger: logger),
                    readiness: {
                        let ping = await health.ping(timeout: timeout)
                        return [ReadinessCheck(name: "redis", ok: ping.ok, detail: ping.detail)]
                    }
                )
            )
        }
    }

    /// The silence store of a run: `RedisSilenceStore` over `redis` (the client of `FLUXBRAIN_REDIS_URL`), shared by
    /// every replica and `fluxbrain silence`; `InMemorySilenceStore` without Redis (a single process, which only
    /// `fluxbrain silence` could fill, and that refuses to run without Redis: so it stays empty).
    package static func makeSilenceStore(
        redis: RedisClient?,
        configuration: FluxbrainConfiguration,
        logger: Logger
    ) -> any SilenceStore {
        guard let redis else { return InMemorySilenceStore() }
        return RedisSilenceStore(client: redis, keyPrefix: configuration.redisPrefix, logger: logger)
    }

    /// Runs `body` with the shared silence store for `fluxbrain silence` (over ``withRedisCoordination``'s client).
    ///
    /// - Throws: ``ConfigurationError`` naming `FLUXBRAIN_REDIS_URL` when it is unset (silences are shared state: a
    ///   process of its own could not tell the running replicas) or malformed.
    package static func withSilenceStore<T>(
        configuration: FluxbrainConfiguration,
        logger: Logger,
        _ body: (any SilenceStore) async throws -> T
    ) async throws -> T {
        guard configuration.redisURL != nil else {
            throw ConfigurationError(
                variable: "FLUXBRAIN_REDIS_URL",
                message: "not set; silences are shared state that the running replicas read from Redis, so "
                    + "'fluxbrain silence' needs the same FLUXBRAIN_REDIS_URL (and FLUXBRAIN_REDIS_PREFIX) as they do"
            )
        }
        return try await withRedisCoordination(configuration: configuration, logger: logger) { _, client in
            try await body(makeSilenceStore(redis: client, configuration: configuration, logger: logger))
        }
    }

    /// Connects to `FLUXBRAIN_REDIS_URL` as `fluxbrain-<replica>`, runs `body` with the coordination over that
    /// client, and closes the client when `body` returns or throws. The one Redis wiring: `run`, `once`,
    /// `fluxbrain queue` and `fluxbrain silence` all come through here.
    ///
    /// - Throws: ``ConfigurationError`` naming `FLUXBRAIN_REDIS_URL` when it is unset or malformed.
    package static func withRedisCoordination<T>(
        configuration: FluxbrainConfiguration,
        logger: Logger,
        _ body: (RedisCoordination, RedisClient) async throws -> T
    ) async throws -> T {
        guard let url = configuration.redisURL else {
            throw ConfigurationError(
                variable: "FLUXBRAIN_REDIS_URL",
                message: "not set; the queue lives in Redis (a single process keeps it in memory)"
            )
        }
        let redisConfiguration: RedisConfiguration
        do {
            redisConfiguration = try RedisConfiguration(
                url: url,
                connectTimeout: configuration.redisTimeout,
                commandTimeout: configuration.redisTimeout,
                clientName: "fluxbrain-\(configuration.replicaID)"
            )
        } catch {
            throw ConfigurationError(variable: "FLUXBRAIN_REDIS_URL", message: error.message)
        }
        return try await withRedisClient(configuration: redisConfiguration, logger: logger) { client in
            let coordination = RedisCoordination(
                client: client,
                configuration: .init(keyPrefix: configuration.redisPrefix, maxAttempts: configuration.maxAttempts),
                logger: logger
            )
            return try await body(coordination, client)
        }
    }
}

/// Writes whole notifications to standard output, one at a time.
enum ConsoleOutput {
    private static let lock = NSLock()

    @Sendable static func write(_ text: String) {
        lock.lock()
        defer { lock.unlock() }
        FileHandle.standardOutput.write(Data((text + "\n\n").utf8))
    }
}

/// The console channel for machines: one JSON object per notification per line.
struct JSONConsoleNotifier: Notifier {
    var channel: ChannelID = .console

    private struct Line: Encodable {
        var kind: NotificationKind
        var sequence: Int
        var notifiedAt: Date
        var incident: Incident
        var analysis: AnalysisResult?
        var analysisNote: String?
    }

    func send(_ notification: IncidentNotification) async throws -> DeliveryReport {
        let line = Line(
            kind: notification.kind,
            sequence: notification.sequence,
            notifiedAt: notification.notifiedAt,
            incident: notification.incident,
            analysis: notification.analysis.result,
            analysisNote: NotificationTextRenderer.analysisNote(notification.analysis)
        )
        let text = try StableJSON.string(line)
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
        return DeliveryReport(detail: "stdout")
    }
}

extension FluxbrainConfiguration {
    /// The routing of a run: the configured one, with a console channel when `console` asks for one.
    package func routing(console: ConsoleFormat?) -> RoutingConfiguration {
        console == nil ? routing : routing.addingConsole()
    }
}
