import FluxbrainCore
import FluxbrainIntegrations
import Foundation
import Logging

/// What one collection pass found: the summary `fluxbrain once --snapshot` prints on standard error (the incidents
/// themselves go out through the notifiers).
package struct CollectionReport: Sendable {
    package var incidents: [Incident]
    package var objectCount: Int
    package var malformed: [String]

    /// `4 incidents in 15 Flux objects`, then each malformed object skipped on a line of its own.
    package var summary: String {
        var summary = "\(incidents.count) incident\(incidents.count == 1 ? "" : "s") in \(objectCount) Flux objects"
        if !malformed.isEmpty {
            summary += "; \(malformed.count) malformed object\(malformed.count == 1 ? "" : "s") skipped:\n"
            summary += malformed.map { "  \($0)" }.joined(separator: "\n")
        }
        return summary
    }
}

/// A snapshot assessed as one cluster: the embedded default that needs no cluster and no Redis.
package struct SnapshotRun: Sendable {
    package var snapshot: Snapshot
    package var cluster: String
    package var detector: Detector

    package init(snapshot: Snapshot, cluster: String, detector: Detector) {
        self.snapshot = snapshot
        self.cluster = cluster
        self.detector = detector
    }

    /// Loads the snapshot at `path`. A malformed file throws a `CoreError` naming it.
    package static func load(path: String, cluster: String, detector: Detector) throws(CoreError) -> SnapshotRun {
        SnapshotRun(snapshot: try SnapshotLoader().load(path: path), cluster: cluster, detector: detector)
    }

    /// Assesses the snapshot at the time it was taken (its newest condition transition, never later than `now`), so
    /// "reconciling for longer than `FLUXBRAIN_STUCK_AFTER`" means the same today as the day it was saved.
    package func assess(now: Date) -> Assessment {
        assess(judgedAt: snapshot.objects.takenAt(now: now))
    }

    /// Assesses the snapshot as of `judgedAt` (its objects' `takenAt(now:)`, computed by the caller).
    package func assess(judgedAt: Date) -> Assessment {
        detector.assess(snapshot.objects, cluster: cluster, now: judgedAt)
    }

    /// Assesses the snapshot and counts what it holds; logs each malformed object skipped.
    package func report(now: Date = Date(), logger: Logger) -> CollectionReport {
        for (file, item) in snapshot.malformed {
            logger.warning("skipped a malformed object", metadata: ["file": "\(file)", "item": "\(item)"])
        }
        return CollectionReport(
            incidents: assess(now: now).incidents,
            objectCount: snapshot.objects.filter { $0.fluxKind != nil }.count,
            malformed: snapshot.malformed.map { "\($0.file): \($0.item)" }
        )
    }
}
