import FluxbrainCore
import FluxbrainIntegrations
import FluxbrainTestSupport
import Foundation
import Testing

/// The pipeline redacts an incident once (`Redactor.redacted(_:)`); the Errorbrain event built from that
/// `RedactedIncident` uses its texts as they are, and is the event the builder makes from the raw incident.
@Suite struct ErrorbrainRedactOnceTests {
    static func incident(with sample: SecretSample) -> Incident {
        ErrorbrainFixtures.incident(
            message: "kustomize build failed: \(sample.text)",
            eventMessage: "BuildFailed: \(sample.text)",
            logMessage: "Reconciliation failed: \(sample.text)",
            status: .object(["conditions": .array([.object(["message": .string(sample.text)])])])
        )
    }

    @Test(arguments: SecretSample.all)
    func theEventOfARedactedIncidentIsTheEventOfTheIncident(sample: SecretSample) throws {
        let incident = Self.incident(with: sample)
        let builder = ErrorEventBuilder()
        let once = try StableJSON.string(builder.event(for: Redactor().redacted(incident)))
        #expect(once == (try StableJSON.string(builder.event(for: incident))))
        #expect(!once.contains(sample.secret))
    }

    @Test func aRedactedIncidentsTextsAreNotRedactedAgain() throws {
        // A builder whose redactor cuts every text it scans to 16 bytes: only texts it redacts come out cut.
        let builder = ErrorEventBuilder(redactor: Redactor(scanLimit: 16))
        let redacted = Redactor().redacted(Self.incident(with: SecretSample.all[0]))
        let event = builder.event(for: redacted)
        #expect(event.message == redacted.incident.message)
        let evidence = try #require(event.evidence)
        let messages = evidence.compactMap { $0.data["message"]?.stringValue }
        #expect(messages == [redacted.incident.events[0].message, redacted.incident.logLines[0].message])
        #expect(evidence.first?.data["status"] == redacted.incident.status)
        // The raw incident goes through the builder's redactor.
        #expect(builder.event(for: redacted.incident).message != redacted.incident.message)
    }

    @Test func theCauseIsTheRedactedMessagesInnermostErrorRedacted() {
        // `redacted(_:)` finds the cause again only in a message that lost a secret; either way it is what the
        // redacted message's innermost error, redacted until stable, is.
        let redactor = Redactor()
        func fully(_ text: String) -> String {
            var current = text
            while case let next = redactor.redact(current), next != current { current = next }
            return current
        }
        var generator = FluxMessageGenerator(seed: 7)
        let messages =
            SecretSample.all.map { "kustomize build failed: accumulating resources: \($0.text)" }
            + (0..<300).map { _ in generator.anyMessage() }
        for message in messages {
            let redacted = redactor.redacted(ErrorbrainFixtures.incident(message: message)).incident
            #expect(redacted.cause == ErrorCause.innermost(of: redacted.message).map(fully), "\(message)")
        }
    }

    @Test func aSecondPassOverARedactedIncidentFindsNothing() {
        // What lets consumers skip their own pass: redacting the texts of a RedactedIncident again changes nothing.
        let redactor = Redactor()
        var generator = FluxMessageGenerator(seed: 5)
        for _ in 0..<300 {
            let incident = ErrorbrainFixtures.incident(
                message: generator.anyMessage(),
                eventMessage: generator.anyMessage(),
                logMessage: generator.anyMessage(),
                status: generator.status()
            )
            let redacted = redactor.redacted(incident).incident
            #expect(redactor.redact(redacted) == redacted, "\(incident.message)")
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func noSecretOfARedactedIncidentReachesErrorbrain() async throws {
        try await FakeErrorbrain.with { fake in
            let client = ErrorbrainFixtures.client(fake)
            for sample in SecretSample.all {
                _ = try await client.analyze(Redactor().redacted(Self.incident(with: sample)))
            }
            let requests = try fake.requests()
            #expect(requests.count == SecretSample.all.count)
            for (sample, request) in zip(SecretSample.all, requests) {
                #expect(request.valid, "\(request.errors)")
                #expect(!request.text.contains(sample.secret), "\(sample.name) reached Errorbrain")
            }
        }
    }
}
