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
        return "\(label)  \(incident.object.kind.name) \(incident.object.namespacedName)  (cluster \(incident.object.cluster))"
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
            let padded = (name + ":").padding(toLength: 13, withPad: " ", startingAt: 0)
            let body = value.split(separator: "\n", omittingEmptySubsequences: false)
                .joined(separator: "\n" + String(repeating: " ", count: 15))
            lines.append("  \(padded)\(body)")
        }
        field("reason", incident.reason)
        field("message", incident.message)
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
            field("helm", "release v\(release.version ?? 0) \(release.status ?? "?") (\(release.action ?? "?") \(chart))")
        }
        field("since", incident.since.map(RFC3339.string(from:)))
        for event in incident.events.prefix(maxEvidenceLines) {
            let when = event.lastTimestamp.map(RFC3339.string(from:)) ?? ""
            field("event", "\(when) \(event.type) \(event.reason): \(event.message)".trimmingCharacters(in: .whitespaces))
        }
        for line in incident.logLines.prefix(maxEvidenceLines) {
            let when = line.timestamp.map(RFC3339.string(from:)) ?? ""
            field("log", "\(when) \(line.level) \(line.message)\(line.error.map { ": \($0)" } ?? "")")
        }
        field("fingerprint", incident.fingerprint.hex)
        return lines.joined(separator: "\n")
    }
}
