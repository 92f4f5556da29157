import FluxbrainCore
import Foundation
import Logging

/// The worker's job for one item: analyze (cached per fingerprint, with backoff), then notify every channel that
/// is due, through the shared notification store.
///
/// - firing: the analyzer decides first. `.deferred` (Errorbrain failed, backoff running) → retry the item at the
///   deadline; otherwise the dispatcher claims each channel and sends what is due (first, reminder).
/// - resolved: the dispatcher sends the one resolved message per channel, with the cached analysis if any; the
///   analysis state of the fingerprint is then forgotten.
/// A channel that failed is retried by nacking the item until its backoff deadline; channels that were sent are
/// skipped on the retry by the store, so nothing is duplicated.
package struct PipelineProcessor: IncidentProcessor {
    private let analyzer: Analyzer
    private let analysisStore: any AnalysisStore
    private let dispatcher: NotificationDispatcher
    private let redactor: Redactor
    private let logger: Logger

    package init(
        analyzer: Analyzer,
        analysisStore: any AnalysisStore,
        dispatcher: NotificationDispatcher,
        redactor: Redactor = Redactor(),
        logger: Logger
    ) {
        self.analyzer = analyzer
        self.analysisStore = analysisStore
        self.dispatcher = dispatcher
        self.redactor = redactor
        self.logger = logger
    }

    package func process(_ item: WorkItem) async throws -> ProcessingResult {
        // Redacted once here; the Errorbrain event and the notifications use it as is.
        let redacted = redactor.redacted(item.incident)
        let incident = redacted.incident
        let outcomes: [ChannelOutcome]
        switch item.transition {
        case .firing:
            let analysis: AnalysisOutcome
            switch try await analyzer.analyze(redacted) {
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
            outcomes = await dispatcher.dispatch(incident: incident, status: .firing) { analysis }
        case .resolved:
            let cached = try await analysisStore.cachedResult(for: incident.fingerprint)
            try Task.checkCancellation()
            outcomes = await dispatcher.dispatch(incident: incident, status: .resolved) {
                cached.map { .analyzed($0) } ?? .notConfigured
            }
        }
        return try await decide(outcomes, item: item)
    }

    /// Done when no channel needs another attempt; else retry at the earliest deadline.
    private func decide(_ outcomes: [ChannelOutcome], item: WorkItem) async throws -> ProcessingResult {
        let now = try await analysisStore.now()
        var earliest: Date?
        var reasons: [String] = []
        func retry(at date: Date, _ reason: String) {
            earliest = min(earliest ?? date, date)
            reasons.append(reason)
        }
        for outcome in outcomes {
            switch outcome.result {
            case .sent, .skipped(.skipNotDue), .skipped(.skipAlreadyResolved), .skipped(.skipResolvedDisabled),
                .skipped(.skipNeverNotified):
                continue
            case .skipped(.send):
                continue
            case .failed(_, let error, let next):
                retry(at: next ?? now.addingTimeInterval(5), "\(outcome.channel): \(error.message)")
            case .skipped(.skipBackoff(let until)):
                retry(at: until, "\(outcome.channel): backing off")
            case .skipped(.skipInFlight(let until)):
                // Look again soon: the holder usually finishes long before its lease ends.
                retry(at: min(until, now.addingTimeInterval(5)), "\(outcome.channel): another sender holds the claim")
            case .storeError(let error):
                retry(at: now.addingTimeInterval(5), "\(outcome.channel): \(error)")
            }
        }
        if item.transition == .resolved, earliest == nil {
            try? await analysisStore.forget(item.incident.fingerprint)
        }
        guard let earliest else { return .done }
        return .retry(
            after: .seconds(max(earliest.timeIntervalSince(now), 0.05)),
            reason: reasons.joined(separator: "; ")
        )
    }
}
