import FluxbrainCore
import FluxbrainIntegrations
import FluxbrainTestSupport
import Foundation
import Logging
import Testing

/// Each secret shape in `SecretSample.all`: removed by the Redactor, by the log handler, and never reaching the fake
/// Errorbrain, a notification or a captured log when it sits in a condition message, an event and a log line.
@Suite struct ErrorbrainRedactionTests {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    @Test(arguments: SecretSample.all)
    func redactorRemovesEachSecretPattern(sample: SecretSample) {
        let redacted = Redactor().redact(sample.text)
        #expect(!redacted.contains(sample.secret), "\(sample.name): \(redacted)")
        #expect(redacted.contains(Redactor.marker), "\(sample.name): \(redacted)")
        #expect(Redactor().redact(redacted) == redacted, "idempotent")
    }

    @Test(arguments: SecretSample.all)
    func logHandlerRemovesEachSecretPattern(sample: SecretSample) {
        let logs = CapturedLogs()
        var inner = CapturingLogHandler(logs: logs)
        inner.metadataProvider = Logger.MetadataProvider { ["provided": "\(sample.text)"] }
        var logger = Logger(label: "t") { _ in RedactingLogHandler(wrapping: inner) }
        logger[metadataKey: "handler"] = "\(sample.text)"
        logger.error(
            "message \(sample.text)",
            error: Failure(description: sample.text),
            metadata: [
                "string": "\(sample.text)", "convertible": .stringConvertible(sample.text),
                "nested": ["a": ["\(sample.text)"]],
            ]
        )
        #expect(logs.entries.count == 1)
        #expect(!logs.allText.contains(sample.secret), "\(logs.allText)")
        #expect(logs.allText.contains("provided="))
    }

    @Test(.timeLimit(.minutes(3)))
    func noSecretReachesErrorbrainANotificationOrALog() async throws {
        try await FakeErrorbrain.with { fake in
            let logs = CapturedLogs()
            let logger = Logger(label: "fluxbrain") { _ in
                RedactingLogHandler(wrapping: CapturingLogHandler(logs: logs))
            }
            let client = ErrorbrainFixtures.client(fake, logger: logger)
            let redactor = Redactor()
            for (index, sample) in SecretSample.all.enumerated() {
                let incident = ErrorbrainFixtures.incident(
                    name: "app-\(index)",
                    message: "kustomize build failed: \(sample.text)",
                    eventMessage: "BuildFailed: \(sample.text)",
                    logMessage: "Reconciliation failed: \(sample.text)",
                    status: .object([
                        "conditions": .array([.object(["message": .string(sample.text)])])
                    ])
                )
                // What the service does with an incident: log it, analyze it, notify.
                logger.error(
                    "incident detected: \(incident.message)",
                    metadata: ["event": "\(incident.events[0].message)", "log": "\(incident.logLines[0].message)"]
                )
                let result = try await client.analyze(incident)
                let notification =
                    IncidentTextRenderer().render(redactor.redact(incident)) + "\n" + result.title + "\n"
                    + result.description + "\n" + result.actions.map(\.description).joined(separator: "\n")
                #expect(!notification.contains(sample.secret), "\(sample.name) in the notification")
            }
            let requests = try fake.requests()
            #expect(requests.count == SecretSample.all.count)
            for (sample, request) in zip(SecretSample.all, requests) {
                #expect(request.valid, "\(request.errors)")
                #expect(!request.text.contains(sample.secret), "\(sample.name) reached Errorbrain")
                // JSON escaping must not hide a secret either (e.g. `/` is not escaped, but check the raw form too).
                #expect(!request.text.contains(sample.secret.replacingOccurrences(of: "/", with: "\\/")))
            }
            for sample in SecretSample.all {
                #expect(!logs.allText.contains(sample.secret), "\(sample.name) reached a log")
            }
        }
    }
}
