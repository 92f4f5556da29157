import FluxbrainCore
import Foundation
import Logging
import Metrics
import Synchronization

/// The worker's job for one item: route, analyze (cached per fingerprint, with backoff), then notify every channel
/// that is due, through the shared notification store.
///
/// - firing: the ``Router`` decides the channels (routes, `fluxbrain.io/*` annotations, active silences). No
///   channel → nothing is analyzed, claimed or recorded (so a silenced incident still firing when its silence ends
///   is notified on the next resync, and an unrouted one is logged once and counted in
///   `fluxbrain_incidents_unrouted_total`). Otherwise the analyzer decides first: `.deferred` (Errorbrain failed,
///   backoff running) → retry the item at the deadline; else the dispatcher claims each routed channel and sends
///   what is due (first, reminder). A channel that no longer matches gets no more reminders; a newly matching one
///   gets its first message.
/// - resolved: the dispatcher offers the resolved message to every channel, and the notification state sends it
///   exactly to the channels that got the firing message, whatever the routes, annotations or silences say now
///   (closing what people were told about, e.g. the GitHub issue); the analysis state of the fingerprint is then
///   forgotten.
/// A channel that failed is retried by nacking the item until its backoff deadline; channels that were sent are
/// skipped on the retry by the store, so nothing is duplicated.
package struct PipelineProcessor: IncidentProcessor {
    private let analyzer: Analyzer
    private let analysisStore: any AnalysisStore
    private let dispatcher: NotificationDispatcher
    private let redactor: Redactor
    private let router: Router
    private let silences: SilenceCache
    private let unrouted: UnroutedLog
    private let unroutedTotal: Counter
    private let logger: Logger

    /// - Parameters:
    ///   - router: where incidents go; default: every dispatcher channel (one catch-all route).
    ///   - silences: the active silences (default: none).
    ///   - metricsFactory: makes `fluxbrain_incidents_unrouted_total`.
    package init(
        analyzer: Analyzer,
        analysisStore: any AnalysisStore,
        dispatcher: NotificationDispatcher,
        router: Router? = nil,
        silences: SilenceCache? = nil,
        redactor: Redactor = Redactor(),
        metricsFactory: any MetricsFactory = MetricsSystem.factory,
        logger: Logger
    ) {
        self.analyzer = analyzer
        self.analysisStore = analysisStore
        self.dispatcher = dispatcher
        self.router = router ?? .catchAll(dispatcher.notifiers.map(\.channel))
        self.silences = silences ?? SilenceCache(store: InMemorySilenceStore())
        self.redactor = redactor
        self.unrouted = UnroutedLog()
        self.unroutedTotal = Counter(label: "fluxbrain_incidents_unrouted_total", factory: metricsFactory)
        self.logger = logger
    }

    package func process(_ item: WorkItem) async throws -> ProcessingResult {
        try await process(item, leavingDeliveriesIn: nil)
    }

    /// Like ``process(_:)``, but with one channel a delivery is left in `deliveries` for the worker to record with
    /// the ack (see ``IncidentProcessor/process(_:deliveries:)``).
    package func process(_ item: WorkItem, deliveries: DeliveryLog) async throws -> ProcessingResult {
        try await process(item, leavingDeliveriesIn: deliveries)
    }

    /// A fresh verdict is cached with the first notification claim (one round trip on Redis, see
    /// ``NotificationDispatcher/dispatch(incident:status:channels:writing:deliveries:analysis:)``).
    private func process(
        _ item: WorkItem,
        leavingDeliveriesIn deliveries: DeliveryLog?
    ) async throws
        -> ProcessingResult
    {
        // Redacted once here; the Errorbrain event and the notifications use it as is.
        let redacted = redactor.redacted(item.incident)
        let incident = redacted.incident
        let outcomes: [ChannelOutcome]
        switch item.transition {
        case .firing:
            let now = try await analysisStore.now()
            let decision = router.decide(item.incident, silences: try await silences.active(at: now), now: now)
            for warning in decision.warnings {
                logger.warning("routing", metadata: ["object": "\(incident.object)", "warning": "\(warning)"])
            }
            guard !decision.channels.isEmpty else {
                if decision.isUnrouted, unrouted.first(incident.fingerprint) {
                    unroutedTotal.increment()
                    logger.warning(
                        "incident matches no route; not notified",
                        metadata: [
                            "fingerprint": "\(incident.fingerprint.short)", "object": "\(incident.object)",
                            "cluster": "\(incident.object.cluster)",
                        ]
                    )
                } else if !decision.isUnrouted {
                    logger.debug(
                        "incident not notified",
                        metadata: [
                            "object": "\(incident.object)",
                            "why":
                                "\(Set(decision.skipped.values).map(\.description).sorted().joined(separator: "; "))",
                        ]
                    )
                }
                return .done
            }
            let analysis: AnalysisOutcome
            let (decided, write) = try await analyzer.analyze(
                redacted,
                deferringWrite: true,
                nothingStored: item.opensIncident
            )
            switch decided {
            case .ready(let outcome):
                analysis = redactor.redact(outcome)
            case .deferred(let until, let failures):
                let now = try await analysisStore.now()
                return .retry(
                    after: .seconds(max(until.timeIntervalSince(now), 0.05)),
                    reason: "analysis failed \(failures) time\(failures == 1 ? "" : "s"); backing off"
                )
            }
            try Task.checkCancellation()
            outcomes = await dispatcher.dispatch(
                incident: incident,
                status: .firing,
                channels: Set(decision.channels),
                writing: write,
                deliveries: deliveries
            ) { analysis }
        case .resolved:
            let cached = try await analysisStore.cachedResult(for: incident.fingerprint)
            try Task.checkCancellation()
            outcomes = await dispatcher.dispatch(incident: incident, status: .resolved, deliveries: deliveries) {
                cached.map { .analyzed($0) } ?? .notConfigured
            }
        }
        return try await decide(outcomes, item: item)
    }

    /// Done when no channel needs another attempt; else retry at the earliest deadline.
    private func decide(_ outcomes: [ChannelOutcome], item: WorkItem) async throws -> ProcessingResult {
        guard outcomes.allSatisfy(\.result.isSettled) else { return try await retry(outcomes) }
        if item.transition == .resolved {
            try? await analysisStore.forget(item.incident.fingerprint)
        }
        return .done
    }

    /// Some channel needs another attempt: retry at the earliest deadline (the store's time is read only here).
    private func retry(_ outcomes: [ChannelOutcome]) async throws -> ProcessingResult {
        let now = try await analysisStore.now()
        var earliest: Date?
        var reasons: [String] = []
        func retry(at date: Date, _ reason: String) {
            earliest = min(earliest ?? date, date)
            reasons.append(reason)
        }
        for outcome in outcomes where !outcome.result.isSettled {
            switch outcome.result {
            case .failed(_, let error, let next):
                retry(at: next ?? now.addingTimeInterval(5), "\(outcome.channel): \(error.message)")
            case .skipped(.skipBackoff(let until)):
                retry(at: until, "\(outcome.channel): backing off")
            case .skipped(.skipInFlight(let until)):
                // Look again soon: the holder usually finishes long before its lease ends.
                retry(at: min(until, now.addingTimeInterval(5)), "\(outcome.channel): another sender holds the claim")
            case .storeError(let error):
                retry(at: now.addingTimeInterval(5), "\(outcome.channel): \(error)")
            case .sent, .skipped:
                continue
            }
        }
        guard let earliest else { return .done }
        return .retry(
            after: .seconds(max(earliest.timeIntervalSince(now), 0.05)),
            reason: reasons.joined(separator: "; ")
        )
    }
}

extension ChannelOutcome.Result {
    /// Nothing more to do on the channel: sent, or skipped for good (not due, already resolved, resolved messages
    /// off, never notified, or a `.send` decision without analysis).
    fileprivate var isSettled: Bool {
        switch self {
        case .sent, .skipped(.skipNotDue), .skipped(.skipAlreadyResolved), .skipped(.skipResolvedDisabled),
            .skipped(.skipNeverNotified), .skipped(.send):
            return true
        case .failed, .skipped(.skipBackoff), .skipped(.skipInFlight), .storeError:
            return false
        }
    }
}

/// The fingerprints already logged as unrouted by this process, so each is logged and counted once (bounded: the
/// oldest half is forgotten past 10,000).
final class UnroutedLog: Sendable {
    private let seen = Mutex<(set: Set<Fingerprint>, order: [Fingerprint])>(([], []))

    /// `true` the first time `fingerprint` is seen.
    func first(_ fingerprint: Fingerprint) -> Bool {
        seen.withLock { state in
            guard state.set.insert(fingerprint).inserted else { return false }
            state.order.append(fingerprint)
            if state.order.count > 10_000 {
                let dropped = state.order.prefix(5_000)
                state.set.subtract(dropped)
                state.order.removeFirst(5_000)
            }
            return true
        }
    }
}
