import FluxbrainCore
import Foundation

/// One alert as Alertmanager's API v2 takes it (`postableAlert`; shared/reference/alerting.md §2.1).
package struct AlertmanagerAlert: Sendable, Hashable, Encodable {
    /// The alert's identity in Alertmanager: never an empty value (Alertmanager drops those).
    package var labels: [String: String]
    /// Text for people; the most recently received annotations win.
    package var annotations: [String: String]
    package var startsAt: Date
    package var endsAt: Date
    /// A link back to what the alert is about (the object's directory at the failing commit), when known.
    package var generatorURL: String?

    /// The alert name of every Fluxbrain alert.
    package static let alertname = "FluxReconciliationFailed"
    /// The longest annotation value sent (`description`, `analysis`); longer text is cut and ends with `…`.
    package static let maxAnnotationLength = 4_000

    /// The alert for `notification`.
    ///
    /// - Labels: `alertname`, `cluster`, `namespace`, `kind`, `name`, `reason`, `state`, `severity` (Errorbrain's,
    ///   `warning` without a verdict), then the channel's static `labels` (which may replace `severity` only).
    ///   Neither the revision nor the fingerprint: each new failing revision is a new Fluxbrain incident, and as a
    ///   label it would make a new Alertmanager alert; without them the alert stays one per object and reason, and
    ///   Alertmanager keeps its first `startsAt`.
    /// - Annotations: `summary`, `description` (the condition message), `cause`, `compare_url`, `retry_safety`,
    ///   `analysis`, `fingerprint`, `revision`, `remediation`; empty ones are left out.
    /// - `startsAt`: when the object started failing (`since`, else when Fluxbrain saw it), never after `endsAt`.
    /// - `endsAt`: firing `notifiedAt + 4 × resendInterval` (as Prometheus: the alert ends on its own if Fluxbrain
    ///   stops re-sending); resolved `notifiedAt`.
    package init(_ notification: IncidentNotification, resendInterval: Duration, labels extra: [String: String] = [:]) {
        let incident = notification.incident
        var labels: [String: String] = [
            "alertname": Self.alertname,
            "cluster": incident.object.cluster,
            "namespace": incident.object.namespace,
            "kind": incident.object.kind.name,
            "name": incident.object.name,
            "reason": incident.reason,
            "state": incident.state.rawValue,
            "severity": notification.analysis.result?.severity.rawValue ?? "warning",
        ]
        for (name, value) in extra where !AlertmanagerSettings.ownLabels.contains(name) { labels[name] = value }
        self.labels = labels.filter { !$0.value.isEmpty }

        let object =
            "\(incident.object.kind.name) \(incident.object.namespacedName) in cluster \(incident.object.cluster)"
        var annotations: [String: String] = [:]
        switch notification.kind {
        case .resolved: annotations["summary"] = "\(object) has recovered (was \(incident.reason))"
        case .test: annotations["summary"] = "TEST from fluxbrain notify-test: \(object) fails: \(incident.reason)"
        case .firing, .reminder: annotations["summary"] = "\(object) fails: \(incident.reason)"
        }
        annotations["description"] = Self.clip(incident.message)
        annotations["cause"] = incident.cause.map(Self.clip)
        annotations["compare_url"] = incident.changes?.compareURL ?? incident.changes?.commitURL
        annotations["retry_safety"] = notification.retrySafety.summary
        switch notification.analysis {
        case .analyzed(let result):
            annotations["analysis"] = Self.clip(
                "\(result.title) (confidence \(NotificationTextRenderer.percent(result.confidence)), severity "
                    + "\(result.severity.rawValue)): \(result.description)"
            )
        case .unavailable, .notConfigured:
            annotations["analysis"] = NotificationTextRenderer.analysisNote(notification.analysis)
        }
        annotations["fingerprint"] = incident.fingerprint.hex
        annotations["revision"] = incident.revision
        annotations["remediation"] = incident.remediation?.summary
        self.annotations = annotations.filter { !$0.value.isEmpty }

        switch notification.kind {
        case .resolved: endsAt = notification.notifiedAt
        case .firing, .reminder, .test: endsAt = notification.notifiedAt + (resendInterval * 4).timeInterval
        }
        startsAt = min(incident.since ?? incident.detectedAt, endsAt)
        generatorURL = incident.changes.flatMap { $0.pathURL ?? $0.commitURL ?? $0.repositoryURL }
    }

    private static func clip(_ text: String) -> String {
        text.count > maxAnnotationLength ? String(text.prefix(maxAnnotationLength - 1)) + "…" : text
    }

    private enum CodingKeys: String, CodingKey { case labels, annotations, startsAt, endsAt, generatorURL }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(labels, forKey: .labels)
        try container.encode(annotations, forKey: .annotations)
        try container.encode(startsAt, forKey: .startsAt)
        try container.encode(endsAt, forKey: .endsAt)
        try container.encodeIfPresent(generatorURL, forKey: .generatorURL)
    }
}
