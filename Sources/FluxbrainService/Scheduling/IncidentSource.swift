import FluxbrainCore
import FluxbrainIntegrations
import Foundation
import Synchronization

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
        /// Files on disk, read again on a pass when they changed (`fluxbrain run --snapshot PATH`).
        case path(String)
        /// A snapshot already loaded and checked (`fluxbrain once --snapshot PATH`): never read again.
        case loaded(Snapshot)
    }

    package var input: Input
    package var cluster: String
    package var detector: Detector
    /// The snapshot last read from `.path` input, kept while its files are unchanged.
    private let lastRead = LastReadSnapshot()

    package init(input: Input, cluster: String, detector: Detector) {
        self.input = input
        self.cluster = cluster
        self.detector = detector
    }

    package func assess(now: Date) async throws -> SourceAssessment {
        let snapshot: Snapshot
        switch input {
        case .path(let path): snapshot = try lastRead.snapshot(at: path)
        case .loaded(let loaded): snapshot = loaded
        }
        let run = SnapshotRun(snapshot: snapshot, cluster: cluster, detector: detector)
        return SourceAssessment(clusters: [ClusterAssessment(cluster: cluster, assessment: run.assess(now: now))])
    }

    package func enrich(_ incident: Incident) async -> Incident { incident }

    package func waitForChange(timeout: Duration) async throws {
        try await Task.sleep(for: timeout)
    }
}

/// The snapshot a ``SnapshotSource`` read last, with the files' sizes and modification times then: a pass whose files
/// are all unchanged (same list, sizes and times) reuses it instead of parsing every file again; any change reads the
/// whole snapshot again.
final class LastReadSnapshot: Sendable {
    /// One file's identity for "unchanged": its path, size and modification time.
    struct Stamp: Equatable, Sendable {
        var path: String
        var size: UInt64
        var modified: Date
    }

    private let state = Mutex<(stamps: [Stamp], snapshot: Snapshot)?>(nil)
    private let loader = SnapshotLoader()

    /// The snapshot at `path`: the one read last if its files are unchanged, else read now.
    func snapshot(at path: String) throws(CoreError) -> Snapshot {
        let files = try loader.files(at: path)
        let stamps = files.map(Self.stamp)
        if let last = state.withLock({ $0 }), !stamps.contains(nil), last.stamps == stamps.compactMap({ $0 }) {
            return last.snapshot
        }
        let snapshot = try loader.load(files: files)
        if !stamps.contains(nil) {
            state.withLock { $0 = (stamps.compactMap { $0 }, snapshot) }
        }
        return snapshot
    }

    /// `nil` when the file cannot be examined (it is then read, and reports its own error).
    private static func stamp(_ path: String) -> Stamp? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let size = (attributes[.size] as? NSNumber)?.uint64Value,
            let modified = attributes[.modificationDate] as? Date
        else { return nil }
        return Stamp(path: path, size: size, modified: modified)
    }
}
