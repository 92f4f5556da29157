import FluxbrainCore
import FluxbrainIntegrations
import FluxbrainTestSupport
import Foundation
import Logging
import Testing

@Suite(.timeLimit(.minutes(2))) struct ErrorbrainClientTests {
    @Test func successSendsASchemaValidEventAndDecodesTheVerdict() async throws {
        try await FakeErrorbrain.with { fake in
            let incident = ErrorbrainFixtures.incident()
            let result = try await ErrorbrainFixtures.client(fake).analyze(incident)

            // The fake answers 422 to anything the JSON Schema rejects, so a verdict proves the body was valid.
            let requests = try fake.requests()
            #expect(requests.count == 1)
            #expect(requests[0].valid, "\(requests[0].errors)")
            let body = try #require(requests[0].body)
            #expect(body["id"]?.stringValue == ErrorEventBuilder.eventID(for: incident.fingerprint))
            #expect(body["source"]?["language"]?.stringValue == "other")
            #expect(body["source"]?["name"]?.stringValue == "kustomize-controller")
            #expect(body["source"]?["environment"]?.stringValue == "staging")
            #expect(body["severity"]?.stringValue == "error")
            #expect(body["error_type"]?.stringValue == "BuildFailed")
            #expect(body["metadata"]?["component"]?.stringValue == "Kustomization/flux-system/infra")
            #expect(
                body["evidence"]?.arrayValue?.compactMap { $0["type"]?.stringValue } == ["custom", "event", "log_line"]
            )

            #expect(result.eventID == ErrorEventBuilder.eventID(for: incident.fingerprint))
            #expect(result.title == "Issue observed in kustomize-controller")
            #expect(result.description == incident.message)
            #expect(result.confidence == 0.85)
            #expect(result.severity == .critical)
            #expect(result.affectedComponents == ["kustomize-controller", "Kustomization/flux-system/infra"])
            #expect(result.actions.map(\.title) == ["Inspect recent error", "Mitigate impact", "Check tagged context"])
            #expect(result.actions.map(\.urgency) == [.high, .high, .high])
            #expect(result.evidenceRefs.count == 3)
            #expect(result.retrySafety == RetrySafety.derived(from: incident))
            #expect(result.retrySafety.summary == "Flux retries on its own every 2m0s")
            let created = try #require(result.createdAt)
            #expect(abs(created.timeIntervalSinceNow) < 600)
        }
    }

    @Test func stalledIncidentSaysFluxStoppedRetrying() async throws {
        try await FakeErrorbrain.with { fake in
            let result = try await ErrorbrainFixtures.client(fake).analyze(ErrorbrainFixtures.incident(state: .stalled))
            #expect(result.retrySafety.fluxRetries == false)
            #expect(result.retrySafety.summary == "Flux has stopped retrying: it needs a change to the source or spec")
            #expect(result.retrySafety.basis == .fluxState)
        }
    }

    @Test func verdictRetryJudgementIsUsedWhenPresent() async throws {
        try await FakeErrorbrain.with(mode: .retrySafe) { fake in
            let result = try await ErrorbrainFixtures.client(fake).analyze(ErrorbrainFixtures.incident())
            #expect(result.retrySafety.basis == .errorbrain)
            #expect(result.retrySafety.fluxRetries == false)
            #expect(result.retrySafety.summary.contains("a commit is needed"))
        }
    }

    @Test func uppercaseIdsAndTimezonelessCreatedAtAreDecoded() async throws {
        try await FakeErrorbrain.with(mode: .uppercase) { fake in
            let incident = ErrorbrainFixtures.incident()
            let result = try await ErrorbrainFixtures.client(fake).analyze(incident)
            #expect(result.eventID == ErrorEventBuilder.eventID(for: incident.fingerprint))
            #expect(result.verdictID == result.verdictID.lowercased())
            #expect(result.createdAt != nil)
        }
    }

    @Test func rejection422IsNotRetriedAndLogsLocationsButNeverTheBody() async throws {
        try await FakeErrorbrain.with(mode: .reject422) { fake in
            let logs = CapturedLogs()
            let marker = "UNIQUE-BODY-TEXT-4711"
            let client = ErrorbrainFixtures.client(fake, logger: logs.logger())
            let error = try await #require(throws: ErrorbrainError.self) {
                try await client.analyze(
                    ErrorbrainFixtures.incident(message: marker, eventMessage: marker, logMessage: marker)
                )
            }
            #expect(error.code == .rejected)
            #expect(error.status == 422)
            #expect(error.locations == ["body.message"])
            #expect(!"\(error)".contains(marker))
            #expect(try fake.requests().count == 1)
            #expect(logs.allText.contains("body.message"))
            #expect(logs.allText.contains("422"))
            #expect(!logs.allText.contains(marker))
        }
    }

    @Test func theFakeRejectsWhatTheSchemaRejects() async throws {
        try await FakeErrorbrain.with { fake in
            let client = ErrorbrainFixtures.client(fake)
            var event = client.event(for: ErrorbrainFixtures.incident())
            event.id = event.id.uppercased()
            event.source.language = "swift"
            let error = try await #require(throws: ErrorbrainError.self) { try await client.send(event) }
            #expect(error.code == .rejected)
            #expect(Set(error.locations) == ["body.id", "body.source.language"])
        }
    }

    @Test func serverErrorOnceThenSuccessOnRetry() async throws {
        try await FakeErrorbrain.with(mode: .fail500Once) { fake in
            let result = try await ErrorbrainFixtures.client(fake).analyze(ErrorbrainFixtures.incident())
            #expect(result.confidence == 0.85)
            #expect(try fake.requests().count == 2)
        }
    }

    @Test func persistentServerErrorFailsAfterThreeTries() async throws {
        try await FakeErrorbrain.with(mode: .always500) { fake in
            let error = try await #require(throws: ErrorbrainError.self) {
                try await ErrorbrainFixtures.client(fake).analyze(ErrorbrainFixtures.incident())
            }
            #expect(error.code == .serverError)
            #expect(error.status == 500)
            #expect(try fake.requests().count == 3)
        }
    }

    @Test func slowAnswerTimesOut() async throws {
        try await FakeErrorbrain.with { fake in
            // The fake would answer after 10 minutes: only the client's own timeout can end the call before the
            // suite's time limit (no wall-clock bound is asserted; a client that waited would hang and be stopped).
            try fake.setMode(.slow, slowSeconds: 600)
            let client = ErrorbrainFixtures.client(fake, timeout: .milliseconds(800))
            let error = try await #require(throws: ErrorbrainError.self) {
                try await client.analyze(ErrorbrainFixtures.incident())
            }
            #expect(error.code == .timeout)
            #expect(try fake.requests().count >= 1, "the request reached the server before the client gave up")
        }
    }

    @Test func garbageJSONIsAClearError() async throws {
        try await FakeErrorbrain.with(mode: .garbage) { fake in
            let error = try await #require(throws: ErrorbrainError.self) {
                try await ErrorbrainFixtures.client(fake).analyze(ErrorbrainFixtures.incident())
            }
            #expect(error.code == .invalidVerdict)
            #expect(error.message == "the verdict is not valid JSON")
            #expect(!"\(error)".contains("upstream says hi"))
            #expect(try fake.requests().count == 1)
        }
    }

    @Test func confidenceSevenIsRejected() async throws {
        try await FakeErrorbrain.with(mode: .confidence7) { fake in
            let error = try await #require(throws: ErrorbrainError.self) {
                try await ErrorbrainFixtures.client(fake).analyze(ErrorbrainFixtures.incident())
            }
            #expect(error.code == .invalidVerdict)
            #expect(error.message == "the verdict's hypothesis.confidence is 7.0, outside 0…1")
        }
    }

    @Test func missingRequiredFieldIsRejected() async throws {
        try await FakeErrorbrain.with(mode: .missing) { fake in
            let error = try await #require(throws: ErrorbrainError.self) {
                try await ErrorbrainFixtures.client(fake).analyze(ErrorbrainFixtures.incident())
            }
            #expect(error.code == .invalidVerdict)
            #expect(error.message == "the verdict is missing hypothesis.confidence")
        }
    }

    @Test func healthzReportsReadiness() async throws {
        try await FakeErrorbrain.with { fake in
            #expect(await ErrorbrainFixtures.client(fake).healthy())
        }
        let closed = ErrorbrainFixtures.client(baseURL: URL(string: "http://127.0.0.1:1")!, timeout: .seconds(2))
        #expect(await closed.healthy() == false)
    }

    @Test func connectionRefusedIsRetriedThenReported() async throws {
        let client = ErrorbrainFixtures.client(baseURL: URL(string: "http://127.0.0.1:1")!, timeout: .seconds(5))
        let error = try await #require(throws: ErrorbrainError.self) {
            try await client.analyze(ErrorbrainFixtures.incident())
        }
        #expect(error.code == .connectionFailed)
        // The line an operator reads: what, why, which setting.
        #expect(
            error.description
                == "Errorbrain: cannot reach http://127.0.0.1:1/events (connection refused); check FLUXBRAIN_ERRORBRAIN_URL"
        )
    }

    @Test func analyzerFallsBackToUnavailableAfterMaxAttemptsAgainstTheFake() async throws {
        try await FakeErrorbrain.with(mode: .always500) { fake in
            let clock = ManualClock(start: ErrorbrainFixtures.detectedAt)
            let analyzer = Analyzer(
                service: ErrorbrainFixtures.client(fake),
                store: InMemoryAnalysisStore(clock: clock.wall),
                maxAttempts: 3,
                logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
            )
            let incident = ErrorbrainFixtures.incident()
            #expect(
                try await analyzer.analyze(incident) == .deferred(until: clock.date.addingTimeInterval(30), failures: 1)
            )
            clock.advance(by: .seconds(30))
            #expect(
                try await analyzer.analyze(incident) == .deferred(until: clock.date.addingTimeInterval(60), failures: 2)
            )
            clock.advance(by: .seconds(60))
            let decision = try await analyzer.analyze(incident)
            guard case .ready(.unavailable(let reason, let attempts)) = decision else {
                Issue.record("expected unavailable, got \(decision)")
                return
            }
            #expect(attempts == 3)
            #expect(reason.contains("500"))
            #expect(try fake.requests().count == 9)  // three attempts of three tries

            try fake.setMode(.ok)
            clock.advance(by: .seconds(90))
            #expect(try await analyzer.analyze(incident).outcome?.result != nil)
        }
    }
}
