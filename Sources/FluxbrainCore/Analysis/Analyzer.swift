import Foundation
import Logging

/// Something that analyzes an incident: Errorbrain's client in production, a stub in tests.
package protocol AnalysisService: Sendable {
    /// Analyzes `incident` once (with whatever retries the service does inside one attempt).
    ///
    /// Throws when no verdict could be had; the message of the error is recorded as the failure reason, so it
    /// must not contain response bodies or secrets.
    func analyze(_ incident: Incident) async throws -> AnalysisResult

    /// Analyzes an incident that is already redacted; a service that redacts what it sends can skip that.
    /// By default the same as `analyze(_: Incident)`.
    func analyze(_ incident: RedactedIncident) async throws -> AnalysisResult
}

extension AnalysisService {
    package func analyze(_ incident: RedactedIncident) async throws -> AnalysisResult {
        try await analyze(incident.incident)
    }
}

/// What the `Analyzer` decided for one incident.
package enum AnalysisDecision: Sendable, Hashable {
    /// Notify now with this outcome (analyzed, unavailable after the last attempt, or not configured).
    case ready(AnalysisOutcome)
    /// Analysis failed `failures` times (fewer than the maximum): do not notify yet; try again at `until`.
    case deferred(until: Date, failures: Int)

    /// The outcome, when ready.
    package var outcome: AnalysisOutcome? {
        if case .ready(let outcome) = self { return outcome }
        return nil
    }
}

/// How an analysis ended, for `fluxbrain_analysis_total{result}`.
package enum AnalysisMetricResult: String, Sendable, Hashable, CaseIterable {
    /// Errorbrain answered.
    case analyzed
    /// A cached verdict was used; Errorbrain was not called.
    case cached
    /// Still in backoff; Errorbrain was not called.
    case backoff
    /// Errorbrain failed; the incident waits for its next try.
    case failed
    /// Errorbrain failed the last allowed time (or is still in backoff after it): notified without analysis.
    case unavailable
    /// No `FLUXBRAIN_ERRORBRAIN_URL`.
    case notConfigured = "not_configured"
}

/// Receives analysis measurements; the service wires one that feeds swift-metrics
/// (`fluxbrain_analysis_total{result}`, `fluxbrain_analysis_seconds`).
package protocol AnalysisObserver: Sendable {
    /// One `analyze` call ended with `result`; `serviceSeconds` is how long the service call took, if one was made.
    func analysisFinished(result: AnalysisMetricResult, serviceSeconds: Double?)
}

/// An observer that ignores everything.
package struct NoAnalysisObserver: AnalysisObserver {
    package init() {}
    package func analysisFinished(result: AnalysisMetricResult, serviceSeconds: Double?) {}
}

/// Decides, for one incident, whether to use a cached verdict, wait, ask Errorbrain, or notify without analysis.
///
/// 1. No service (`FLUXBRAIN_ERRORBRAIN_URL` unset) → `.ready(.notConfigured)`.
/// 2. A cached verdict for the fingerprint → `.ready(.analyzed)` without calling Errorbrain: reminders and second
///    channels never re-analyze.
/// 3. A failure record whose `nextAttemptAt` is still ahead → `.deferred(until:failures:)`, or, once `maxAttempts`
///    failures are reached, `.ready(.unavailable)` (the notification goes out without analysis).
/// 4. Otherwise the service is called. Success → cache it, clear failures, `.ready(.analyzed)`. Failure → record it
///    (backoff `failures × base`, capped); with `failures ≥ maxAttempts` → `.ready(.unavailable)`, else
///    `.deferred`. After the last attempt, a later call (a reminder) tries once more when the backoff has passed,
///    so an incident can still get its analysis when Errorbrain comes back.
///
/// Time is the store's (`AnalysisStore.now()`), so replicas agree on backoff deadlines.
package struct Analyzer: Sendable {
    private let service: (any AnalysisService)?
    private let store: any AnalysisStore
    private let backoff: Backoff
    private let maxAttempts: Int
    private let observer: any AnalysisObserver
    private let logger: Logger

    /// - Parameters:
    ///   - service: Errorbrain's client; `nil` when `FLUXBRAIN_ERRORBRAIN_URL` is unset.
    ///   - store: shared cache and failure records.
    ///   - backoff: `FLUXBRAIN_BACKOFF_BASE` / `FLUXBRAIN_BACKOFF_MAX`.
    ///   - maxAttempts: `FLUXBRAIN_ANALYSIS_MAX_ATTEMPTS` (default 3); at least 1.
    package init(
        service: (any AnalysisService)?,
        store: any AnalysisStore,
        backoff: Backoff = Backoff(),
        maxAttempts: Int = 3,
        observer: any AnalysisObserver = NoAnalysisObserver(),
        logger: Logger
    ) {
        self.service = service
        self.store = store
        self.backoff = backoff
        self.maxAttempts = max(1, maxAttempts)
        self.observer = observer
        self.logger = logger
    }

    /// Decides what the notification for `incident` carries, calling Errorbrain if needed.
    ///
    /// Throws only when the store fails (`CoreError`) or the task is cancelled; an Errorbrain failure is a
    /// decision, not an error.
    package func analyze(_ incident: Incident) async throws -> AnalysisDecision {
        try await analyze(incident, deferringWrite: false) { service in try await service.analyze(incident) }.decision
    }

    /// `analyze(_:)` for an incident the pipeline has redacted; the service does not redact it again.
    package func analyze(_ redacted: RedactedIncident) async throws -> AnalysisDecision {
        try await analyze(redacted, deferringWrite: false).decision
    }

    /// `analyze(_:)` for a redacted incident; with `deferringWrite`, a fresh verdict is not cached here but returned
    /// as `write`, for the caller to write with its next store call (``PendingAnalysisWrite``). Until it is written,
    /// other replicas do not see it (a second channel or a reminder elsewhere would analyze again).
    ///
    /// With `nothingStored` the caller knows the store holds nothing for the fingerprint (the first attempt of an
    /// item that opens its incident, ``WorkItem/opensIncident``): the lookup is skipped and the service asked at
    /// once, saving a store round trip.
    package func analyze(
        _ redacted: RedactedIncident,
        deferringWrite: Bool,
        nothingStored: Bool = false
    ) async throws -> (decision: AnalysisDecision, write: PendingAnalysisWrite?) {
        try await analyze(redacted.incident, deferringWrite: deferringWrite, nothingStored: nothingStored) { service in
            try await service.analyze(redacted)
        }
    }

    private func analyze(
        _ incident: Incident,
        deferringWrite: Bool,
        nothingStored: Bool = false,
        calling call: (any AnalysisService) async throws -> AnalysisResult
    ) async throws -> (decision: AnalysisDecision, write: PendingAnalysisWrite?) {
        // Made only when something is logged: most items log nothing here.
        func incidentLogger() -> Logger {
            var logger = self.logger
            logger[metadataKey: "fingerprint"] = "\(incident.fingerprint.short)"
            logger[metadataKey: "object"] = "\(incident.object)"
            return logger
        }
        guard let service else {
            observer.analysisFinished(result: .notConfigured, serviceSeconds: nil)
            return (.ready(.notConfigured), nil)
        }
        let fingerprint = incident.fingerprint
        let stored = nothingStored ? AnalysisLookup(result: nil, failure: nil) : try await store.lookup(fingerprint)
        if let cached = stored.result {
            observer.analysisFinished(result: .cached, serviceSeconds: nil)
            return (.ready(.analyzed(cached)), nil)
        }
        if let state = stored.failure {
            let now = try await store.now()
            if now < state.nextAttemptAt {
                if state.failures >= maxAttempts {
                    observer.analysisFinished(result: .unavailable, serviceSeconds: nil)
                    return (.ready(.unavailable(reason: state.lastError, attempts: state.failures)), nil)
                }
                observer.analysisFinished(result: .backoff, serviceSeconds: nil)
                return (.deferred(until: state.nextAttemptAt, failures: state.failures), nil)
            }
        }

        let started = ContinuousClock.now
        do {
            let result = try await call(service)
            let seconds = (ContinuousClock.now - started).timeInterval
            let write = PendingAnalysisWrite(store: store, result: result, fingerprint: fingerprint)
            if !deferringWrite { try await write.perform() }
            observer.analysisFinished(result: .analyzed, serviceSeconds: seconds)
            if logger.logLevel <= .debug {
                incidentLogger().debug(
                    "incident analyzed",
                    metadata: ["verdict": "\(result.verdictID)", "seconds": "\(seconds)"]
                )
            }
            return (.ready(.analyzed(result)), deferringWrite ? write : nil)
        } catch {
            let seconds = (ContinuousClock.now - started).timeInterval
            if error is CancellationError || Task.isCancelled { throw error }
            let reason = Redactor().redact(String(describing: error))
            let state = try await store.recordFailure(for: fingerprint, reason: reason, backoff: backoff)
            if state.failures >= maxAttempts {
                observer.analysisFinished(result: .unavailable, serviceSeconds: seconds)
                incidentLogger().warning(
                    "analysis unavailable: notifying without it",
                    metadata: ["failures": "\(state.failures)", "error": "\(reason)"]
                )
                return (.ready(.unavailable(reason: reason, attempts: state.failures)), nil)
            }
            observer.analysisFinished(result: .failed, serviceSeconds: seconds)
            incidentLogger().notice(
                "analysis failed: will try again",
                metadata: [
                    "failures": "\(state.failures)", "next_attempt": "\(RFC3339.string(from: state.nextAttemptAt))",
                    "error": "\(reason)",
                ]
            )
            return (.deferred(until: state.nextAttemptAt, failures: state.failures), nil)
        }
    }
}
