import FluxbrainCore
import FluxbrainTestSupport
import Foundation
import Logging
import Synchronization
import Testing

/// An analysis service that plays back scripted answers and counts calls.
final class ScriptedAnalysisService: AnalysisService {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private let script: Mutex<[Result<AnalysisResult, Failure>]>
    private let calls = Mutex(0)

    init(_ script: [Result<AnalysisResult, Failure>]) {
        self.script = Mutex(script)
    }

    var callCount: Int { calls.withLock { $0 } }

    func analyze(_ incident: Incident) async throws -> AnalysisResult {
        calls.withLock { $0 += 1 }
        let next = script.withLock { $0.isEmpty ? nil : $0.removeFirst() }
        guard let next else { throw Failure(description: "script exhausted") }
        return try next.get()
    }
}

/// Records analysis metrics.
final class RecordingObserver: AnalysisObserver {
    private let results = Mutex<[AnalysisMetricResult]>([])
    var recorded: [AnalysisMetricResult] { results.withLock { $0 } }
    func analysisFinished(result: AnalysisMetricResult, serviceSeconds: Double?) {
        results.withLock { $0.append(result) }
    }
}

@Suite struct AnalysisAnalyzerTests {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    @Test func withoutServiceNotifiesWithFluxContextOnly() async throws {
        let analyzer = Analyzer(service: nil, store: InMemoryAnalysisStore(), logger: logger)
        #expect(try await analyzer.analyze(AnalysisFixtures.incident()) == .ready(.notConfigured))
    }

    @Test func successIsCachedSoARemindersDoesNotReanalyze() async throws {
        let incident = AnalysisFixtures.incident()
        let result = AnalysisFixtures.result(for: incident)
        let service = ScriptedAnalysisService([.success(result)])
        let observer = RecordingObserver()
        let analyzer = Analyzer(
            service: service,
            store: InMemoryAnalysisStore(clock: ManualClock().wall),
            observer: observer,
            logger: logger
        )
        #expect(try await analyzer.analyze(incident) == .ready(.analyzed(result)))
        #expect(try await analyzer.analyze(incident) == .ready(.analyzed(result)))
        #expect(try await analyzer.analyze(incident) == .ready(.analyzed(result)))
        #expect(service.callCount == 1)
        #expect(observer.recorded == [.analyzed, .cached, .cached])
    }

    @Test func firstFiveRetriesWaitThirtySixtyNinetyOneTwentyOneFiftySeconds() async throws {
        let clock = ManualClock(start: AnalysisFixtures.start)
        let service = ScriptedAnalysisService([])  // always fails
        let analyzer = Analyzer(
            service: service,
            store: InMemoryAnalysisStore(clock: clock.wall),
            backoff: Backoff(),
            maxAttempts: 100,
            logger: logger
        )
        let incident = AnalysisFixtures.incident()
        var waits: [TimeInterval] = []
        for failures in 1...5 {
            let now = clock.date
            guard case .deferred(let until, let count) = try await analyzer.analyze(incident) else {
                Issue.record("expected a deferral")
                return
            }
            #expect(count == failures)
            waits.append(until.timeIntervalSince(now))
            // Before the deadline nothing is tried.
            clock.advance(by: .seconds(Int64(until.timeIntervalSince(now)) - 1))
            #expect(try await analyzer.analyze(incident) == .deferred(until: until, failures: failures))
            clock.advance(by: .seconds(1))
        }
        #expect(waits == [30, 60, 90, 120, 150])
        #expect(service.callCount == 5)
    }

    @Test func backoffIsCappedAtOneHour() async throws {
        let clock = ManualClock(start: AnalysisFixtures.start)
        let store = InMemoryAnalysisStore(clock: clock.wall)
        let incident = AnalysisFixtures.incident()
        for _ in 1...199 {
            _ = try await store.recordFailure(for: incident.fingerprint, reason: "down", backoff: Backoff())
        }
        clock.advance(by: .seconds(7200))
        let analyzer = Analyzer(
            service: ScriptedAnalysisService([]),
            store: store,
            backoff: Backoff(),
            maxAttempts: 1000,
            logger: logger
        )
        let now = clock.date
        #expect(try await analyzer.analyze(incident) == .deferred(until: now.addingTimeInterval(3600), failures: 200))
    }

    @Test func afterMaxAttemptsItIsNotifiedAnywayAsUnavailable() async throws {
        let clock = ManualClock(start: AnalysisFixtures.start)
        let incident = AnalysisFixtures.incident()
        let result = AnalysisFixtures.result(for: incident)
        let service = ScriptedAnalysisService([
            .failure(.init(description: "Errorbrain: /events answered 500")),
            .failure(.init(description: "Errorbrain: /events answered 500")),
            .failure(.init(description: "Errorbrain: /events: no answer in time")),
            .success(result),
        ])
        let observer = RecordingObserver()
        let analyzer = Analyzer(
            service: service,
            store: InMemoryAnalysisStore(clock: clock.wall),
            maxAttempts: 3,
            observer: observer,
            logger: logger
        )

        #expect(
            try await analyzer.analyze(incident) == .deferred(until: clock.date.addingTimeInterval(30), failures: 1)
        )
        clock.advance(by: .seconds(30))
        #expect(
            try await analyzer.analyze(incident) == .deferred(until: clock.date.addingTimeInterval(60), failures: 2)
        )
        clock.advance(by: .seconds(60))
        let third = try await analyzer.analyze(incident)
        #expect(third == .ready(.unavailable(reason: "Errorbrain: /events: no answer in time", attempts: 3)))
        // A reminder inside the backoff carries "analysis unavailable" without calling Errorbrain again.
        clock.advance(by: .seconds(10))
        #expect(try await analyzer.analyze(incident) == third)
        #expect(service.callCount == 3)
        // Once the backoff has passed, a reminder tries again and can carry the analysis.
        clock.advance(by: .seconds(80))
        #expect(try await analyzer.analyze(incident) == .ready(.analyzed(result)))
        #expect(service.callCount == 4)
        #expect(observer.recorded == [.failed, .failed, .unavailable, .unavailable, .analyzed])
    }

    @Test func successClearsFailures() async throws {
        let clock = ManualClock(start: AnalysisFixtures.start)
        let store = InMemoryAnalysisStore(clock: clock.wall)
        let incident = AnalysisFixtures.incident()
        let service = ScriptedAnalysisService([
            .failure(.init(description: "down")), .success(AnalysisFixtures.result(for: incident)),
        ])
        let analyzer = Analyzer(service: service, store: store, logger: logger)
        _ = try await analyzer.analyze(incident)
        #expect(try await store.failureState(for: incident.fingerprint)?.failures == 1)
        clock.advance(by: .seconds(30))
        _ = try await analyzer.analyze(incident)
        #expect(try await store.failureState(for: incident.fingerprint) == nil)
    }

    /// A failure is logged with the incident it concerns; a success only at debug (the dispatcher's "notification
    /// sent" line names the verdict).
    @Test func failuresAreLoggedWithTheIncidentAndSuccessesOnlyAtDebug() async throws {
        let clock = ManualClock(start: AnalysisFixtures.start)
        let incident = AnalysisFixtures.incident()
        let service = ScriptedAnalysisService([
            .failure(.init(description: "down")), .success(AnalysisFixtures.result(for: incident)),
        ])
        let logs = CapturedLogs()
        let analyzer = Analyzer(
            service: service,
            store: InMemoryAnalysisStore(clock: clock.wall),
            logger: logs.logger(level: .debug)
        )
        _ = try await analyzer.analyze(incident)
        clock.advance(by: .seconds(30))
        _ = try await analyzer.analyze(incident)
        let entries = logs.entries
        #expect(entries.map(\.message) == ["analysis failed: will try again", "incident analyzed"])
        #expect(entries.map(\.level) == [.notice, .debug])
        #expect(entries.allSatisfy { $0.metadata["object"] == "\(incident.object)" })
        #expect(entries.last?.metadata["verdict"] == AnalysisFixtures.result(for: incident).verdictID)
    }

    /// The first attempt of an item that opens its incident skips the store: Errorbrain is asked even though the
    /// store holds a verdict (left there by an earlier incident of the same fingerprint); without it, the verdict is
    /// used.
    @Test func nothingStoredSkipsTheLookup() async throws {
        let store = InMemoryAnalysisStore()
        let incident = AnalysisFixtures.incident()
        var left = AnalysisFixtures.result(for: incident)
        left.verdictID = "left-from-before"
        try await store.storeResult(left, for: incident.fingerprint)
        let fresh = AnalysisFixtures.result(for: incident)
        let service = ScriptedAnalysisService([.success(fresh)])
        let analyzer = Analyzer(service: service, store: store, logger: logger)
        let redacted = Redactor().redacted(incident)
        let looked = try await analyzer.analyze(redacted, deferringWrite: true).decision
        #expect(looked == .ready(.analyzed(left)))
        #expect(service.callCount == 0)
        let (skipped, write) = try await analyzer.analyze(redacted, deferringWrite: true, nothingStored: true)
        #expect(skipped == .ready(.analyzed(fresh)))
        #expect(service.callCount == 1)
        #expect(write != nil)
    }

    @Test func failureReasonIsRedacted() async throws {
        let incident = AnalysisFixtures.incident()
        let service = ScriptedAnalysisService([
            .failure(.init(description: "could not connect to https://u:hunter2@eb"))
        ])
        let analyzer = Analyzer(service: service, store: InMemoryAnalysisStore(), maxAttempts: 1, logger: logger)
        guard case .ready(.unavailable(let reason, 1)) = try await analyzer.analyze(incident) else {
            Issue.record("expected unavailable")
            return
        }
        #expect(!reason.contains("hunter2"))
    }

    @Test(arguments: [
        (FailureState.stalled, false, "Flux has stopped retrying: it needs a change to the source or spec"),
        (FailureState.retrying, true, "Flux retries on its own every 2m0s"),
    ])
    func retrySafetyIsDerivedFromFluxState(state: FailureState, retries: Bool, summary: String) {
        let safety = RetrySafety.derived(from: AnalysisFixtures.incident(state: state))
        #expect(safety.fluxRetries == retries)
        #expect(safety.summary == summary)
        #expect(safety.basis == .fluxState)
    }
}
