import Foundation

/// Renders an incident as a readable block of text for a terminal or a log.
package struct IncidentTextRenderer: Sendable {
    /// Maximum number of events and log lines shown.
    package var maxEvidenceLines: Int

    package init(maxEvidenceLines: Int = 5) {
        self.maxEvidenceLines = maxEvidenceLines
    }

    /// The headline: state, object and cluster.
    package func headline(_ incident: Incident) -> String {
        let label: String
        switch incident.state {
        case .retrying: label = "FAILING"
        case .stalled: label = "STALLED"
        case .stuck: label = "STUCK"
        }
        return
            "\(label)  \(incident.object.kind.name) \(incident.object.namespacedName)  (cluster \(incident.object.cluster))"
    }

    /// What Flux itself does next, derived from its own state.
    package func fluxBehaviour(_ incident: Incident) -> String {
        switch incident.state {
        case .stalled: return "Flux has stopped retrying: it needs a change to the source or spec"
        case .retrying:
            if let interval = incident.retryInterval { return "Flux retries on its own every \(interval)" }
            return "Flux retries on its own"
        case .stuck: return "Flux is still reconciling; no result yet"
        }
    }

    /// The full report, one field per line, indented under the headline.
    package func render(_ incident: Incident) -> String {
        var lines = [headline(incident)]
        func field(_ name: String, _ value: String?) {
            guard let value, !value.isEmpty else { return }
            let padded = (name.isEmpty ? "" : name + ":").padding(toLength: 13, withPad: " ", startingAt: 0)
            let body = value.split(separator: "\n", omittingEmptySubsequences: false)
                .joined(separator: "\n" + String(repeating: " ", count: 15))
            lines.append("  \(padded)\(body)")
        }
        // The innermost cause first, then the failing condition in full, then what was done about it.
        field("cause", incident.cause)
        field("reason", incident.reason)
        field("message", incident.message)
        field("remediation", incident.remediation.map { "\($0.summary) (\($0.reason))" })
        for (index, line) in changeLines(incident).enumerated() { field(index == 0 ? "changed" : "", line) }
        field("path", incident.changes?.pathURL)
        field("flux", fluxBehaviour(incident))
        if let revision = incident.revision {
            var text = revision
            if let applied = incident.lastAppliedRevision, applied != revision { text += " (last applied: \(applied))" }
            field("revision", text)
        }
        field("source", incident.source?.description)
        field("dependsOn", incident.dependsOn.map(\.description).joined(separator: ", "))
        field("affected", incident.affected.map(\.description).joined(separator: ", "))
        if let release = incident.helmHistory.first {
            let chart = [release.chartName, release.chartVersion].compactMap { $0 }.joined(separator: "@")
            field(
                "helm",
                "release v\(release.version ?? 0) \(release.status ?? "?") (\(release.action ?? "?") \(chart))"
            )
        }
        field("since", incident.since.map(RFC3339.string(from:)))
        let evidence = incident.evidence
        if evidence.messageRepeats > 0 {
            let last = evidence.messageLastSeen.map { ", last \(RFC3339.string(from: $0))" } ?? ""
            field("repeated", "the message above, \(evidence.messageRepeats)× in events and logs\(last)")
        }
        for line in evidence.lines.prefix(maxEvidenceLines) { field(line.origin, Self.evidenceText(line)) }
        field("fingerprint", incident.fingerprint.hex)
        return lines.joined(separator: "\n")
    }

    /// What changed, one line each, links written after their text.
    package func changeLines(_ incident: Incident) -> [String] {
        incident.changes?.lines(date: RFC3339.string(from:), link: { "\($0)  \($1)" }) ?? []
    }

    /// `2026-11-28T19:49:07Z Warning BuildFailed (×12): <text>`.
    package static func evidenceText(_ line: EvidenceDigest.Line) -> String {
        let when = line.lastSeen.map { RFC3339.string(from: $0) + " " } ?? ""
        let count = line.count > 1 ? " (×\(line.count))" : ""
        return "\(when)\(line.label)\(count): \(line.text)"
    }
}
