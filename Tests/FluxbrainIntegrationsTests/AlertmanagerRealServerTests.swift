import FluxbrainCore
import FluxbrainIntegrations
import FluxbrainTestSupport
import FluxbrainTestbed
import Foundation
import Hummingbird
import Logging
import Metrics
import MetricsTestKit
import Synchronization
import Testing

/// Fluxbrain's alerts through the real Prometheus Alertmanager (Debian's `prometheus-alertmanager` 0.25, started
/// per test on a free loopback port, clustering off), whose receiver is a webhook to a sink in this process:
/// grouping, `amtool alert query`, an `amtool silence add` silence, the resolve, and an HA pair.
///
/// Skipped only when the binaries are absent and `CI` is not set (``AlertmanagerProcess/skipReason``).
@Suite(
    .enabled(if: AlertmanagerProcess.skipReason == nil, "\(AlertmanagerProcess.skipReason ?? "")"),
    .timeLimit(.minutes(3))
)
struct AlertmanagerRealServerTests {
    /// The sink's receiver config: group by alertname and cluster, flush after 1s.
    static func config(hook: URL) -> String {
        """
        route:
          receiver: fluxbrain-sink
          group_by: [alertname, cluster]
          group_wait: 1s
          group_interval: 1s
          repeat_interval: 1h
        receivers:
          - name: fluxbrain-sink
            webhook_configs:
              - url: \(hook.absoluteString)
                send_resolved: true
        """
    }

    @Test func firingAlertsArriveGroupedAreListedByAmtoolAndResolve() async throws {
        try await WebhookReceiver.withRunning { receiver, hook in
            try await AlertmanagerProcess.with(config: Self.config(hook: hook)) { am in
                let notifier = Self.notifier([am.url])
                let apps = Self.notification(.firing, cluster: "prod", name: "apps")
                let infra = Self.notification(.firing, cluster: "prod", name: "infra")
                _ = try await notifier.send(apps)
                _ = try await notifier.send(infra)

                // One notification for the group {alertname, cluster="prod"} with both objects.
                let grouped = try await receiver.first(in: am) { payload in
                    payload["status"]?.stringValue == "firing" && (payload["alerts"]?.arrayValue?.count ?? 0) == 2
                }
                #expect(grouped["version"]?.stringValue == "4")
                #expect(
                    grouped["groupLabels"]
                        == .object(["alertname": .string("FluxReconciliationFailed"), "cluster": .string("prod")])
                )
                let alerts = try #require(grouped["alerts"]?.arrayValue)
                #expect(Set(alerts.compactMap { $0["labels"]?["name"]?.stringValue }) == ["apps", "infra"])
                let first = try #require(alerts.first { $0["labels"]?["name"]?.stringValue == "apps" })
                #expect(
                    first["labels"]?.objectValue?.mapValues(\.stringValue) == [
                        "alertname": "FluxReconciliationFailed", "cluster": "prod", "namespace": "flux-system",
                        "kind": "Kustomization", "name": "apps", "reason": "BuildFailed", "state": "retrying",
                        "severity": "warning",
                    ]
                )
                #expect(first["annotations"]?["fingerprint"]?.stringValue == apps.incident.fingerprint.hex)
                #expect(
                    first["annotations"]?["summary"]?.stringValue?.contains("Kustomization flux-system/apps") == true
                )
                #expect(first["startsAt"]?.stringValue == RFC3339.string(from: apps.incident.detectedAt))

                // amtool lists both as active.
                let query = try await am.amtool(["-o", "json", "alert", "query", "alertname=FluxReconciliationFailed"])
                #expect(query.status == 0, "\(query.output)")
                let listed = try JSONDecoder().decode(JSONValue.self, from: Data(query.output.utf8))
                #expect(
                    Set(listed.arrayValue?.compactMap { $0["labels"]?["name"]?.stringValue } ?? []) == [
                        "apps", "infra",
                    ]
                )
                #expect(listed.arrayValue?.allSatisfy { $0["status"]?["state"]?.stringValue == "active" } == true)

                // The resolve of apps arrives as `resolved` (infra still fires in the same group).
                _ = try await notifier.send(Self.notification(.resolved, cluster: "prod", name: "apps"))
                let resolved = try await receiver.first(in: am) { payload in
                    payload["alerts"]?.arrayValue?.contains {
                        $0["labels"]?["name"]?.stringValue == "apps" && $0["status"]?.stringValue == "resolved"
                    } == true
                }
                let appsResolved = resolved["alerts"]?.arrayValue?.first {
                    $0["labels"]?["name"]?.stringValue == "apps"
                }
                #expect(appsResolved?["annotations"]?["summary"]?.stringValue?.contains("has recovered") == true)
                #expect(appsResolved?["endsAt"]?.stringValue != "0001-01-01T00:00:00Z")
                _ = try await notifier.send(Self.notification(.resolved, cluster: "prod", name: "infra"))
                _ = try await receiver.first(in: am) { $0["status"]?.stringValue == "resolved" }
                let after = try await am.amtool(["-o", "json", "alert", "query", "alertname=FluxReconciliationFailed"])
                #expect(after.output.trimmingCharacters(in: .whitespacesAndNewlines) == "[]", "\(after.output)")
            }
        }
    }

    @Test func anAmtoolSilenceSuppressesTheAlert() async throws {
        try await WebhookReceiver.withRunning { receiver, hook in
            try await AlertmanagerProcess.with(config: Self.config(hook: hook)) { am in
                let silence = try await am.amtool([
                    "silence", "add", "alertname=FluxReconciliationFailed", "cluster=staging", "name=web",
                    "--comment=deploy window", "--duration=1h",
                ])
                #expect(silence.status == 0, "\(silence.output)")
                let id = silence.output.trimmingCharacters(in: .whitespacesAndNewlines)
                let notifier = Self.notifier([am.url])
                _ = try await notifier.send(Self.notification(.firing, cluster: "staging", name: "web"))
                _ = try await notifier.send(Self.notification(.firing, cluster: "staging", name: "api"))

                // The group's notification carries only the alert that is not silenced.
                let payload = try await receiver.first(in: am) {
                    $0["groupLabels"]?["cluster"]?.stringValue == "staging"
                }
                #expect(payload["alerts"]?.arrayValue?.compactMap { $0["labels"]?["name"]?.stringValue } == ["api"])
                // amtool shows web as suppressed by that silence, and not among the active alerts.
                let silenced = try await am.amtool(["-o", "json", "alert", "query", "-s", "name=web"])
                let listed = try JSONDecoder().decode(JSONValue.self, from: Data(silenced.output.utf8))
                #expect(
                    listed.arrayValue?.first?["status"]?["state"]?.stringValue == "suppressed",
                    "\(silenced.output)"
                )
                #expect(listed.arrayValue?.first?["status"]?["silencedBy"]?.arrayValue == [.string(id)])
                let active = try await am.amtool(["-o", "json", "alert", "query", "name=web"])
                #expect(active.output.trimmingCharacters(in: .whitespacesAndNewlines) == "[]", "\(active.output)")
                #expect(
                    receiver.payloads.allSatisfy { payload in
                        payload["alerts"]?.arrayValue?.contains { $0["labels"]?["name"]?.stringValue == "web" } != true
                    }
                )
            }
        }
    }

    @Test func anHAPairBothGetEveryAlert() async throws {
        try await WebhookReceiver.withRunning { receiver, hook in
            let first = hook.appendingPathComponent("a")
            let second = hook.appendingPathComponent("b")
            try await AlertmanagerProcess.with(config: Self.config(hook: first)) { amA in
                try await AlertmanagerProcess.with(config: Self.config(hook: second)) { amB in
                    let notifier = Self.notifier([amA.url, amB.url])
                    let report = try await notifier.send(Self.notification(.firing, cluster: "prod", name: "apps"))
                    #expect(report.detail == "accepted by 127.0.0.1:\(amA.port), 127.0.0.1:\(amB.port)")
                    for (path, am) in [("/hook/a", amA), ("/hook/b", amB)] {
                        let payload = try await receiver.first(in: am, path: path) {
                            $0["status"]?.stringValue == "firing"
                        }
                        #expect(payload["alerts"]?.arrayValue?.first?["labels"]?["name"]?.stringValue == "apps")
                    }
                    _ = try await notifier.send(Self.notification(.resolved, cluster: "prod", name: "apps"))
                    for (path, am) in [("/hook/a", amA), ("/hook/b", amB)] {
                        _ = try await receiver.first(in: am, path: path) { $0["status"]?.stringValue == "resolved" }
                    }
                }
            }
        }
    }

    /// docs/examples/alertmanager-pagerduty.yml, the PagerDuty route and receiver of docs/alertmanager.md.
    @Test func thePagerDutyExampleIsAValidConfiguration() async throws {
        let path = NotifyFixtures.repositoryRoot.appendingPathComponent("docs/examples/alertmanager-pagerduty.yml").path
        let check = try await AlertmanagerProcess.amtoolCommand(["check-config", path])
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.contains("SUCCESS"), "\(check.output)")
    }

    /// A Kustomization incident of `cluster`/`name` that started a minute ago, notified now (Alertmanager runs on
    /// the real clock).
    static func notification(_ kind: NotificationKind, cluster: String, name: String) -> IncidentNotification {
        let now = Date()
        let incident = Incident(
            object: ObjectReference(cluster: cluster, kind: .kustomization, namespace: "flux-system", name: name),
            state: .retrying,
            reason: "BuildFailed",
            message: "kustomize build failed: accumulating resources",
            revision: "main@sha1:4f6c1b2",
            detectedAt: Date(timeIntervalSince1970: (now.timeIntervalSince1970 - 60).rounded(.down))
        )
        return IncidentNotification(
            kind: kind,
            incident: incident,
            analysis: .notConfigured,
            sequence: 1,
            notifiedAt: now
        )
    }

    static func notifier(_ urls: [URL]) -> AlertmanagerNotifier {
        AlertmanagerNotifier(
            settings: AlertmanagerSettings(urls: urls),
            targets: urls.map { .init(url: $0, http: NotifyFixtures.http()) },
            channel: ChannelID("alertmanager"),
            metricsFactory: TestMetrics(),
            logger: Logger(label: "test")
        )
    }
}

/// The webhook receiver Alertmanager posts its notifications to: records each payload with its path.
final class WebhookReceiver: Sendable {
    private let received = Mutex<[(path: String, payload: JSONValue)]>([])

    var payloads: [JSONValue] { received.withLock { $0.map(\.payload) } }

    static func withRunning<T: Sendable>(_ body: @Sendable (WebhookReceiver, URL) async throws -> T) async throws -> T {
        let receiver = WebhookReceiver()
        return try await withLoopbackServer(
            logger: Logger(label: "am-receiver"),
            respond: { request in
                let recorded = try await RecordedRequest.read(request)
                if let json = recorded.json { receiver.received.withLock { $0.append((recorded.path, json)) } }
                return fakeResponse(status: 200, body: "")
            },
            body: { port in try await body(receiver, URL(string: "http://127.0.0.1:\(port)/hook")!) }
        )
    }

    /// The first payload on `path` that satisfies `condition`, waiting up to 60 s (Alertmanager flushes a group
    /// after its 1 s `group_wait`/`group_interval`); the error carries Alertmanager's log.
    func first(
        in am: AlertmanagerProcess,
        path: String = "/hook",
        where condition: @escaping @Sendable (JSONValue) -> Bool
    ) async throws -> JSONValue {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let match = received.withLock({ $0.first { $0.path == path && condition($0.payload) }?.payload }) {
                return match
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ReceiverTimeout(
            description: "no matching notification on \(path); received: \(payloads)\n--- alertmanager.log ---\n"
                + am.logTail()
        )
    }
}

struct ReceiverTimeout: Error, CustomStringConvertible {
    var description: String
}
