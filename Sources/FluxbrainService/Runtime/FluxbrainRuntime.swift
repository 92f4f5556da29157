import CoreMetrics
import FluxbrainCore
import FluxbrainIntegrations
import Foundation
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// Everything a run needs, built by the composition function from the configuration.
package struct RuntimeParts: Sendable {
    package var queue: any WorkQueue
    package var lock: any LeaderLock
    package var index: any IncidentIndex
    /// The silences routing consults; ``SilenceGauge`` counts them for `fluxbrain_silences_active`.
    package var silences: any SilenceStore
    package var source: any IncidentSource
    package var processor: any IncidentProcessor
    /// Readiness checks for `/readyz` (Redis, clusters, …).
    package var readiness: @Sendable () async -> [ReadinessCheck]
    /// Services that must run beside the pipeline (the cluster collectors), started first.
    ///
    /// The clients the parts use are not among them: ``Composition/withParts(configuration:snapshot:console:mode:logger:_:)``
    /// owns them and closes them when its scope ends.
    package var services: [any Service]
    /// The executor the workers prefer (``WorkerPool/Configuration/executor``); `nil` for Swift's global one.
    package var workerExecutor: (any TaskExecutor)?

    package init(
        queue: any WorkQueue,
        lock: any LeaderLock,
        index: any IncidentIndex,
        silences: any SilenceStore = InMemorySilenceStore(),
        source: any IncidentSource,
        processor: any IncidentProcessor,
        workerExecutor: (any TaskExecutor)? = nil,
        readiness: @escaping @Sendable () async -> [ReadinessCheck] = { [] },
        services: [any Service] = []
    ) {
        self.queue = queue
        self.lock = lock
        self.index = index
        self.silences = silences
        self.source = source
        self.processor = processor
        self.readiness = readiness
        self.services = services
        self.workerExecutor = workerExecutor
    }
}

/// How a `once` run ended.
package enum OnceOutcome: Sendable, Equatable {
    /// Another replica holds the scheduler lock: nothing to do (exit 0).
    case anotherReplicaLeads(holder: String?)
    /// Every item this run enqueued was processed (acked) or dead-lettered; `unread` names the clusters or kinds
    /// the pass could not read (their incidents were neither reported nor resolved).
    case completed(enqueued: Int, deadLettered: Int, unread: [String])
    /// Items were still pending when the deadline passed.
    case timedOut(pending: Int)
}

/// Runs Fluxbrain: continuously as one `ServiceGroup`, or once (CronJob mode).
package enum FluxbrainRuntime {
    /// How long the service group may drain after SIGTERM before its services are cancelled, and how long they then
    /// have to stop: within Kubernetes' default 30 s termination grace, after the workers' 20 s drain grace.
    package static let gracefulShutdownLimit: Duration = .seconds(25)
    package static let cancellationLimit: Duration = .seconds(3)

    /// The continuous service: health/metrics server, leader election, scheduler and workers in one `ServiceGroup`
    /// that drains on SIGTERM/SIGINT (dependencies first, so shutdown runs in reverse order).
    package static func runContinuous(
        configuration: FluxbrainConfiguration,
        parts: RuntimeParts,
        registry: PrometheusCollectorRegistry,
        logger: Logger
    ) async throws {
        let clock = ContinuousClock()
        let metricsFactory = MetricsSystem.factory
        let pipeline = Pipeline(
            configuration: configuration,
            parts: parts,
            clock: clock,
            wallClock: SystemWallClock(),
            metricsFactory: metricsFactory,
            logger: logger
        )
        let http = HealthServer.makeApplication(
            host: configuration.httpAddress.host,
            port: configuration.httpAddress.port,
            registry: registry,
            readiness: parts.readiness,
            logger: logger
        )
        let gauges = QueueGauges(
            queue: parts.queue,
            interval: .seconds(5),
            clock: clock,
            metricsFactory: metricsFactory,
            logger: logger
        )
        let silenceGauge = SilenceGauge(
            store: parts.silences,
            interval: .seconds(15),
            clock: clock,
            wallClock: SystemWallClock(),
            metricsFactory: metricsFactory,
            logger: logger
        )
        var groupConfiguration = ServiceGroupConfiguration(
            services: parts.services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) } + [
                .init(service: http), .init(service: pipeline.election), .init(service: pipeline.scheduler),
                .init(service: pipeline.workers), .init(service: gauges), .init(service: silenceGauge),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        groupConfiguration.maximumGracefulShutdownDuration = gracefulShutdownLimit
        groupConfiguration.maximumCancellationDuration = cancellationLimit
        let group = ServiceGroup(configuration: groupConfiguration)
        logger.notice(
            "fluxbrain started",
            metadata: [
                "replica": "\(configuration.replicaID)", "workers": "\(configuration.workers)",
                "state": "\(configuration.redisURL == nil ? "in-memory" : "redis")",
                "http": "\(configuration.httpAddress.host):\(configuration.httpAddress.port)",
            ]
        )
        try await group.run()
    }

    /// One pass: take the lock (or return because another replica leads), collect, enqueue, process until every
    /// item this run enqueued is done, release the lock. The lock is released on every way out once taken: success,
    /// a fenced write, the deadline, an error.
    package static func runOnce(
        configuration: FluxbrainConfiguration,
        parts: RuntimeParts,
        deadline: Duration = .seconds(600),
        clock: any Clock<Duration> = ContinuousClock(),
        wallClock: any WallClock = SystemWallClock(),
        metricsFactory: any MetricsFactory = MetricsSystem.factory,
        logger: Logger
    ) async throws -> OnceOutcome {
        guard let lease = try await parts.lock.acquire(replicaID: configuration.replicaID, ttl: configuration.lockTTL)
        else {
            let holder = try? await parts.lock.holder()
            return .anotherReplicaLeads(holder: holder?.replicaID)
        }
        let pipeline = Pipeline(
            configuration: configuration,
            parts: parts,
            clock: clock,
            wallClock: wallClock,
            metricsFactory: metricsFactory,
            logger: logger
        )
        let (leadership, election, scheduler, pool) = (
            pipeline.leadership, pipeline.election, pipeline.scheduler, pipeline.workers
        )
        await election.tick()
        let elapsed = elapsedTime(on: clock)

        let outcome: OnceOutcome
        do {
            outcome = try await withThrowingTaskGroup(of: OnceOutcome?.self) { group in
                // Keep the lock while working.
                group.addTask {
                    while !Task.isCancelled {
                        try await clock.sleep(for: leadership.renewInterval)
                        await election.tick()
                    }
                    return nil
                }
                group.addTask {
                    let pass = try await scheduler.pass(lease: leadership.currentLease ?? lease, includeReminders: true)
                    if pass.fenced { return .anotherReplicaLeads(holder: nil) }
                    let keys = pass.enqueued
                    logger.info("enqueued", metadata: ["items": "\(keys.count)", "duplicates": "\(pass.duplicates)"])
                    let start = elapsed()
                    while true {
                        var pending = 0
                        for key in keys where try await parts.queue.isPending(key: key) { pending += 1 }
                        if pending == 0 { break }
                        if elapsed() - start > deadline { return .timedOut(pending: pending) }
                        _ = try await parts.queue.reap()
                        await withTaskGroup(of: Bool.self) { workers in
                            for index in 0..<configuration.workers {
                                workers.addTask(executorPreference: parts.workerExecutor) {
                                    await pool.processOne(worker: "\(configuration.replicaID)/once-\(index)")
                                }
                            }
                            var any = false
                            for await processed in workers { any = any || processed }
                            if !any { try? await parts.queue.waitForWork(timeout: .milliseconds(200)) }
                        }
                    }
                    let dead = try await parts.queue.deadLetters(limit: 10_000).filter { keys.contains($0.key) }.count
                    return .completed(enqueued: keys.count, deadLettered: dead, unread: pass.unread)
                }
                var result: OnceOutcome = .timedOut(pending: -1)
                while let next = try await group.next() {
                    if let next {
                        result = next
                        break
                    }
                }
                group.cancelAll()
                return result
            }
        } catch {
            await release(lease, leadership: leadership, lock: parts.lock, logger: logger)
            throw error
        }
        await release(lease, leadership: leadership, lock: parts.lock, logger: logger)
        return outcome
    }

    /// Releases the lock taken as `lease` (or as the lease it was last renewed to); a failure only logs, the lock
    /// expires by itself.
    private static func release(
        _ lease: LeaderLease,
        leadership: Leadership,
        lock: any LeaderLock,
        logger: Logger
    )
        async
    {
        leadership.stepDown()
        do {
            try await lock.release(lease)
        } catch {
            logger.warning(
                "could not release the scheduler lock; it expires by itself",
                metadata: ["error": .error(error)]
            )
        }
    }
}

/// The leader election, scheduler and worker pool of a run, built the same way for `run` and `once`.
struct Pipeline {
    let leadership: Leadership
    let election: LeaderElection
    let scheduler: Scheduler
    let workers: WorkerPool

    init(
        configuration: FluxbrainConfiguration,
        parts: RuntimeParts,
        clock: any Clock<Duration>,
        wallClock: any WallClock,
        metricsFactory: any MetricsFactory,
        logger: Logger
    ) {
        leadership = Leadership(ttl: configuration.lockTTL, clock: clock)
        election = LeaderElection(
            lock: parts.lock,
            replicaID: configuration.replicaID,
            ttl: configuration.lockTTL,
            leadership: leadership,
            metricsFactory: metricsFactory,
            logger: logger
        )
        scheduler = Scheduler(
            configuration: .init(
                resyncInterval: ChannelDefinition.reminderInterval(
                    configuration.routing.channels,
                    resync: configuration.requeueInterval
                )
            ),
            source: parts.source,
            queue: parts.queue,
            index: parts.index,
            leadership: leadership,
            clock: clock,
            wallClock: wallClock,
            metricsFactory: metricsFactory,
            logger: logger
        )
        workers = WorkerPool(
            configuration: .init(
                workers: configuration.workers,
                lease: configuration.lease,
                replicaID: configuration.replicaID,
                executor: parts.workerExecutor
            ),
            queue: parts.queue,
            processor: parts.processor,
            clock: clock,
            metricsFactory: metricsFactory,
            logger: logger
        )
    }
}

/// Publishes the queue depths as `fluxbrain_queue_depth{state}` every `interval`: the one writer of that gauge.
struct QueueGauges: Service {
    let queue: any WorkQueue
    let interval: Duration
    let clock: any Clock<Duration>
    let depths: [(state: String, gauge: CoreMetrics.Gauge)]
    let logger: Logger

    init(
        queue: any WorkQueue,
        interval: Duration,
        clock: any Clock<Duration>,
        metricsFactory: any MetricsFactory,
        logger: Logger
    ) {
        self.queue = queue
        self.interval = interval
        self.clock = clock
        self.depths = ["ready", "delayed", "leased", "dead", "pending"].map { state in
            (
                state,
                CoreMetrics.Gauge(
                    label: "fluxbrain_queue_depth",
                    dimensions: [("state", state)],
                    factory: metricsFactory
                )
            )
        }
        self.logger = logger
    }

    func run() async throws {
        await refreshPeriodically(every: interval, on: clock) { await refresh() }
    }

    /// Reads the depths once into the gauges; a failed read leaves them as they were.
    func refresh() async {
        guard let stats = try? await queue.stats() else { return }
        let values = [
            "ready": stats.ready, "delayed": stats.delayed, "leased": stats.leased, "dead": stats.dead,
            "pending": stats.pending,
        ]
        for (state, gauge) in depths { gauge.record(values[state] ?? 0) }
    }
}
