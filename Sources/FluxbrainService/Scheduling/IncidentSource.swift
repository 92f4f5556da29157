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

/// What one collection pass saw: the clusters it could judge, and what it could not read.
package struct SourceAssessment: Sendable {
    package var clusters: [ClusterAssessment]
    /// Parts left out of the pass, one line each: a whole cluster (unreachable, refused) or one kind of a cluster
    /// (`cluster prod: gitrepositories: forbidden …`). Empty when everything was read.
    package var unread: [String]

    package init(clusters: [ClusterAssessment], unread: [String] = []) {
        self.clusters = clusters
        self.unread = unread
    }
}

/// Where the scheduler's view of the clusters comes from: a snapshot on disk or live Kubernetes API servers.
package protocol IncidentSource: Sendable {
    /// Assesses every cluster it can read now. An unreachable cluster, or a kind that cannot be read, is left out
    /// and named in `unread` (never fails the others).
    func assess(now: Date) async throws -> SourceAssessment
    /// Fills in evidence (events, controller log lines) for a new incident before it is enqueued.
    func enrich(_ incident: Incident) async -> Incident
    /// Waits until something changed (a watch event) since the last ``assess(now:)`` began or the last wait
    /// returned, or until `timeout` passed.
    func waitForChange(timeout: Duration) async throws
}

/// A snapshot as an incident source, assessed as one cluster at the time it was taken.
package struct SnapshotSource: IncidentSource {
    /// Where the snapshot comes from.
    package enum Input: Sendable {
        /// Files on disk, read again on each pass (`fluxbrain run --snapshot PATH`).
        case path(String)
        /// A snapshot already loaded and checked (`fluxbrain once --snapshot PATH`): never read again.
        case loaded(Snapshot)
    }

    package var input: Input
    package var cluster: String
    package var detector: Detector

    package init(input: Input, cluster: String, detector: Detector) {
        self.input = input
        self.cluster = cluster
        self.detector = detector
    }

    package func assess(now: Date) async throws -> SourceAssessment {
        let run: SnapshotRun
        switch input {
        case .path(let path): run = try SnapshotRun.load(path: path, cluster: cluster, detector: detector)
        case .loaded(let snapshot): run = SnapshotRun(snapshot: snapshot, cluster: cluster, detector: detector)
        }
        return SourceAssessment(clusters: [ClusterAssessment(cluster: cluster, assessment: run.assess(now: now))])
    }

    package func enrich(_ incident: Incident) async -> Incident { incident }

    package func waitForChange(timeout: Duration) async throws {
        try await Task.sleep(for: timeout)
    }
}
