import FluxbrainCore
import FluxbrainIntegrations
import Foundation
import Logging

/// The format `fluxbrain once` prints incidents in.
package enum ReportFormat: String, Sendable, CaseIterable {
    /// One readable block per incident.
    case text
    /// One JSON object per incident per line (deterministic: sorted keys).
    case json
}

/// What one collection pass found, for printing.
package struct CollectionReport: Sendable {
    package var incidents: [Incident]
    package var objectCount: Int
    package var malformed: [String]

    /// Renders the report; `summary` lines go to standard error so `--output json` stays machine-readable.
    package func render(format: ReportFormat) throws -> (output: String, summary: String) {
        var output = ""
        switch format {
        case .text:
            let renderer = IncidentTextRenderer()
            output = incidents.map { renderer.render($0) }.joined(separator: "\n\n")
            if !output.isEmpty { output += "\n" }
        case .json:
            for incident in incidents {
                output += try incident.stableJSON() + "\n"
            }
        }
        var summary = "\(incidents.count) incident\(incidents.count == 1 ? "" : "s") in \(objectCount) Flux objects"
        if !malformed.isEmpty {
            summary += "; \(malformed.count) malformed object\(malformed.count == 1 ? "" : "s") skipped:\n"
            summary += malformed.map { "  \($0)" }.joined(separator: "\n")
        }
        return (output, summary)
    }
}

/// Collects incidents from a snapshot on disk: the embedded default that needs no cluster and no Redis.
package struct SnapshotRun: Sendable {
    package var path: String
    package var cluster: String
    package var detector: Detector

    package init(path: String, cluster: String, detector: Detector) {
        self.path = path
        self.cluster = cluster
        self.detector = detector
    }

    /// Loads the snapshot and assesses it at the time it was taken. A malformed file throws a `CoreError` naming it.
    package func collect(now: Date = Date(), logger: Logger) throws(CoreError) -> CollectionReport {
        let snapshot = try SnapshotLoader().load(path: path)
        let now = snapshot.objects.takenAt(now: now)
        for (file, item) in snapshot.malformed {
            logger.warning("skipped a malformed object", metadata: ["file": "\(file)", "item": "\(item)"])
        }
        let assessment = detector.assess(snapshot.objects, cluster: cluster, now: now)
        return CollectionReport(
            incidents: assessment.incidents,
            objectCount: snapshot.objects.filter { $0.fluxKind != nil }.count,
            malformed: snapshot.malformed.map { "\($0.file): \($0.item)" })
    }
}
