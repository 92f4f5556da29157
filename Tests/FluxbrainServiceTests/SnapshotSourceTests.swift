import FluxbrainCore
import Foundation
import Testing

@testable import FluxbrainService

/// `run --snapshot`: the files are parsed again only when they changed (list, size or modification time).
@Suite struct SnapshotSourceTests {
    private static func kustomization(_ name: String, ready: Bool) -> String {
        """
        {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
         "metadata": {"name": "\(name)", "namespace": "flux-system", "generation": 1},
         "spec": {"interval": "10m0s", "path": "./apps", "sourceRef": {"kind": "GitRepository", "name": "flux-system"}},
         "status": {"observedGeneration": 1, "conditions": [{"type": "Ready", "status": "\(ready ? "True" : "False")",
           "reason": "\(ready ? "ReconciliationSucceeded" : "BuildFailed")", "message": "m",
           "lastTransitionTime": "2026-11-28T06:00:12Z"}]}}
        """
    }

    private static func failing(_ source: SnapshotSource) async throws -> [String] {
        let seen = try await source.assess(now: Date(timeIntervalSince1970: 1_800_000_000))
        return seen.clusters.flatMap(\.assessment.incidents).map(\.object.name).sorted()
    }

    @Test func unchangedFilesAreNotParsedAgainAndAChangedFileIs() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fluxbrain-snap-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("ks.json")
        let written = Date(timeIntervalSince1970: 1_790_000_000)
        func write(_ text: String, modified: Date) throws {
            try text.write(to: file, atomically: false, encoding: .utf8)
            try FileManager.default.setAttributes([.modificationDate: modified], ofItemAtPath: file.path)
        }
        try write(Self.kustomization("alpha", ready: false), modified: written)
        let source = SnapshotSource(input: .path(directory.path), cluster: "c", detector: Detector())
        #expect(try await Self.failing(source) == ["alpha"])

        // Same size and time, other content: the parsed snapshot is reused (what "unchanged" means here).
        try write(Self.kustomization("bravo", ready: false), modified: written)
        #expect(try await Self.failing(source) == ["alpha"])

        // A new modification time: read again.
        try write(Self.kustomization("bravo", ready: false), modified: written.addingTimeInterval(1))
        #expect(try await Self.failing(source) == ["bravo"])

        // A file added: read again.
        try Self.kustomization("charlie", ready: false)
            .write(to: directory.appendingPathComponent("more.json"), atomically: false, encoding: .utf8)
        #expect(try await Self.failing(source) == ["bravo", "charlie"])

        // A changed size (recovered): read again.
        try write(Self.kustomization("bravo", ready: true), modified: written.addingTimeInterval(1))
        #expect(try await Self.failing(source) == ["charlie"])
    }
}
