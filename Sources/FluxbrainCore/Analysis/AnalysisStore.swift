import Foundation

/// The failure record of one incident's analysis: how often it failed in a row and when to try again.
package struct AnalysisFailureState: Sendable, Codable, Hashable {
    /// Consecutive failed analyses (1 after the first failure).
    package var failures: Int
    /// When the last failure was recorded, in the store's time.
    package var lastFailureAt: Date
    /// `lastFailureAt + backoff.delay(afterFailures: failures)`: no analysis before then.
    package var nextAttemptAt: Date
    /// Why the last try failed (already redacted; never a response body).
    package var lastError: String

    package init(failures: Int, lastFailureAt: Date, nextAttemptAt: Date, lastError: String) {
        self.failures = failures
        self.lastFailureAt = lastFailureAt
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
    }
}

/// The shared state of analysis, keyed by fingerprint: cached verdicts and failure records.
///
/// This is the port replicas share once coordination lands (a Redis implementation will follow); the in-memory
/// implementation is `InMemoryAnalysisStore`. Every implementation must pass the conformance suite in
/// `FluxbrainTestSupport` (`AnalysisStoreConformance.run`). The semantics:
///
/// - **Time comes from the store.** `now()` is the store's clock (Redis `TIME` for Redis), and every timestamp the
///   store writes (`lastFailureAt`, `nextAttemptAt`) is in that clock, so replicas with skewed clocks agree.
/// - **Results and failures are independent.** `storeResult` does not clear failures and `clearFailures` does not
///   drop a result; the `Analyzer` calls both after a success. `forget` drops both.
/// - **`storeResult` overwrites** any earlier result for the fingerprint. Implementations may expire results after
///   a long time (days), never sooner than `FLUXBRAIN_REPEAT_INTERVAL`, so a reminder finds the result.
/// - **`recordFailure` is atomic**: read-increment-write in one step, so two replicas failing at once count two
///   failures. It sets `failures` to the previous count + 1 (1 when there was none), `lastFailureAt` to `now()`,
///   `nextAttemptAt` to `backoff.nextAttempt(afterFailures: failures, failedAt: lastFailureAt)`, `lastError` to
///   `reason`, and returns the new state.
/// - **Fingerprints are independent**: nothing done to one is visible under another.
/// - Errors are thrown only when the store itself is unreachable or corrupt (`CoreError` with `.unavailable` or
///   `.invalidInput`); a missing entry is `nil`, never an error.
package protocol AnalysisStore: Sendable {
    /// The store's current time.
    func now() async throws -> Date
    /// The cached verdict for the incident, if any.
    func cachedResult(for fingerprint: Fingerprint) async throws -> AnalysisResult?
    /// Caches `result` for the incident, replacing any earlier one.
    func storeResult(_ result: AnalysisResult, for fingerprint: Fingerprint) async throws
    /// Records one more failed analysis and returns the new state (see the protocol's semantics).
    func recordFailure(
        for fingerprint: Fingerprint,
        reason: String,
        backoff: Backoff
    ) async throws
        -> AnalysisFailureState
    /// The incident's failure record, or `nil` when it has none.
    func failureState(for fingerprint: Fingerprint) async throws -> AnalysisFailureState?
    /// Drops the incident's failure record (after a success).
    func clearFailures(for fingerprint: Fingerprint) async throws
    /// Drops everything about the incident (it resolved).
    func forget(_ fingerprint: Fingerprint) async throws
    /// ``cachedResult(for:)`` and ``failureState(for:)`` together: what the `Analyzer` reads before deciding. A store
    /// may answer both in one round trip; by default, the two calls.
    func lookup(_ fingerprint: Fingerprint) async throws -> AnalysisLookup
    /// ``storeResult(_:for:)`` then ``clearFailures(for:)``: what the `Analyzer` writes after a success. A store may
    /// do both in one round trip; by default, the two calls.
    func storeSuccess(_ result: AnalysisResult, for fingerprint: Fingerprint) async throws
}

/// A verdict the ``Analyzer`` got but has not cached yet (``AnalysisStore/storeSuccess(_:for:)``): the pipeline
/// writes it together with its next store call, the notification claim, in one round trip on Redis
/// (``NotificationStore/claim(fingerprint:channel:status:token:settings:after:)``).
package struct PendingAnalysisWrite: Sendable {
    /// The store to write to.
    package var store: any AnalysisStore
    package var result: AnalysisResult
    package var fingerprint: Fingerprint

    package init(store: any AnalysisStore, result: AnalysisResult, fingerprint: Fingerprint) {
        self.store = store
        self.result = result
        self.fingerprint = fingerprint
    }

    /// Writes it on its own: ``AnalysisStore/storeSuccess(_:for:)``.
    package func perform() async throws {
        try await store.storeSuccess(result, for: fingerprint)
    }
}

/// What an ``AnalysisStore`` holds for one fingerprint.
package struct AnalysisLookup: Sendable, Hashable {
    /// The cached verdict, if any.
    package var result: AnalysisResult?
    /// The failure record, if any.
    package var failure: AnalysisFailureState?

    package init(result: AnalysisResult?, failure: AnalysisFailureState?) {
        self.result = result
        self.failure = failure
    }
}

extension AnalysisStore {
    package func lookup(_ fingerprint: Fingerprint) async throws -> AnalysisLookup {
        AnalysisLookup(
            result: try await cachedResult(for: fingerprint),
            failure: try await failureState(for: fingerprint)
        )
    }

    package func storeSuccess(_ result: AnalysisResult, for fingerprint: Fingerprint) async throws {
        try await storeResult(result, for: fingerprint)
        try await clearFailures(for: fingerprint)
    }
}

/// An `AnalysisStore` in process memory, for a single replica and for tests; time from an injected `WallClock`.
package actor InMemoryAnalysisStore: AnalysisStore {
    private let clock: any WallClock
    private var results: [Fingerprint: AnalysisResult] = [:]
    private var failures: [Fingerprint: AnalysisFailureState] = [:]

    /// A store that reads time from `clock`.
    package init(clock: any WallClock = SystemWallClock()) {
        self.clock = clock
    }

    package func now() -> Date { clock.now() }

    package func cachedResult(for fingerprint: Fingerprint) -> AnalysisResult? { results[fingerprint] }

    package func storeResult(_ result: AnalysisResult, for fingerprint: Fingerprint) {
        results[fingerprint] = result
    }

    package func recordFailure(
        for fingerprint: Fingerprint,
        reason: String,
        backoff: Backoff
    )
        -> AnalysisFailureState
    {
        let now = clock.now()
        let count = (failures[fingerprint]?.failures ?? 0) + 1
        let state = AnalysisFailureState(
            failures: count,
            lastFailureAt: now,
            nextAttemptAt: backoff.nextAttempt(afterFailures: count, failedAt: now),
            lastError: reason
        )
        failures[fingerprint] = state
        return state
    }

    package func failureState(for fingerprint: Fingerprint) -> AnalysisFailureState? { failures[fingerprint] }

    package func clearFailures(for fingerprint: Fingerprint) {
        failures[fingerprint] = nil
    }

    package func forget(_ fingerprint: Fingerprint) {
        results[fingerprint] = nil
        failures[fingerprint] = nil
    }
}
