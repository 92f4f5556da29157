import AsyncHTTPClient
import FluxbrainCore
import FluxbrainIntegrations
import FluxbrainTestSupport
import Foundation
import Logging
import NIOCore
import Synchronization

/// Shared fixtures for the notification tests.
enum NotifyFixtures {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let now = Date(timeIntervalSince1970: 1_795_903_710)  // 2026-11-28T19:48:30Z

    /// HelmRelease podinfo/podinfo from examples/snapshot/helm.yaml (stalled, UpgradeFailed), with the Warning
    /// events helm-controller records for it.
    static func podinfoIncident() throws -> Incident {
        let snapshot = try SnapshotLoader().load(
            path: repositoryRoot.appendingPathComponent("examples/snapshot/helm.yaml").path
        )
        let assessment = Detector().assess(snapshot.objects, cluster: "prod-eu-1", now: now)
        guard var incident = assessment.incidents.first(where: { $0.object.name == "podinfo" }) else {
            throw CoreError(.notFound, "podinfo incident not detected")
        }
        incident.events = [
            EventRecord(
                type: "Warning",
                reason: "UpgradeFailed",
                message:
                    "Helm upgrade failed for release podinfo/podinfo with chart podinfo@6.9.3: timeout waiting for: [Deployment/podinfo/podinfo status: 'InProgress']",
                count: 1,
                firstTimestamp: date("2026-11-28T19:47:58Z"),
                lastTimestamp: date("2026-11-28T19:47:58Z"),
                reportingComponent: "helm-controller",
                revision: "6.9.3"
            ),
            EventRecord(
                type: "Warning",
                reason: "Unhealthy",
                message: "Readiness probe failed: HTTP probe failed with statuscode: 503",
                count: 31,
                firstTimestamp: date("2026-11-28T19:43:05Z"),
                lastTimestamp: date("2026-11-28T19:47:55Z"),
                reportingComponent: "kubelet"
            ),
        ]
        return incident
    }

    static func date(_ text: String) -> Date { RFC3339.date(from: text)! }

    /// The incident of the object `name` in the whole of examples/snapshot (so a Kustomization finds its
    /// GitRepository), with the events and log lines the controllers write for it: kustomize-controller repeats
    /// the build error as a Warning event and in each log line; helm-controller records the failed upgrade and the
    /// rollback.
    static func snapshotIncident(_ name: String) throws -> Incident {
        let snapshot = try SnapshotLoader().load(path: repositoryRoot.appendingPathComponent("examples/snapshot").path)
        let assessment = Detector().assess(snapshot.objects, cluster: "prod-eu-1", now: now)
        guard var incident = assessment.incidents.first(where: { $0.object.name == name }) else {
            throw CoreError(.notFound, "\(name) incident not detected")
        }
        switch name {
        case "infra":
            incident.events = [
                EventRecord(
                    type: "Warning",
                    reason: "BuildFailed",
                    message: incident.message,
                    count: 5,
                    firstTimestamp: date("2026-11-28T19:41:03Z"),
                    lastTimestamp: date("2026-11-28T19:47:11Z"),
                    reportingComponent: "kustomize-controller",
                    revision: incident.revision
                )
            ]
            incident.logLines = ["19:47:11", "19:45:07", "19:43:05"].map {
                LogLine(
                    timestamp: date("2026-11-28T\($0)Z"),
                    level: "error",
                    message: "Reconciliation failed after 311ms, next try in 2m0s",
                    error: incident.message,
                    pod: "kustomize-controller-5f7d8c9b6-q2w4e"
                )
            }
        case "ingress-nginx":
            incident.events = [
                EventRecord(
                    type: "Normal",
                    reason: "RollbackSucceeded",
                    message: incident.remediation?.message ?? "",
                    count: 1,
                    lastTimestamp: date("2026-11-28T19:30:02Z"),
                    reportingComponent: "helm-controller"
                ),
                EventRecord(
                    type: "Warning",
                    reason: "UpgradeFailed",
                    message: incident.message,
                    count: 1,
                    lastTimestamp: date("2026-11-28T19:29:40Z"),
                    reportingComponent: "helm-controller",
                    revision: "4.13.3"
                ),
                EventRecord(
                    type: "Warning",
                    reason: "BackOff",
                    message:
                        "Back-off restarting failed container controller in pod ingress-nginx-controller-7d9f8b6c5-x2k4p_ingress-nginx(1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d)",
                    count: 9,
                    lastTimestamp: date("2026-11-28T19:29:31Z"),
                    reportingComponent: "kubelet"
                ),
            ]
        default:
            break
        }
        return incident
    }

    /// A first firing notification of ``snapshotIncident(_:)`` without analysis (Errorbrain not configured).
    static func snapshotNotification(_ name: String) throws -> IncidentNotification {
        IncidentNotification(
            kind: .firing,
            incident: try snapshotIncident(name),
            analysis: .notConfigured,
            sequence: 1,
            notifiedAt: now
        )
    }

    static func podinfoAnalysis(for incident: Incident) -> AnalysisResult {
        AnalysisResult(
            verdictID: "3f6c2a9e-8d41-4b7a-9c55-0e1d2f3a4b5c",
            eventID: "a1b2c3d4-e5f6-4789-8abc-def012345678",
            title: "podinfo 6.9.3 pods never become ready: the new readiness probe path /readyz returns 503",
            description:
                "Chart 6.9.3 moved the readiness probe from /healthz to /readyz, which podinfo only serves once its cache backend is reachable. The upgrade's new ReplicaSet never became ready within the 5m timeout, so Helm marked release v4 failed; with no remediation configured, Flux stopped retrying.",
            confidence: 0.82,
            severity: .critical,
            affectedComponents: ["Deployment/podinfo/podinfo", "HelmRelease/podinfo/podinfo"],
            actions: [
                .init(
                    title: "Roll back to 6.9.2",
                    description: "Pin spec.chart.spec.version to 6.9.2 and commit; Flux reconciles the change.",
                    urgency: .high
                ),
                .init(
                    title: "Make the cache reachable or disable it",
                    description: "Set values.cache to \"\" or deploy the redis dependency before upgrading again.",
                    urgency: .medium
                ),
                .init(
                    title: "Add upgrade remediation",
                    description:
                        "Set spec.upgrade.remediation.retries and strategy: rollback so a failed upgrade rolls back.",
                    urgency: .low
                ),
            ],
            evidenceRefs: ["event:UpgradeFailed", "event:Unhealthy"],
            createdAt: date("2026-11-28T19:48:21Z"),
            retrySafety: RetrySafety(
                fluxRetries: false,
                summary:
                    "Flux has stopped retrying (RetriesExceeded): it needs a change to the chart version or values",
                basis: .errorbrain
            )
        )
    }

    static func podinfoNotification(kind: NotificationKind = .firing, sequence: Int = 1) throws -> IncidentNotification
    {
        let incident = try podinfoIncident()
        return IncidentNotification(
            kind: kind,
            incident: incident,
            analysis: .analyzed(podinfoAnalysis(for: incident)),
            sequence: sequence,
            notifiedAt: now
        )
    }

    /// A sleeper that records and returns at once.
    final class Sleeps: Sendable {
        private let recorded = Mutex<[Duration]>([])
        var all: [Duration] { recorded.withLock { $0 } }
        var sleeper: @Sendable (Duration) async throws -> Void {
            { [self] duration in self.recorded.withLock { $0.append(duration) } }
        }
    }

    static func http(
        timeout: Duration = .seconds(5),
        maxRetryAfter: Duration = .seconds(30),
        sleeps: Sleeps = Sleeps(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) -> NotificationHTTP {
        NotificationHTTP(
            client: HTTPClient.shared,
            policy: HTTPRetryPolicy(
                timeout: timeout,
                maxRetryAfter: maxRetryAfter,
                serverErrorBackoff: Backoff(base: .seconds(1), maximum: Backoff.unbounded)
            ),
            sleep: sleeps.sleeper,
            now: now,
            logger: Logger(label: "test")
        )
    }
}

/// GETs through the shared client, for reading the fakes' own endpoints.
enum HTTPGet {
    static func text(_ url: URL) async throws -> String {
        let response = try await HTTPClient.shared.execute(
            HTTPClientRequest(url: url.absoluteString),
            timeout: .seconds(5)
        )
        return String(buffer: try await response.body.collect(upTo: 1 << 20))
    }

    static func json(_ url: URL) async throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(try await text(url).utf8))
    }
}
