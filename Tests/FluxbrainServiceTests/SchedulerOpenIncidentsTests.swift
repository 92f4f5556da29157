import FluxbrainCoordination
import FluxbrainCore
import FluxbrainTestSupport
import Foundation
import Logging
import MetricsTestKit
import Synchronization
import Testing

@testable import FluxbrainService

/// Between full resyncs a pass takes the open incidents from what the leader read and wrote under its lease, not
/// from the index; a full resync, a new lease or a failed pass reads the index again.
@Suite struct SchedulerOpenIncidentsTests {
    let clock = ManualClock()
    let coordination: InMemoryCoordination
    let index: CountingIndex
    let source = Source()
    let scheduler: Scheduler

    /// One failing Kustomization (the service-layer tests' fixture).
    static let apps = FixedSource.incident

    init() {
        coordination = InMemoryCoordination(maxAttempts: 5, clock: clock.wall)
        index = CountingIndex(coordination)
        scheduler = .onManualClock(clock, source: source, queue: coordination, index: index)
    }

    func lease(_ replica: String = "r") async throws -> LeaderLease {
        try #require(await coordination.acquire(replicaID: replica, ttl: .seconds(3600)))
    }

    @Test func passesBetweenResyncsKnowWhatTheLeaderOpenedAndClosed() async throws {
        let lease = try await lease()
        source.set(failing: Self.apps)
        var result = try await scheduler.pass(lease: lease, includeReminders: true)
        #expect(result.enqueued.count == 1)
        #expect(index.counts == .init(reads: 1, opens: 1, closes: 0))

        // Seen again between resyncs: known open, nothing to do, the index is not read.
        result = try await scheduler.pass(lease: lease, includeReminders: false)
        #expect(result.enqueued.isEmpty && result.duplicates == 0)
        #expect(index.counts == .init(reads: 1, opens: 1, closes: 0))

        // Ready again: resolved once, and known closed afterwards.
        source.set(healthy: Self.apps.object)
        result = try await scheduler.pass(lease: lease, includeReminders: false)
        #expect(result.resolved == 1)
        result = try await scheduler.pass(lease: lease, includeReminders: false)
        #expect(result.resolved == 0)
        #expect(index.counts == .init(reads: 1, opens: 1, closes: 1))
        #expect(await coordination.openIncidents(cluster: "prod").isEmpty)

        // Failing again: opened again, as the index says.
        source.set(failing: Self.apps)
        _ = try await scheduler.pass(lease: lease, includeReminders: false)
        #expect(index.counts == .init(reads: 1, opens: 2, closes: 1))
        #expect(await coordination.openIncidents(cluster: "prod").map(\.fingerprint) == [Self.apps.fingerprint])

        // A full resync reads the index again.
        _ = try await scheduler.pass(lease: lease, includeReminders: true)
        #expect(index.counts == .init(reads: 2, opens: 2, closes: 1))
    }

    @Test func aBurstIsEnrichedAndEnqueuedInBatchesAndOpenedInOneCall() async throws {
        let queue = ObservedQueue(coordination)
        let scheduler = Scheduler.onManualClock(clock, source: source, queue: queue, index: index)
        let lease = try await lease()
        let burst = (0..<40).map { n in
            Incident(
                object: ObjectReference(cluster: "prod", kind: .kustomization, namespace: "apps", name: "app\(n)"),
                state: .retrying,
                reason: "BuildFailed",
                message: "kustomize build failed",
                revision: "main@sha1:1",
                detectedAt: Date(timeIntervalSince1970: 1_800_000_000)
            )
        }
        source.set(failing: burst)
        let result = try await scheduler.pass(lease: lease, includeReminders: true)
        #expect(result.enqueued.count == 40)
        #expect(source.enrichedBatches == [16, 16, 8])
        #expect(queue.enqueueBatches == [16, 16, 8])
        #expect(index.batches == .init(opens: [40], closes: []))
        // In the order the source assessed them.
        var claimed: [String] = []
        while let claim = try await coordination.claim(worker: "w", lease: .seconds(30)) {
            claimed.append(claim.item.incident.object.name)
        }
        #expect(claimed == burst.map(\.object.name))

        source.set(healthy: burst.map(\.object))
        _ = try await scheduler.pass(lease: lease, includeReminders: true)
        #expect(index.batches == .init(opens: [40], closes: [40]))
    }

    @Test func aNewLeaseOrAFailedPassReadsTheIndexAgain() async throws {
        let first = try await lease()
        source.set(failing: Self.apps)
        _ = try await scheduler.pass(lease: first, includeReminders: true)
        #expect(index.counts == .init(reads: 1, opens: 1, closes: 0))

        // Another leader closed it meanwhile; under its next lease this leader must not trust what it knew.
        await coordination.release(first)
        let other = try await lease("other")
        try await coordination.close(Self.apps.object, fingerprint: Self.apps.fingerprint, lease: other)
        await coordination.release(other)
        let second = try await lease()
        _ = try await scheduler.pass(lease: second, includeReminders: false)
        #expect(index.counts == .init(reads: 2, opens: 2, closes: 0))
        #expect(await coordination.openIncidents(cluster: "prod").map(\.fingerprint) == [Self.apps.fingerprint])

        // A pass that fails half-way may or may not have written: the next one reads the index.
        source.set(failing: Self.apps.with(revision: "main@sha1:2"))
        index.failNextOpen()
        await #expect(throws: CountingIndex.Refused.self) {
            try await scheduler.pass(lease: second, includeReminders: false)
        }
        _ = try await scheduler.pass(lease: second, includeReminders: false)
        #expect(index.counts == .init(reads: 3, opens: 3, closes: 1))
    }
}

extension Scheduler {
    /// A scheduler with a 5-minute resync on `clock`, its metrics and (unless given) its logs discarded.
    static func onManualClock(
        _ clock: ManualClock,
        source: any IncidentSource,
        queue: any WorkQueue,
        index: any IncidentIndex,
        logger: Logger = Logger(label: "scheduler", factory: { _ in SwiftLogNoOpLogHandler() })
    ) -> Scheduler {
        Scheduler(
            configuration: .init(resyncInterval: .seconds(300)),
            source: source,
            queue: queue,
            index: index,
            leadership: Leadership(ttl: .seconds(15), clock: clock),
            clock: clock,
            wallClock: clock.wall,
            metricsFactory: TestMetrics(),
            logger: logger
        )
    }
}

extension Incident {
    fileprivate func with(revision: String) -> Incident {
        Incident(
            object: object,
            state: state,
            reason: reason,
            message: message,
            revision: revision,
            detectedAt: detectedAt
        )
    }
}

/// An incident index that counts reads and writes and can refuse one write.
final class CountingIndex: IncidentIndex {
    struct Counts: Equatable, Sendable {
        var reads = 0
        var opens = 0
        var closes = 0
    }

    /// The sizes of the batches the index was given, opens and closes.
    struct Batches: Equatable, Sendable {
        var opens: [Int] = []
        var closes: [Int] = []
    }

    struct Refused: Error {}

    private let base: any IncidentIndex
    private let state = Mutex((counts: Counts(), batches: Batches(), failOpen: false))

    init(_ base: any IncidentIndex) { self.base = base }

    var counts: Counts { state.withLock { $0.counts } }
    var batches: Batches { state.withLock { $0.batches } }
    func failNextOpen() { state.withLock { $0.failOpen = true } }

    func openIncidents(cluster: String) async throws -> [Incident] {
        state.withLock { $0.counts.reads += 1 }
        return try await base.openIncidents(cluster: cluster)
    }

    func open(_ incident: Incident, lease: LeaderLease) async throws {
        let refuse = state.withLock { state in
            defer { state.failOpen = false }
            return state.failOpen
        }
        if refuse { throw Refused() }
        state.withLock { $0.counts.opens += 1 }
        try await base.open(incident, lease: lease)
    }

    func close(_ object: ObjectReference, fingerprint: Fingerprint, lease: LeaderLease) async throws {
        state.withLock { $0.counts.closes += 1 }
        try await base.close(object, fingerprint: fingerprint, lease: lease)
    }

    func open(_ incidents: [Incident], lease: LeaderLease) async throws {
        if !incidents.isEmpty { state.withLock { $0.batches.opens.append(incidents.count) } }
        for incident in incidents { try await open(incident, lease: lease) }
    }

    func close(_ incidents: [Incident], lease: LeaderLease) async throws {
        if !incidents.isEmpty { state.withLock { $0.batches.closes.append(incidents.count) } }
        for incident in incidents { try await close(incident.object, fingerprint: incident.fingerprint, lease: lease) }
    }
}
