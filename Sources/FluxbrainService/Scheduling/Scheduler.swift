import FluxbrainCore
import FluxbrainIntegrations
import Foundation
import Logging
import Metrics
import ServiceLifecycle

/// The leader's loop: collect, compare with the open incidents, enqueue transitions. Runs on every replica but
/// acts only while this replica holds the scheduler lock; every write is fenced by the lease inside the store.
package struct Scheduler: Service {
    package struct Configuration: Sendable {
        /// Full resync period: open incidents are offered again on each, so reminders and re-sends are checked.
        /// `FLUXBRAIN_REQUEUE_INTERVAL`, or shorter when a channel re-sends more often (an Alertmanager channel's
        /// `resendInterval`: ``ChannelDefinition/reminderInterval(_:resync:)``).
        package var resyncInterval: Duration
        /// The least time between the end of one pass and the start of the next that a change causes. A change
        /// after a quiet spell (no pass for this long) runs a pass at once; the changes that follow it within this
        /// time make one more pass when it has passed, so a burst of watch events makes one pass at its start and
        /// at most one per `debounce` after it.
        package var debounce: Duration

        package init(resyncInterval: Duration, debounce: Duration = .milliseconds(100)) {
            self.resyncInterval = resyncInterval
            self.debounce = debounce
        }
    }

    /// What one pass did.
    package struct PassResult: Sendable, Equatable {
        package var enqueued: [String] = []
        package var duplicates: Int = 0
        package var resolved: Int = 0
        package var fenced = false
        /// What the source could not read in this pass (see ``SourceAssessment/unread``).
        package var unread: [String] = []
    }

    private let configuration: Configuration
    private let source: any IncidentSource
    private let queue: any WorkQueue
    private let index: any IncidentIndex
    private let leadership: Leadership
    private let clock: any Clock<Duration>
    private let wallClock: any WallClock
    private let metricsFactory: any MetricsFactory
    private let fencedWrites: Counter
    /// `fluxbrain_enqueued_total{transition}`, made once.
    private let enqueuedTotal: [WorkItem.Transition: Counter]
    private let logger: Logger
    private let openMemo = OpenIncidentMemo()
    /// Work items enqueued per round trip (and whose evidence is read at once) in a pass.
    static let enqueueBatch = 16

    /// - Parameters:
    ///   - clock: the monotonic clock the loop sleeps and measures the resync period on.
    ///   - wallClock: the time a pass assesses the cluster at (stuck detection).
    ///   - metricsFactory: makes `fluxbrain_enqueued_total`, `fluxbrain_incidents_open` and
    ///     `fluxbrain_fenced_writes_total`.
    package init(
        configuration: Configuration,
        source: any IncidentSource,
        queue: any WorkQueue,
        index: any IncidentIndex,
        leadership: Leadership,
        clock: any Clock<Duration>,
        wallClock: any WallClock,
        metricsFactory: any MetricsFactory,
        logger: Logger
    ) {
        self.configuration = configuration
        self.source = source
        self.queue = queue
        self.index = index
        self.leadership = leadership
        self.clock = clock
        self.wallClock = wallClock
        self.metricsFactory = metricsFactory
        self.fencedWrites = Counter(label: "fluxbrain_fenced_writes_total", factory: metricsFactory)
        self.enqueuedTotal = Dictionary(
            uniqueKeysWithValues: WorkItem.Transition.allCases.map { transition in
                (
                    transition,
                    Counter(
                        label: "fluxbrain_enqueued_total",
                        dimensions: [("transition", transition.rawValue)],
                        factory: metricsFactory
                    )
                )
            }
        )
        self.logger = logger
    }

    package func run() async throws {
        let elapsed = elapsedTime(on: clock)
        try? await cancelWhenGracefulShutdown {
            var lastFullPass: Duration?
            while !Task.isCancelled {
                guard let lease = leadership.currentLease else {
                    lastFullPass = nil
                    try await clock.sleep(for: .milliseconds(200))
                    continue
                }
                let full = lastFullPass.map { elapsed() - $0 >= configuration.resyncInterval } ?? true
                do {
                    _ = try await pass(lease: lease, includeReminders: full)
                    if full { lastFullPass = elapsed() }
                } catch {
                    logger.warning("scheduler pass failed", metadata: ["error": .error(error)])
                    try await clock.sleep(for: .seconds(1))
                    continue
                }
                let passEnded = elapsed()
                let untilResync = lastFullPass.map { configuration.resyncInterval - (passEnded - $0) } ?? .zero
                let wait = min(max(untilResync, .milliseconds(50)), leadership.renewInterval)
                try await source.waitForChange(timeout: wait)
                // Leading edge: after a quiet spell the pass runs at once; a change soon after a pass waits out the
                // rest of the debounce, so the changes of a burst are batched into one pass.
                let quiet = elapsed() - passEnded
                if quiet < configuration.debounce { try await clock.sleep(for: configuration.debounce - quiet) }
            }
        }
    }

    /// One collection pass under `lease`. Enqueues before it records, so a crash in between only causes a
    /// duplicate enqueue that the queue's dedup absorbs. The open incidents are read from the index on a full
    /// resync (`includeReminders`) and when the lease changed; between those, from ``OpenIncidentMemo``.
    package func pass(lease: LeaderLease, includeReminders: Bool) async throws -> PassResult {
        var result = PassResult()
        let planner = SchedulePlanner()
        do {
            let seen = try await source.assess(now: wallClock.now())
            result.unread = seen.unread
            for cluster in seen.clusters {
                let open: [ObjectReference: Incident]
                if !includeReminders, let known = openMemo.incidents(cluster: cluster.cluster, lease: lease) {
                    open = known
                } else {
                    let read = try await index.openIncidents(cluster: cluster.cluster)
                    open = Dictionary(read.map { ($0.object, $0) }, uniquingKeysWith: { $1 })
                    openMemo.read(open, cluster: cluster.cluster, lease: lease)
                }
                let plan = planner.plan(assessment: cluster.assessment, open: open, includeReminders: includeReminders)
                let opened = Set(plan.open.map(\.fingerprint))
                // In batches: their evidence is read at once and they go to the queue in one round trip.
                for start in stride(from: 0, to: plan.enqueue.count, by: Self.enqueueBatch) {
                    var items = Array(plan.enqueue[start..<min(start + Self.enqueueBatch, plan.enqueue.count)])
                    let opening = items.indices.filter {
                        items[$0].transition == .firing && opened.contains(items[$0].incident.fingerprint)
                    }
                    if !opening.isEmpty {
                        let enriched = await source.enrich(opening.map { items[$0].incident })
                        for (index, incident) in zip(opening, enriched) { items[index].incident = incident }
                    }
                    for (item, outcome) in zip(items, try await queue.enqueue(items, lease: lease)) {
                        switch outcome {
                        case .enqueued:
                            result.enqueued.append(item.key)
                            enqueuedTotal[item.transition]?.increment()
                        case .duplicate:
                            result.duplicates += 1
                        }
                    }
                }
                try await index.open(plan.open, lease: lease)
                for incident in plan.open {
                    openMemo.opened(incident, lease: lease)
                    logger.info(
                        "incident opened",
                        metadata: [
                            "fingerprint": "\(incident.fingerprint.short)", "object": "\(incident.object)",
                            "cluster": "\(incident.object.cluster)", "reason": "\(incident.reason)",
                        ]
                    )
                }
                try await index.close(plan.close.map(\.incident), lease: lease)
                for (incident, why) in plan.close {
                    openMemo.closed(incident.object, fingerprint: incident.fingerprint, lease: lease)
                    if why == .resolved { result.resolved += 1 }
                    logger.info(
                        "incident closed",
                        metadata: [
                            "fingerprint": "\(incident.fingerprint.short)", "object": "\(incident.object)",
                            "why": "\(why.rawValue)",
                        ]
                    )
                }
                Gauge(
                    label: "fluxbrain_incidents_open",
                    dimensions: [("cluster", cluster.cluster)],
                    factory: metricsFactory
                )
                .record(open.count + plan.open.count - plan.close.count)
            }
        } catch let error as FencedError {
            openMemo.forget()
            leadership.stepDown()
            logger.warning("enqueue fenced: another replica leads now", metadata: ["epoch": "\(error.lease.epoch)"])
            fencedWrites.increment()
            result.fenced = true
        } catch {
            openMemo.forget()
            throw error
        }
        return result
    }
}
