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
    /// Fills in evidence (events, controller log lines) for new incidents before they are enqueued; the incidents in
    /// the same order. A source that reads evidence over the network reads it for all of them at once.
    func enrich(_ incidents: [Incident]) async -> [Incident]
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
        let assessment: Assessment
        switch input {
        case .path(let path):
            assessment = try lastRead.assessment(at: path, now: now) { snapshot, judgedAt in
                SnapshotRun(snapshot: snapshot, cluster: cluster, detector: detector).assess(judgedAt: judgedAt)
            }
        case .loaded(let snapshot):
            assessment = SnapshotRun(snapshot: snapshot, cluster: cluster, detector: detector).assess(now: now)
        }
        return SourceAssessment(clusters: [ClusterAssessment(cluster: cluster, assessment: assessment)])
    }

    package func enrich(_ incidents: [Incident]) async -> [Incident] { incidents }

    package func waitForChange(timeout: Duration) async throws {
        try await Task.sleep(for: timeout)
    }
}

/// The snapshot a ``SnapshotSource`` read last, with the files' sizes and modification times then, and its last
/// assessment: a pass whose files are all unchanged (same list, sizes and times) reuses the parsed snapshot instead of
/// parsing every file again, and its assessment too when the snapshot is judged at the same time (a saved snapshot is
/// judged at its newest condition transition, so that time does not move). Any change reads the whole snapshot again.
final class LastReadSnapshot: Sendable {
    /// One file's identity for "unchanged": its path, size and modification time.
    struct Stamp: Equatable, Sendable {
        var path: String
        var size: UInt64
        var modified: Date
    }

    private struct Read: Sendable {
        var stamps: [Stamp]
        var snapshot: Snapshot
        /// The snapshot's newest condition transition (`newestTransition()`), read once per snapshot read.
        var newest: Date?
        var judgedAt: Date?
        var assessment: Assessment?
    }

    private let last = Mutex<Read?>(nil)
    private let loader = SnapshotLoader()

    /// The assessment of the snapshot at `path` at `now`: `assess` of the snapshot read last if its files are
    /// unchanged (or that assessment itself, when judged at the same time), else of the snapshot read now.
    func assessment(
        at path: String,
        now: Date,
        _ assess: (Snapshot, _ judgedAt: Date) -> Assessment
    ) throws(CoreError) -> Assessment {
        let files = try loader.files(at: path)
        let found = files.map(Self.stamp)
        let stamps = found.compactMap { $0 }
        let complete = stamps.count == found.count
        var read: Read
        if complete, let previous = last.withLock({ $0 }), previous.stamps == stamps {
            read = previous
        } else {
            let snapshot = try loader.load(files: files)
            read = Read(stamps: stamps, snapshot: snapshot, newest: snapshot.objects.newestTransition())
        }
        // As `takenAt(now:)` judges, from the newest transition kept with the read.
        let judgedAt = Swift.min(read.newest ?? now, now)
        if let assessment = read.assessment, read.judgedAt == judgedAt { return assessment }
        let assessment = assess(read.snapshot, judgedAt)
        read.judgedAt = judgedAt
        read.assessment = assessment
        if complete { last.withLock { $0 = read } }
        return assessment
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
