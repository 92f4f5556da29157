import FluxbrainCore
import FluxbrainIntegrations
import FluxbrainTestSupport
import Foundation
import Testing

/// The Errorbrain event and the webhook body, written by hand (``JSONWritable``), are byte for byte what their
/// `Codable` conformances give through `JSONEncoder` with the stable settings (the reference; the wire formats of
/// spec/v1 and `fluxbrain.webhook/v1`), over the fixtures and generated incidents.
@Suite struct DirectJSONWritingTests {
    static func direct<T: JSONWritable>(_ value: T) throws -> String {
        var writer = JSONWriter()
        try value.write(to: &writer)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    static func reference<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try StableJSON.makeEncoder().encode(value), as: UTF8.self)
    }

    static func incidents() throws -> [Incident] {
        var incidents = [
            ErrorbrainFixtures.incident(), try NotifyFixtures.podinfoIncident(),
            try NotifyFixtures.snapshotIncident("infra"), try NotifyFixtures.snapshotIncident("ingress-nginx"),
        ]
        var generator = IncidentGenerator(seed: 41)
        for _ in 0..<150 { incidents.append(generator.incident()) }
        return incidents
    }

    @Test func errorEventsAreWrittenAsCodableWritesThem() throws {
        let builders = [ErrorEventBuilder(environment: .production), ErrorEventBuilder()]
        for (index, incident) in try Self.incidents().enumerated() {
            var event = builders[index % 2].event(for: incident)
            if index % 5 == 0 {
                // The optionals the builder leaves out.
                event.stackTrace = "at \"main\"\n\tat /x"
                event.source.version = "1.2.3"
                event.evidence = []
                event.metadata = [:]
            }
            let text = try Self.direct(event)
            #expect(text == (try Self.reference(event)))
            // What the client sends.
            #expect(try StableJSON.encode(event) == Data(text.utf8))
        }
        let bare = ErrorEvent(id: "x", timestamp: "", source: ErrorEvent.Source(name: ""), message: "")
        #expect(try Self.direct(bare) == Self.reference(bare))
    }

    @Test func webhookBodiesAreWrittenAsCodableWritesThem() throws {
        var generator = IncidentGenerator(seed: 42)
        let kinds = NotificationKind.allCases
        for (index, incident) in try Self.incidents().enumerated() {
            let analysis: AnalysisOutcome
            switch index % 3 {
            case 0: analysis = .analyzed(generator.analysisResult())
            case 1: analysis = .unavailable(reason: generator.text(), attempts: 1 + index % 2)
            default: analysis = .notConfigured
            }
            let notification = IncidentNotification(
                kind: kinds[index % kinds.count],
                incident: incident,
                analysis: analysis,
                sequence: index == 0 ? Int.max : index,
                notifiedAt: generator.date()
            )
            let payload = WebhookPayload(notification)
            let text = try Self.direct(payload)
            #expect(text == (try Self.reference(payload)))
            // What the notifier sends.
            #expect(try WebhookNotifier.body(for: notification) == Data(text.utf8))
        }
    }
}
