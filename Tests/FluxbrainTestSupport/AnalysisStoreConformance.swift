import FluxbrainCore
import Foundation

/// The semantics every `AnalysisStore` must have (see the protocol's documentation), as a reusable suite.
///
/// Call it from a test with a fresh, empty store: `try await AnalysisStoreConformance.run(store)`. It throws a
/// `ConformanceFailure` naming the first broken rule. It does not depend on the store's clock: deadlines are checked
/// against the `lastFailureAt` the store reports and against `now()` bounds taken around each call, so a store on
/// Redis `TIME` passes as well as one on a manual clock. Fingerprints are random, so a shared Redis can be used.
package enum AnalysisStoreConformance {
    /// Runs every check against `store`.
    package static func run(_ store: any AnalysisStore) async throws {
        try await cachesResultsPerFingerprint(store)
        try await countsFailuresAndSchedulesBackoff(store)
        try await keepsResultsAndFailuresIndependent(store)
        try await forgetDropsEverything(store)
        try await countsConcurrentFailures(store)
        try await lookupAndStoreSuccessMatchTheSingleCalls(store)
    }

    /// A stored result comes back equal; another fingerprint sees nothing; a second store overwrites.
    package static func cachesResultsPerFingerprint(_ store: any AnalysisStore) async throws {
        let fingerprint = randomFingerprint()
        let other = randomFingerprint()
        try check(try await store.cachedResult(for: fingerprint) == nil, "a new fingerprint has no cached result")
        let first = sampleResult(verdictID: "first")
        try await store.storeResult(first, for: fingerprint)
        try check(try await store.cachedResult(for: fingerprint) == first, "a stored result comes back equal")
        try check(try await store.cachedResult(for: other) == nil, "results are per fingerprint")
        let second = sampleResult(verdictID: "second")
        try await store.storeResult(second, for: fingerprint)
        try check(try await store.cachedResult(for: fingerprint) == second, "storeResult overwrites")
    }

    /// Failures count 1, 2, 3…; `nextAttemptAt = lastFailureAt + backoff`; `lastError` is the latest reason;
    /// `clearFailures` resets the count.
    package static func countsFailuresAndSchedulesBackoff(_ store: any AnalysisStore) async throws {
        let fingerprint = randomFingerprint()
        let backoff = Backoff(base: .seconds(30), maximum: .seconds(75))
        try check(try await store.failureState(for: fingerprint) == nil, "a new fingerprint has no failure state")
        for expected in 1...4 {
            let before = try await store.now()
            let state = try await store.recordFailure(for: fingerprint, reason: "failure \(expected)", backoff: backoff)
            let after = try await store.now()
            try check(
                state.failures == expected,
                "failure \(expected) is counted as \(expected), not \(state.failures)"
            )
            try check(
                state.lastFailureAt >= before.addingTimeInterval(-0.001)
                    && state.lastFailureAt <= after.addingTimeInterval(0.001),
                "lastFailureAt is the store's now()"
            )
            let wait = backoff.delay(afterFailures: expected).timeInterval
            try check(
                abs(state.nextAttemptAt.timeIntervalSince(state.lastFailureAt) - wait) < 0.001,
                "nextAttemptAt is lastFailureAt + \(wait)s after \(expected) failures"
            )
            try check(state.lastError == "failure \(expected)", "lastError is the latest reason")
            try check(try await store.failureState(for: fingerprint) == state, "failureState returns what was recorded")
        }
        try await store.clearFailures(for: fingerprint)
        try check(try await store.failureState(for: fingerprint) == nil, "clearFailures drops the failure state")
        let again = try await store.recordFailure(for: fingerprint, reason: "again", backoff: backoff)
        try check(again.failures == 1, "counting restarts at 1 after clearFailures")
    }

    /// `storeResult` keeps failures; `clearFailures` keeps the result; fingerprints do not interfere.
    package static func keepsResultsAndFailuresIndependent(_ store: any AnalysisStore) async throws {
        let fingerprint = randomFingerprint()
        let other = randomFingerprint()
        _ = try await store.recordFailure(for: fingerprint, reason: "x", backoff: Backoff())
        try await store.storeResult(sampleResult(verdictID: "r"), for: fingerprint)
        try check(try await store.failureState(for: fingerprint)?.failures == 1, "storeResult does not clear failures")
        try await store.clearFailures(for: fingerprint)
        try check(try await store.cachedResult(for: fingerprint) != nil, "clearFailures does not drop the result")
        try check(try await store.failureState(for: other) == nil, "failures are per fingerprint")
        try await store.clearFailures(for: other)
        try await store.forget(other)
    }

    /// `forget` drops both the result and the failure state.
    package static func forgetDropsEverything(_ store: any AnalysisStore) async throws {
        let fingerprint = randomFingerprint()
        try await store.storeResult(sampleResult(verdictID: "f"), for: fingerprint)
        _ = try await store.recordFailure(for: fingerprint, reason: "x", backoff: Backoff())
        try await store.forget(fingerprint)
        try check(try await store.cachedResult(for: fingerprint) == nil, "forget drops the result")
        try check(try await store.failureState(for: fingerprint) == nil, "forget drops the failure state")
    }

    /// Concurrent `recordFailure` calls are atomic: ten at once count ten.
    package static func countsConcurrentFailures(_ store: any AnalysisStore) async throws {
        let fingerprint = randomFingerprint()
        try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<10 {
                group.addTask {
                    try await store.recordFailure(for: fingerprint, reason: "\(index)", backoff: Backoff()).failures
                }
            }
            var seen: Set<Int> = []
            for try await count in group { seen.insert(count) }
            try check(seen == Set(1...10), "ten concurrent failures count 1…10 once each, got \(seen.sorted())")
        }
        try check(try await store.failureState(for: fingerprint)?.failures == 10, "ten concurrent failures are ten")
    }

    /// `lookup` gives what `cachedResult` and `failureState` give; `storeSuccess` stores the result and drops the
    /// failure record, and touches no other fingerprint.
    package static func lookupAndStoreSuccessMatchTheSingleCalls(_ store: any AnalysisStore) async throws {
        let fingerprint = randomFingerprint()
        let other = randomFingerprint()
        try check(
            try await store.lookup(fingerprint) == AnalysisLookup(result: nil, failure: nil),
            "lookup of a new fingerprint finds nothing"
        )
        let failure = try await store.recordFailure(for: fingerprint, reason: "down", backoff: Backoff())
        _ = try await store.recordFailure(for: other, reason: "other", backoff: Backoff())
        try check(
            try await store.lookup(fingerprint) == AnalysisLookup(result: nil, failure: failure),
            "lookup finds the failure record"
        )
        let result = sampleResult(verdictID: "success")
        try await store.storeSuccess(result, for: fingerprint)
        try check(
            try await store.lookup(fingerprint) == AnalysisLookup(result: result, failure: nil),
            "storeSuccess stores the result and drops the failure record"
        )
        try check(try await store.cachedResult(for: fingerprint) == result, "storeSuccess's result is the cached one")
        try check(try await store.failureState(for: other)?.failures == 1, "storeSuccess keeps other fingerprints")
        try check(try await store.lookup(other).result == nil, "lookup is per fingerprint")
    }

    // MARK: Helpers

    /// A random fingerprint.
    package static func randomFingerprint() -> Fingerprint {
        Fingerprint(
            cluster: "conformance",
            kind: "Kustomization",
            namespace: "flux-system",
            name: UUID().uuidString,
            reason: "BuildFailed",
            revision: nil
        )
    }

    /// A small, complete result.
    package static func sampleResult(verdictID: String) -> AnalysisResult {
        AnalysisResult(
            verdictID: verdictID,
            eventID: "550e8400-e29b-41d4-a716-446655440001",
            title: "Issue observed in x",
            description: "d",
            confidence: 0.85,
            severity: .critical,
            affectedComponents: ["x"],
            actions: [.init(title: "Inspect recent error", description: "…", urgency: .high)],
            evidenceRefs: [],
            createdAt: Date(timeIntervalSince1970: 1_800_000_000),
            retrySafety: RetrySafety(
                fluxRetries: true,
                summary: "Flux retries on its own every 2m0s",
                basis: .fluxState
            )
        )
    }

    private static func check(_ condition: Bool, _ rule: String, file: String = #fileID, line: Int = #line) throws {
        if !condition { throw AnalysisStoreConformanceFailure(rule: rule, file: file, line: line) }
    }
}

/// A broken `AnalysisStore` rule.
package struct AnalysisStoreConformanceFailure: Error, CustomStringConvertible {
    package var rule: String
    package var file: String
    package var line: Int
    package var description: String { "AnalysisStore conformance: \(rule) [\(file):\(line)]" }
}
