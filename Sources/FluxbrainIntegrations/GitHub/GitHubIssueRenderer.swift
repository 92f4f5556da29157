import FluxbrainCore
import Foundation

/// Renders issue titles, labels, bodies and comments for GitHub Issues: pure functions of a notification.
///
/// Every body starts with hidden markers: `<!-- fluxbrain-fingerprint: <hex> -->` identifies the incident (how
/// Fluxbrain finds its issue again) and `<!-- fluxbrain-notification: <idempotency key> -->` the notification (how
/// a retried create recognises the issue its lost response created). Bodies stay within GitHub's 65,536
/// characters, with a visible truncation marker.
package struct GitHubIssueRenderer: Sendable {
    /// GitHub's limit on issue and comment bodies.
    package static let bodyLimit = 65_536
    /// GitHub's limit on label names.
    package static let labelLimit = 50
    /// The label every Fluxbrain issue carries.
    package static let label = "fluxbrain"
    package static let truncationMarker = "\n\n… (truncated: the text exceeded GitHub's 65,536-character limit)"

    package var maxEvents: Int

    package init(maxEvents: Int = 10) {
        self.maxEvents = maxEvents
    }

    /// `<!-- fluxbrain-fingerprint: <hex> -->`.
    package static func fingerprintMarker(_ fingerprint: Fingerprint) -> String {
        "<!-- fluxbrain-fingerprint: \(fingerprint.hex) -->"
    }

    /// `<!-- fluxbrain-notification: <key> -->`.
    package static func notificationMarker(_ key: String) -> String {
        "<!-- fluxbrain-notification: \(key) -->"
    }

    /// `[fluxbrain] HelmRelease podinfo/podinfo: UpgradeFailed — <cause> (cluster prod)`, the cause cut to 120
    /// characters; `[TEST] Fluxbrain notify-test …`.
    package func title(_ notification: IncidentNotification) -> String {
        let incident = notification.incident
        let object = "\(incident.object.kind.name) \(incident.object.namespacedName)"
        let text: String
        if notification.kind == .test {
            text = "[TEST] Fluxbrain notify-test: \(object) (cluster \(incident.object.cluster))"
        } else {
            let cause = incident.cause.map { " — " + clip(Self.oneLine($0), 120) } ?? ""
            text = "[fluxbrain] \(object): \(incident.reason)\(cause) (cluster \(incident.object.cluster))"
        }
        return text.count > 256 ? String(text.prefix(255)) + "…" : text
    }

    /// `fluxbrain`, `cluster:<name>`, `kind:<Kind>` (plus `test` for notify-test), each at most 50 characters.
    package func labels(_ notification: IncidentNotification) -> [String] {
        var labels = [
            Self.label, "cluster:\(notification.incident.object.cluster)",
            "kind:\(notification.incident.object.kind.name)",
        ]
        if notification.kind == .test { labels.append("test") }
        return labels.map { String($0.prefix(Self.labelLimit)) }
    }

    /// The issue body.
    package func body(_ notification: IncidentNotification) -> String {
        let incident = notification.incident
        var out = Self.fingerprintMarker(incident.fingerprint) + "\n"
        out += Self.notificationMarker(notification.idempotencyKey) + "\n"
        if notification.kind == .test {
            out +=
                "> [!NOTE]\n> **Test issue from `fluxbrain notify-test`.** Nothing is failing; the incident below is a sample. "
            out += "Fluxbrain closes this issue right away.\n\n"
        }
        out +=
            "## \(SlackMessageBuilder.emoji(notification)) \(notification.statusLabel): `\(incident.object.kind.name)` \(incident.object.namespacedName)\n\n"
        out += summary(notification)
        out += "\n---\n"
        out += "_Opened by Fluxbrain for cluster `\(cell(incident.object.cluster))`. "
        out +=
            "Fluxbrain comments here on reminders and when the incident recurs, and closes this issue when it resolves._\n"
        return Self.limit(out)
    }

    /// The incident details shared by the body and the comments: fields, message, analysis, affected, events, Helm.
    package func summary(_ notification: IncidentNotification) -> String {
        let incident = notification.incident
        var out = ""
        var rows: [(String, String)] = [
            ("Cluster", "`\(cell(incident.object.cluster))`"),
            ("Object", "`\(cell(incident.object.description))`"),
            ("State", incident.state.rawValue),
            ("Reason", "`\(cell(incident.reason))`"),
        ]
        if let cause = incident.cause { rows.append(("Cause", "`\(cell(clip(cause, 2_000)))`")) }
        if let remediation = incident.remediation {
            rows.append(("Remediation", "\(cell(remediation.summary)) (`\(cell(remediation.reason))`)"))
        }
        if let url = incident.changes?.pathURL {
            rows.append(("Path", "[\(cell(incident.object.description))](\(url))"))
        }
        if let revision = incident.revision {
            var text = "`\(cell(revision))`"
            if let applied = incident.lastAppliedRevision, applied != revision {
                text += " (last applied `\(cell(applied))`)"
            }
            rows.append(("Revision", text))
        }
        if let source = incident.source { rows.append(("Source", "`\(cell(source.description))`")) }
        let safety = notification.retrySafety
        rows.append(("Retry safety", "\(safety.fluxRetries ? "🔄" : "✋") \(cell(safety.summary))"))
        if let result = notification.analysis.result {
            rows.append(
                (
                    "Confidence",
                    "\(NotificationTextRenderer.percent(result.confidence)) (severity \(result.severity.rawValue))"
                )
            )
        }
        rows.append(("Since", RFC3339.string(from: incident.since ?? incident.detectedAt)))
        rows.append(("Controller", incident.controller))
        out += "| | |\n|---|---|\n"
        for (name, value) in rows { out += "| **\(name)** | \(value) |\n" }
        let changes = incident.changes?.lines(date: RFC3339.string(from:), link: { "[\($0)](\($1))" }) ?? []
        if !changes.isEmpty {
            out += "\n### What changed\n\n"
            for line in changes { out += "- \(line)\n" }
        }
        let evidence = incident.evidence
        out += "\n### Message\n\n" + fenced(clip(incident.message, 20_000))
        if evidence.messageRepeats > 0 {
            let last = evidence.messageLastSeen.map { ", last \(RFC3339.string(from: $0))" } ?? ""
            out += "\n_Repeated \(evidence.messageRepeats)× in events and logs\(last)._\n"
        }

        if let result = notification.analysis.result {
            out += "\n### Root cause\n\n**\(clip(result.title, 1_000))**\n\n"
            if !result.description.isEmpty { out += clip(result.description, 10_000) + "\n" }
            if !result.actions.isEmpty {
                out += "\n### What to do\n\n"
                for (index, action) in result.actions.enumerated() {
                    out +=
                        "\(index + 1). **\(clip(action.title, 500))** (\(action.urgency.rawValue)) — \(clip(action.description, 2_000))\n"
                }
            }
        } else if let note = NotificationTextRenderer.analysisNote(notification.analysis) {
            out += "\n> \(note)\n"
        }
        if !incident.affected.isEmpty {
            out += "\n### Affected downstream (\(incident.affected.count))\n\n"
            for object in incident.affected.prefix(200) { out += "- `\(object.description)`\n" }
            if incident.affected.count > 200 { out += "- … and \(incident.affected.count - 200) more\n" }
        }
        if !evidence.lines.isEmpty {
            out += "\n### Recent events and logs\n\n"
            out += "| Last seen | From | What | Count | Message |\n|---|---|---|---|---|\n"
            for line in evidence.lines.prefix(maxEvents) {
                let when = line.lastSeen.map(RFC3339.string(from:)) ?? ""
                out += "| \(when) | \(line.origin) | \(cell(line.label)) | \(line.count) "
                out += "| \(cell(clip(line.text, 1_000))) |\n"
            }
        }
        if !incident.helmHistory.isEmpty {
            out += "\n### Helm history\n\n| Version | Status | Action | Chart | App |\n|---|---|---|---|---|\n"
            for release in incident.helmHistory.prefix(5) {
                let chart = [release.chartName, release.chartVersion].compactMap { $0 }.joined(separator: "@")
                out +=
                    "| \(release.version.map(String.init) ?? "") | \(release.status ?? "") | \(release.action ?? "") | \(cell(chart)) | \(release.appVersion ?? "") |\n"
            }
        }
        out += "\n<sub>fingerprint `\(incident.fingerprint.hex)`</sub>\n"
        return out
    }

    /// The comment for a reminder, a recurrence on an open issue, a reopen, or a resolution.
    package func comment(_ notification: IncidentNotification, reopened: Bool = false) -> String {
        var out = Self.notificationMarker(notification.idempotencyKey) + "\n"
        let when = RFC3339.string(from: notification.notifiedAt)
        switch notification.kind {
        case .resolved:
            out += "✅ **Resolved** at \(when): `\(notification.incident.reason)` has cleared. Closing.\n"
            return Self.limit(out)
        case .reminder:
            out += "🔁 **Still failing** at \(when) (reminder, notification #\(notification.sequence)).\n\n"
        case .firing, .test:
            out +=
                reopened
                ? "🔴 **Failing again** at \(when): the incident recurred within the reopen window, so this issue is reopened.\n\n"
                : "🔴 **Failing again** at \(when).\n\n"
        }
        out += summary(notification)
        return Self.limit(out)
    }

    /// Cuts `text` to GitHub's body limit (counted in Unicode scalars, never fewer than GitHub's characters).
    package static func limit(_ text: String, to limit: Int = bodyLimit) -> String {
        guard text.unicodeScalars.count > limit else { return text }
        let keep = limit - truncationMarker.unicodeScalars.count
        var scalars = String.UnicodeScalarView()
        scalars.append(contentsOf: text.unicodeScalars.prefix(keep))
        return String(scalars) + truncationMarker
    }

    private func clip(_ text: String, _ limit: Int) -> String {
        text.count > limit ? String(text.prefix(limit)) + "… (truncated)" : text
    }

    /// `text` on one line.
    private static func oneLine(_ text: String) -> String {
        text.replacingOccurrences(of: "\r", with: "").replacingOccurrences(of: "\n", with: " ")
    }

    /// A table cell: no pipes or newlines.
    private func cell(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\r", with: "")
            .replacingOccurrences(of: "\n", with: " ")
    }

    /// A code block whose fence is longer than any backtick run inside.
    private func fenced(_ text: String) -> String {
        var longest = 0
        var run = 0
        for character in text {
            run = character == "`" ? run + 1 : 0
            longest = max(longest, run)
        }
        let fence = String(repeating: "`", count: max(3, longest + 1))
        return "\(fence)\n\(text)\n\(fence)\n"
    }
}
