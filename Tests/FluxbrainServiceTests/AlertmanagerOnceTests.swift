import FluxbrainCore
import FluxbrainIntegrations
import FluxbrainTestSupport
import Foundation
import Testing

@testable import FluxbrainService

/// A routes file with an `alertmanager` channel, through the whole composition (`fluxbrain once` over a snapshot):
/// the alert reaches both Alertmanagers of the channel with the token, and the run's dispatcher and scheduler get
/// the channel's re-send cadence.
@Suite struct AlertmanagerOnceTests {
    @Test func onceSendsTheIncidentToEveryAlertmanagerOfTheChannel() async throws {
        try await FakeAlertmanager.withRunning { first, firstURL in
            try await FakeAlertmanager.withRunning { second, secondURL in
                let routes = FileManager.default.temporaryDirectory.appendingPathComponent(
                    "routes-am-\(UUID().uuidString).yaml"
                )
                try Data(
                    """
                    channels:
                      - name: am
                        type: alertmanager
                        urls: [\(firstURL.absoluteString), \(secondURL.absoluteString)]
                        token: {env: AM_TOKEN}
                        resendInterval: 20s
                    routes:
                      - to: [am]
                    """.utf8
                ).write(to: routes)
                defer { try? FileManager.default.removeItem(at: routes) }
                let configuration = try FluxbrainConfiguration(
                    environment: EnvironmentReader([
                        "FLUXBRAIN_ROUTES_FILE": routes.path, "AM_TOKEN": "am-t0ken", "FLUXBRAIN_CLUSTER": "once",
                        "FLUXBRAIN_REPLICA_ID": "am-once", "FLUXBRAIN_WORKERS": "1",
                    ]),
                    hostname: "test"
                )
                #expect(
                    ChannelDefinition.reminderInterval(
                        configuration.routing.channels,
                        resync: configuration.requeueInterval
                    ) == .seconds(20)
                )
                let outcome = try await Composition.withParts(
                    configuration: configuration,
                    snapshot: .path(try OnceScopeTests.snapshot(failing: true)),
                    console: nil,
                    mode: .once,
                    logger: quietLogger
                ) { parts in
                    try await FluxbrainRuntime.runOnce(configuration: configuration, parts: parts, logger: quietLogger)
                }
                #expect(outcome == .completed(enqueued: 1, deadLettered: 0, unread: []))
                for fake in [first, second] {
                    let request = try #require(fake.requests.first)
                    #expect(request.path == "/api/v2/alerts")
                    #expect(request.headers["authorization"] == "Bearer am-t0ken")
                    let labels = request.json?.arrayValue?.first?["labels"]
                    #expect(labels?["alertname"]?.stringValue == "FluxReconciliationFailed")
                    #expect(labels?["cluster"]?.stringValue == "once")
                    #expect(labels?["name"]?.stringValue == "apps")
                }
            }
        }
    }
}
