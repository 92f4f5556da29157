import Foundation

/// Renders a notification as readable text for a terminal or log: the incident report of `IncidentTextRenderer`
/// framed by the notification kind, plus Errorbrain's analysis and the retry-safety judgement.
package struct NotificationTextRenderer: Sendable {
    package var incidentRenderer: IncidentTextRenderer

    package init(incidentRenderer: IncidentTextRenderer = IncidentTextRenderer()) {
        self.incidentRenderer = incidentRenderer
    }

    /// The first line: marker, kind and time, e.g. `[fluxbrain] FIRING #1 2026-11-28T19:48:30Z`.
    package func banner(_ notification: IncidentNotification) -> String {
        let what: String
        switch notification.kind {
        case .firing: what = notification.sequence > 1 ? "FIRING AGAIN" : "FIRING"
        case .reminder: what = "REMINDER"
        case .resolved: what = "RESOLVED"
        case .test: what = "TEST (sample incident from notify-test; nothing is failing)"
        }
        return "[fluxbrain] \(what) #\(notification.sequence) \(RFC3339.string(from: notification.notifiedAt))"
    }

    /// The confidence as a percentage, e.g. `82%`.
    package static func percent(_ confidence: Double) -> String {
        "\(Int((min(max(confidence, 0), 1) * 100).rounded()))%"
    }

    /// One line on the analysis when there is no verdict, e.g. "Errorbrain unavailable after 3 attempts: timeout".
    package static func analysisNote(_ outcome: AnalysisOutcome) -> String? {
        switch outcome {
        case .analyzed: return nil
        case .unavailable(let reason, let attempts):
            return "Errorbrain analysis unavailable after \(attempts) attempt\(attempts == 1 ? "" : "s"): \(reason)"
        case .notConfigured: return "No Errorbrain analysis (FLUXBRAIN_ERRORBRAIN_URL is not set)"
        }
    }

    /// The full text.
    package func render(_ notification: IncidentNotification) -> String {
        let incident = notification.incident
        var lines = [banner(notification)]
        if notification.kind == .resolved {
            lines.append(
                "RESOLVED  \(incident.object.kind.name) \(incident.object.namespacedName)  (cluster \(incident.object.cluster))"
            )
            lines.append("  reason:      \(incident.reason) has cleared")
            let since = incident.since ?? incident.detectedAt
            lines.append(
                "  failing:     since \(RFC3339.string(from: since)), resolved by \(RFC3339.string(from: notification.notifiedAt))"
            )
            if let revision = incident.revision { lines.append("  revision:    \(revision)") }
            lines.append("  fingerprint: \(incident.fingerprint.hex)")
            return lines.joined(separator: "\n")
        }
        // The incident report, with its closing fingerprint line moved after the analysis.
        var report = incidentRenderer.render(incident).components(separatedBy: "\n")
        let fingerprintLine = report.last?.hasPrefix("  fingerprint:") == true ? report.removeLast() : nil
        lines.append(contentsOf: report)
        var extra: [String] = []
        func field(_ name: String, _ value: String) {
            let padded = (name + ":").padding(toLength: max(13, name.count + 2), withPad: " ", startingAt: 0)
            let body = value.split(separator: "\n", omittingEmptySubsequences: false)
                .joined(separator: "\n" + String(repeating: " ", count: 15))
            extra.append("  \(padded)\(body)")
        }
        if let result = notification.analysis.result {
            field(
                "root cause",
                "\(result.title) (confidence \(Self.percent(result.confidence)), severity \(result.severity.rawValue))"
                    + (result.description.isEmpty ? "" : "\n\(result.description)")
            )
            for (index, action) in result.actions.enumerated() {
                field(
                    index == 0 ? "actions" : "",
                    "\(index + 1). [\(action.urgency.rawValue)] \(action.title): \(action.description)"
                )
            }
        } else if let note = Self.analysisNote(notification.analysis) {
            field("analysis", note)
        }
        let safety = notification.retrySafety
        field("retry safety", "\(safety.fluxRetries ? "waiting is safe" : "needs a change"): \(safety.summary)")
        lines.append(contentsOf: extra)
        if let fingerprintLine { lines.append(fingerprintLine) }
        return lines.joined(separator: "\n")
    }
}

/// Writes notifications as readable text: the default channel when nothing else is configured.
package struct ConsoleNotifier: Notifier {
    package let channel: ChannelID
    private let renderer: NotificationTextRenderer
    private let write: @Sendable (String) -> Void

    /// - Parameter write: receives one rendered notification (several lines, no trailing newline); defaults to
    ///   standard output.
    package init(
        renderer: NotificationTextRenderer = NotificationTextRenderer(),
        channel: ChannelID = .console,
        write: @escaping @Sendable (String) -> Void = { print($0 + "\n") }
    ) {
        self.channel = channel
        self.renderer = renderer
        self.write = write
    }

    package func send(_ notification: IncidentNotification) async throws -> DeliveryReport {
        write(renderer.render(notification))
        return DeliveryReport(detail: "written")
    }
}
