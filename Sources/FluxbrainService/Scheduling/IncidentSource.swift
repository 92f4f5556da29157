import FluxbrainCore
import FluxbrainIntegrations
import Foundation

/// One cluster's assessment from one collection pass.
package struct ClusterAssessment: Sendable {
    package var cluster: String
    package var assessment: Assessment

    package init(cluster: String, assessment: Assessment) {
        self.cluster = cluster
        self.assessment = assessment
    }
}

/// Where the scheduler's view of the clusters comes from: a snapshot on disk or live Kubernetes API servers.
package protocol IncidentSource: Sendable {
    /// Assesses every reachable cluster now. An unreachable cluster is left out (never fails the others).
    func assess(now: Date) async throws -> [ClusterAssessment]
    /// Fills in evidence (events, controller log lines) for a new incident before it is enqueued.
    func enrich(_ incident: Incident) async -> Incident
    /// Waits until something changed (a watch event) or `timeout` passed.
    func waitForChange(timeout: Duration) async throws
}

/// A snapshot on disk as an incident source: it never changes.
package struct SnapshotSource: IncidentSource {
    package var run: SnapshotRun

    package init(run: SnapshotRun) {
        self.run = run
    }

    package func assess(now: Date) async throws -> [ClusterAssessment] {
        let snapshot = try SnapshotLoader().load(path: run.path)
        let takenAt = snapshot.objects.takenAt(now: now)
        return [ClusterAssessment(cluster: run.cluster, assessment: run.detector.assess(snapshot.objects, cluster: run.cluster, now: takenAt))]
    }

    package func enrich(_ incident: Incident) async -> Incident { incident }

    package func waitForChange(timeout: Duration) async throws {
        try await Task.sleep(for: timeout)
    }
}
