import FluxbrainCoordination
import FluxbrainCore
import FluxbrainRedis
import FluxbrainTestSupport
import Foundation
import Logging
import Metrics
import MetricsTestKit
import Synchronization
import Testing

@testable import FluxbrainService

/// Per-channel state under routing, in process on the in-memory ports with a manual clock: the scheduler's passes,
/// the queue and the pipeline processor, as a worker runs them.
@Suite struct RoutedPipelineTests {
    static let oncall = ChannelID("oncall")
    static let teamA = ChannelID("team-a")
    static let issues = ChannelID("issues")

    let clock = ManualClock(start: Date(timeIntervalSince1970: 1_800_000_000))
    let logger = Logger(label: "routed", factory: { _ in SwiftLogNoOpLogHandler() })
    let notifiers = [Self.oncall, Self.teamA, Self.issues].map { Recorder($0) }
    let notificationStore: InMemoryNotificationStore
    let analysisStore: InMemoryAnalysisStore
    let coordination: InMemoryCoordination
    let source = Source()

    init() {
        notificationStore = InMemoryNotificationStore(now: clock.dateNow)
        analysisStore = InMemoryAnalysisStore(clock: clock.wall)
        coordination = InMemoryCoordination(maxAttempts: 5, clock: clock.wall)
    }

    static let incident = Incident(
        object: ObjectReference(cluster: "prod", kind: .helmRelease, namespace: "apps", name: "podinfo"),
        state: .stalled,
        reason: "InstallFailed",
        message: "install retries exhausted",
        revision: "1.0.0",
        detectedAt: Date(timeIntervalSince1970: 1_800_000_000)
    )

    func processor(
        _ routes: [Route],
        silences: any SilenceStore = InMemorySilenceStore(),
        metrics: TestMetrics = TestMetrics()
    ) -> PipelineProcessor {
        let dispatcher = NotificationDispatcher(
            notifiers: notifiers,
            store: notificationStore,
            settings: NotificationSettings(repeatInterval: .seconds(3600)),
            logger: logger
        )
        return PipelineProcessor(
            analyzer: Analyzer(service: nil, store: analysisStore, logger: logger),
            analysisStore: analysisStore,
            dispatcher: dispatcher,
            router: Router(channels: notifiers.map(\.channel), routes: routes),
            silences: SilenceCache(store: silences, maxAge: .zero),
            metricsFactory: metrics,
            logger: logger
        )
    }

    /// One scheduler pass (a full resync when `reminders`), then every queued item through `processor`.
    func pass(_ processor: PipelineProcessor, reminders: Bool = true) async throws {
        let scheduler = Scheduler.onManualClock(
            clock,
            source: source,
            queue: coordination,
            index: coordination,
            logger: logger
        )
        let lease = try #require(await coordination.acquire(replicaID: "r", ttl: .seconds(15)))
        _ = try await scheduler.pass(lease: lease, includeReminders: reminders)
        await coordination.release(lease)
        while let claim = await coordination.claim(worker: "w", lease: .seconds(30)) {
            #expect(try await processor.process(claim.item) == .done)
            _ = await coordination.ack(claim)
        }
    }

    func kinds(_ channel: ChannelID) -> [NotificationKind] {
        notifiers.first { $0.channel == channel }!.kinds
    }

    @Test func aRouteChangeWhileOpenFiresOnNewChannelsStopsRemindersOnOldOnesAndResolvesEverywhereItFired()
        async throws
    {
        source.set(failing: Self.incident)
        try await pass(processor([Route(to: [Self.oncall])]), reminders: false)
        #expect(kinds(Self.oncall) == [.firing])
        #expect(kinds(Self.teamA) == [])

        // The routes now send it to team-a only; an hour later (a reminder would be due) the resync re-offers it.
        clock.advance(by: .seconds(3700))
        let changed = processor([Route(to: [Self.teamA])])
        try await pass(changed)
        #expect(kinds(Self.oncall) == [.firing])
        #expect(kinds(Self.teamA) == [.firing])

        // Resolved: both channels that got the firing message get the resolved one; `issues` never heard of it.
        source.set(healthy: Self.incident.object)
        try await pass(changed)
        #expect(kinds(Self.oncall) == [.firing, .resolved])
        #expect(kinds(Self.teamA) == [.firing, .resolved])
        #expect(kinds(Self.issues) == [])
    }

    /// `body` with the in-memory silence store, or with the Redis one on a real redis-server (a key prefix of its
    /// own) as the replicas share it.
    func withSilenceStore(redis: Bool, _ body: (any SilenceStore) async throws -> Void) async throws {
        guard redis else { return try await body(InMemorySilenceStore()) }
        func run(_ url: String) async throws {
            try await withRedisClient(configuration: try RedisConfiguration(url: url), logger: logger) { client in
                let prefix = "fbtest-\(UUID().uuidString.prefix(8).lowercased())"
                try await body(RedisSilenceStore(client: client, keyPrefix: prefix, logger: logger))
            }
        }
        if let url = TestEnvironment.sharedRedisURL {
            try await run(url)
        } else {
            try await RedisServerProcess.with { server in try await run(server.url) }
        }
    }

    @Test(arguments: [false, true])
    func aSilencedIncidentIsNotifiedWhenItsSilenceEndsAndResolvedOnlyWhereItFired(redis: Bool) async throws {
        try await withSilenceStore(redis: redis) { silences in
            try await silenceLifecycle(silences)
        }
    }

    func silenceLifecycle(_ silences: any SilenceStore) async throws {
        try await silences.add(
            Silence(
                id: "s-1",
                matchers: IncidentSelector(names: [Glob("podinfo*")]),
                startsAt: clock.date,
                endsAt: clock.date.addingTimeInterval(7200),
                createdBy: "me",
                comment: "upgrading podinfo"
            )
        )
        let processor = processor([Route(to: [Self.oncall, Self.teamA])], silences: silences)
        source.set(failing: Self.incident)
        try await pass(processor, reminders: false)
        #expect(kinds(Self.oncall) == [] && kinds(Self.teamA) == [])
        let state = try await notificationStore.state(fingerprint: Self.incident.fingerprint, channel: Self.oncall)
        #expect(state == nil)

        // Still silenced at the next resync.
        clock.advance(by: .seconds(300))
        try await pass(processor)
        #expect(kinds(Self.oncall) == [])

        // The silence ends; the next resync re-offers the open incident and it is notified then.
        clock.advance(by: .seconds(7200))
        try await pass(processor)
        #expect(kinds(Self.oncall) == [.firing])
        #expect(kinds(Self.teamA) == [.firing])

        // Resolved while a new silence runs: the resolved message still goes where the firing one went, and only
        // there.
        try await silences.add(
            Silence(
                id: "s-2",
                matchers: IncidentSelector(names: [Glob("podinfo")]),
                startsAt: clock.date,
                endsAt: clock.date.addingTimeInterval(3600),
                createdBy: "me",
                comment: "again"
            )
        )
        source.set(healthy: Self.incident.object)
        try await pass(processor)
        #expect(kinds(Self.oncall) == [.firing, .resolved])
        #expect(kinds(Self.teamA) == [.firing, .resolved])
        #expect(kinds(Self.issues) == [])
    }

    @Test func anUnroutedIncidentIsNotNotifiedAndCountedOnce() async throws {
        let metrics = TestMetrics()
        let elsewhere = RouteConditions(selector: IncidentSelector(namespaces: [Glob("other")]))
        let processor = processor([Route(to: [Self.oncall], match: elsewhere)], metrics: metrics)
        source.set(failing: Self.incident)
        try await pass(processor, reminders: false)
        clock.advance(by: .seconds(300))
        try await pass(processor)
        #expect(notifiers.allSatisfy { $0.kinds.isEmpty })
        let counter = try metrics.expectCounter("fluxbrain_incidents_unrouted_total")
        #expect(counter.totalValue == 1)
    }
}

/// Records the kinds of notification it delivered.
final class Recorder: Notifier {
    let channel: ChannelID
    private let sent = Mutex<[NotificationKind]>([])
    init(_ channel: ChannelID) { self.channel = channel }
    var kinds: [NotificationKind] { sent.withLock { $0 } }
    func send(_ notification: IncidentNotification) async throws -> DeliveryReport {
        sent.withLock { $0.append(notification.kind) }
        return DeliveryReport()
    }
}

/// One object, failing or healthy, as the scheduler sees it.
final class Source: IncidentSource {
    private let state = Mutex<Assessment>(Assessment(incidents: []))
    private let enriched = Mutex<[Int]>([])
    func set(failing incident: Incident) { set(failing: [incident]) }
    func set(failing incidents: [Incident]) { state.withLock { $0 = Assessment(incidents: incidents) } }
    /// The sizes of the batches given to ``enrich(_:)``.
    var enrichedBatches: [Int] { enriched.withLock { $0 } }
    func set(healthy object: ObjectReference) { set(healthy: [object]) }
    func set(healthy objects: [ObjectReference]) {
        state.withLock { $0 = Assessment(incidents: [], healthy: Set(objects)) }
    }
    func assess(now: Date) async throws -> SourceAssessment {
        SourceAssessment(clusters: [ClusterAssessment(cluster: "prod", assessment: state.withLock { $0 })])
    }
    func enrich(_ incidents: [Incident]) async -> [Incident] {
        enriched.withLock { $0.append(incidents.count) }
        return incidents
    }
    func waitForChange(timeout: Duration) async throws {}
}
