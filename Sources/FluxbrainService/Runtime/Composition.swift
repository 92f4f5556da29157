import AsyncHTTPClient
import FluxbrainCoordination
import FluxbrainCore
import FluxbrainIntegrations
import Foundation
import FluxbrainRedis
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
    /// The parts shared by `run` and `once`.
    ///
    /// - Parameters:
    ///   - snapshot: read incidents from a snapshot instead of Kubernetes (`--snapshot`).
    ///   - console: how the console channel prints, or `nil` to use only the configured channels.
    package static func makeParts(
        configuration: FluxbrainConfiguration, snapshot: SnapshotSource.Input?, console: ConsoleFormat?,
        mode: FluxbrainConfiguration.RunMode, logger: Logger
    ) async throws -> RuntimeParts {
        let httpClients = HTTPClients(proxies: configuration.proxies)
        let kubeHTTPClients = HTTPClients.kubernetes()
        do {
            return try await makeParts(
                configuration: configuration, snapshot: snapshot, console: console, mode: mode,
                httpClients: httpClients, kubeHTTPClients: kubeHTTPClients, logger: logger)
        } catch {
            await kubeHTTPClients.shutdown()
            await httpClients.shutdown()
            throw error
        }
    }

    private static func makeParts(
        configuration: FluxbrainConfiguration, snapshot: SnapshotSource.Input?, console: ConsoleFormat?,
        mode: FluxbrainConfiguration.RunMode, httpClients: HTTPClients, kubeHTTPClients: HTTPClients,
        logger: Logger
    ) async throws -> RuntimeParts {
        let detector = Detector(stuckAfter: configuration.stuckAfter, gitHosts: configuration.gitHosts)
        let state = try await makeState(configuration: configuration, logger: logger)

        // Where incidents come from.
        let source: any IncidentSource
        var services: [any Service] = []
        var clusterReadiness: (@Sendable () async -> [ReadinessCheck])?
        if let snapshot {
            source = SnapshotSource(input: snapshot, cluster: configuration.cluster ?? "snapshot", detector: detector)
        } else {
            let kubernetes = try KubernetesSource.make(
                configuration: configuration, httpClients: kubeHTTPClients, detector: detector,
                mode: configuration.runMode == .once || mode == .once ? .list : .watch, logger: logger)
            source = kubernetes
            if mode == .continuous, configuration.runMode == .continuous { services.append(kubernetes.collectorService) }
            clusterReadiness = { await kubernetes.readiness() }
        }

        // Analysis.
        let errorbrain = configuration.errorbrainURL.map { url in
            ErrorbrainClient(
                configuration: ErrorbrainClientConfiguration(
                    baseURL: url, timeout: configuration.errorbrainTimeout,
                    environment: configuration.environmentName.flatMap(ErrorEvent.Environment.init(rawValue:))),
                httpClient: httpClients.client(for: url), logger: logger)
        }
        let analyzer = Analyzer(
            service: errorbrain, store: state.analysis,
            backoff: AnalysisBackoff(base: configuration.backoffBase, maximum: configuration.backoffMax),
            maxAttempts: configuration.analysisMaxAttempts, observer: MetricsAnalysisObserver(), logger: logger)

        // Notification.
        let notifiers = makeNotifiers(configuration: configuration, console: console, httpClients: httpClients, logger: logger)
        let settings = NotificationSettings(
            repeatInterval: configuration.repeatInterval, sendResolved: configuration.sendResolved,
            sendLease: max(.seconds(120), configuration.errorbrainTimeout * 4),
            backoffBase: configuration.backoffBase, backoffMax: configuration.backoffMax)
        let dispatcher = NotificationDispatcher(
            notifiers: notifiers, store: state.notification, settings: settings,
            metrics: SwiftMetricsNotificationMetrics(), logger: logger)
        let processor = PipelineProcessor(
            analyzer: analyzer, analysisStore: state.analysis, dispatcher: dispatcher, logger: logger)

        let readinessChecks = state.readiness
        let clusterChecks = clusterReadiness
        return RuntimeParts(
            queue: state.queue, lock: state.lock, index: state.index, source: source, processor: processor,
            readiness: {
                var checks = await readinessChecks()
                if let clusterChecks { checks += await clusterChecks() }
                if let errorbrain {
                    let ok = await errorbrain.healthy()
                    // Errorbrain being down delays analysis but never stops notifications: reported, not required.
                    checks.append(ReadinessCheck(name: "errorbrain", ok: true, detail: ok ? "healthy" : "unreachable (notifications go out without analysis)"))
                }
                return checks
            },
            services: services,
            shutdown: {
                await state.shutdown()
                await kubeHTTPClients.shutdown()
                await httpClients.shutdown()
            })
    }

    /// The notifiers for the configured channels; the console one when none is configured (or when asked for).
    package static func makeNotifiers(
        configuration: FluxbrainConfiguration, console: ConsoleFormat?, httpClients: HTTPClients, logger: Logger
    ) -> [any Notifier] {
        let settings = NotifierFactory.Settings(
            slackWebhook: configuration.slackWebhook, slackChannel: configuration.slackChannel,
            webhookURL: configuration.webhookURL, webhookSecret: configuration.webhookSecret,
            webhookHeaders: configuration.webhookHeaders, githubOwner: configuration.githubOwner,
            githubRepo: configuration.githubRepo, githubToken: configuration.githubToken,
            githubAPIURL: configuration.githubAPIURL, githubReopenWindow: configuration.githubReopenWindow)
        var notifiers = NotifierFactory.make(
            settings, clients: { httpClients.client(for: $0) }, logger: logger, console: ConsoleOutput.write)
        let hasConsole = notifiers.contains { $0.channel == .console }
        switch console {
        case .json:
            notifiers.removeAll { $0.channel == .console }
            notifiers.append(JSONConsoleNotifier())
        case .text where !hasConsole:
            notifiers.append(ConsoleNotifier(write: ConsoleOutput.write))
        case .text, nil:
            break
        }
        return notifiers
    }

    /// Shared state: Redis when `FLUXBRAIN_REDIS_URL` is set, else in memory.
    struct State: Sendable {
        var queue: any WorkQueue
        var lock: any LeaderLock
        var index: any IncidentIndex
        var analysis: any AnalysisStore
        var notification: any NotificationStore
        var readiness: @Sendable () async -> [ReadinessCheck]
        var shutdown: @Sendable () async -> Void
    }

    static func makeState(configuration: FluxbrainConfiguration, logger: Logger) async throws -> State {
        guard let url = configuration.redisURL else {
            let memory = InMemoryCoordination(maxAttempts: configuration.maxAttempts)
            return State(
                queue: memory, lock: memory, index: memory, analysis: InMemoryAnalysisStore(),
                notification: InMemoryNotificationStore(),
                readiness: { [ReadinessCheck(name: "state", ok: true, detail: "in-memory (single process)")] },
                shutdown: {})
        }
        let redisConfiguration: RedisConfiguration
        do {
            redisConfiguration = try RedisConfiguration(
                url: url, connectTimeout: configuration.redisTimeout, commandTimeout: configuration.redisTimeout,
                poolSize: max(4, configuration.workers + 2), clientName: "fluxbrain-\(configuration.replicaID)")
        } catch {
            throw ConfigurationError(variable: "FLUXBRAIN_REDIS_URL", message: error.message)
        }
        let client = RedisClient(configuration: redisConfiguration, logger: logger)
        let coordination = RedisCoordination(
            client: client,
            configuration: .init(keyPrefix: configuration.redisPrefix, maxAttempts: configuration.maxAttempts),
            logger: logger)
        let health = RedisHealth(client: client)
        for warning in await health.configurationWarnings() {
            logger.warning("redis configuration", metadata: ["warning": "\(warning)"])
        }
        let timeout = configuration.redisTimeout
        return State(
            queue: coordination, lock: coordination, index: coordination,
            analysis: RedisAnalysisStore(client: client, keyPrefix: configuration.redisPrefix, logger: logger),
            notification: RedisNotificationStore(client: client, keyPrefix: configuration.redisPrefix, logger: logger),
            readiness: {
                let ping = await health.ping(timeout: timeout)
                return [ReadinessCheck(name: "redis", ok: ping.ok, detail: ping.detail)]
            },
            shutdown: { await client.shutdown() })
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
    var channel: ChannelID { .console }

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
            kind: notification.kind, sequence: notification.sequence, notifiedAt: notification.notifiedAt,
            incident: notification.incident, analysis: notification.analysis.result,
            analysisNote: NotificationTextRenderer.analysisNote(notification.analysis))
        let text = try StableJSON.string(line)
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
        return DeliveryReport(detail: "stdout")
    }
}
