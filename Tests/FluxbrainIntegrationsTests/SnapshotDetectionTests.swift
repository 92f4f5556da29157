import FluxbrainCore
import FluxbrainIntegrations
import FluxbrainTestSupport
import FluxbrainTestbed
import Foundation
import Logging
import Testing

/// The example snapshot through the one detection implementation, and the same objects served by the fake cluster.
@Suite struct SnapshotDetectionTests {
    /// `examples/snapshot`, found from this file's path.
    static let examplePath: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("examples/snapshot").path
    }()

    static let now = RFC3339.date(from: "2026-11-28T20:00:00Z")!

    func ref(_ kind: FluxKind, _ namespace: String, _ name: String) -> ObjectReference {
        ObjectReference(cluster: "production", kind: kind, namespace: namespace, name: name)
    }

    @Test func exampleSnapshotYieldsTheFourDocumentedIncidents() throws {
        let snapshot = try SnapshotLoader().load(path: Self.examplePath)
        #expect(snapshot.malformed.isEmpty, "malformed: \(snapshot.malformed.map(\.item))")
        let assessment = Detector().assess(snapshot.objects, cluster: "production", now: Self.now)
        let incidents = Dictionary(uniqueKeysWithValues: assessment.incidents.map { ($0.object, $0) })
        #expect(
            assessment.incidents.map(\.object) == [
                ref(.gitRepository, "storefront", "storefront"),
                ref(.helmRelease, "ingress-nginx", "ingress-nginx"),
                ref(.helmRelease, "podinfo", "podinfo"),
                ref(.kustomization, "flux-system", "infra"),
            ]
        )
        let infra = try #require(incidents[ref(.kustomization, "flux-system", "infra")])
        #expect(infra.reason == "BuildFailed")
        #expect(infra.state == .retrying)
        #expect(infra.affected == [ref(.kustomization, "flux-system", "apps")])
        let git = try #require(incidents[ref(.gitRepository, "storefront", "storefront")])
        #expect(git.reason == "GitOperationFailed")
        #expect(git.affected == [ref(.kustomization, "storefront", "storefront")])
        let podinfo = try #require(incidents[ref(.helmRelease, "podinfo", "podinfo")])
        #expect(podinfo.state == .stalled)
        #expect(podinfo.reason == "UpgradeFailed")
        #expect(podinfo.helmHistory.count == 2)
        let nginx = try #require(incidents[ref(.helmRelease, "ingress-nginx", "ingress-nginx")])
        // Remediated: the failed upgrade is the headline, the rollback its own line, the fingerprint unchanged.
        #expect(nginx.reason == "UpgradeFailed")
        #expect(nginx.message.hasPrefix("Helm upgrade failed for release ingress-nginx/ingress-nginx"))
        #expect(nginx.cause == "stalled resources: Deployment/ingress-nginx/ingress-nginx-controller (Failed)")
        #expect(nginx.remediation?.summary == "rolled back to v11, chart 4.13.2")
        #expect(nginx.changes?.previousChart == "4.13.2")
        #expect(nginx.changes?.failingChart == "4.13.3")
        #expect(
            nginx.fingerprint
                == Fingerprint(
                    cluster: nginx.object.cluster,
                    kind: "HelmRelease",
                    namespace: "ingress-nginx",
                    name: "ingress-nginx",
                    reason: "RollbackSucceeded",
                    revision: "4.13.3"
                )
        )
        #expect(nginx.revision == "4.13.3")
        #expect(assessment.undecided.contains(ref(.kustomization, "flux-system", "monitoring")))
        #expect(assessment.undecided.contains(ref(.kustomization, "flux-system", "tenants")))
        #expect(assessment.healthy.contains(ref(.imagePolicy, "flux-system", "podinfo")))
    }

    /// A list item whose field has the wrong type is skipped, named with its index and the faulty field; the others
    /// load, each with its document.
    @Test func malformedListItemsAreSkippedNamingTheField() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("snapshot-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: path) }
        let json = """
            {"kind": "List", "items": [
              {"kind": "Kustomization", "metadata": {"name": "good", "namespace": "flux-system"}},
              {"kind": "Kustomization", "metadata": {"name": "bad", "namespace": "flux-system"}, "spec": {"suspend": "yes"}}
            ]}
            """
        try json.write(to: path, atomically: true, encoding: .utf8)
        let snapshot = try SnapshotLoader().load(path: path.path)
        #expect(snapshot.objects.map(\.metadata.name) == ["good"])
        #expect(snapshot.documents.count == 1)
        let malformed = try #require(snapshot.malformed.first)
        #expect(malformed.item.index == 1)
        #expect(malformed.item.name == "bad")
        #expect(malformed.item.reason.contains("spec.suspend"))
    }

    @Test func invalidJSONIsRefusedNamingTheFileAndTheByte() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("snapshot-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: path) }
        try #"{"kind": "List", "items": [}"#.write(to: path, atomically: true, encoding: .utf8)
        let error = try #require(throws: CoreError.self) { try SnapshotLoader().load(path: path.path) }
        #expect(error.message.contains("snapshot file \(path.path): not valid JSON: invalid JSON at byte 27"))
    }

    /// The fake cluster serves `documents`: one per loaded object, in the same order, with every field kept.
    @Test func snapshotDocumentsAreTheLoadedObjectsAsWritten() throws {
        let loaded = try SnapshotLoader().load(path: Self.examplePath)
        #expect(!loaded.objects.isEmpty)
        #expect(loaded.documents.count == loaded.objects.count)
        #expect(
            loaded.documents.compactMap { $0["metadata"]?["name"]?.stringValue } == loaded.objects.map(\.metadata.name)
        )
        for (document, object) in zip(loaded.documents, loaded.objects) {
            #expect(try FluxObject(json: document) == object)
            #expect(document["apiVersion"] != nil)
        }
    }

    /// `fluxbrain once` against a kubeconfig pointing at the fake cluster serving the snapshot reports the same
    /// incidents as `--snapshot` on the same objects.
    @Test func onceAgainstTheFakeClusterEqualsTheSnapshot() async throws {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let state = try await FakeCluster.state(snapshotPath: Self.examplePath, logger: logger)
        let directory = try TestKubeconfig.makeDirectory()
        try "fluxbrain-token".write(toFile: directory + "/token", atomically: true, encoding: .utf8)
        await state.requireToken("fluxbrain-token")
        let detector = Detector()
        let expected = detector.assess(
            try SnapshotLoader().load(path: Self.examplePath).objects,
            cluster: "production",
            now: Self.now
        )
        try await withFakeKubernetesServer(state: state, tls: true) { _, url in
            try await KubeTest.withHTTPClient { http in
                let path = try TestKubeconfig.write(
                    [
                        .init(
                            name: "production",
                            server: url,
                            caPEM: await TestCertificates.shared.caPEM,
                            user: .tokenFile(directory + "/token")
                        )
                    ],
                    in: directory
                )
                let named = try KubernetesClusters.resolve(
                    cluster: nil,
                    clusters: [],
                    kubeAPIURL: nil,
                    environment: ["KUBECONFIG": path],
                    homeDirectory: directory
                )
                let client = try KubernetesClient(
                    cluster: named[0].name,
                    config: named[0].connection,
                    httpClient: http,
                    logger: KubeTest.logger
                )
                let collector = ClusterCollector(client: client, logger: KubeTest.logger)
                let collection = await collector.collectOnce()
                #expect(collection.failures.isEmpty)
                #expect(collection.missingKinds.isEmpty)
                let live = detector.assess(collection.objects, cluster: collection.cluster, now: Self.now)
                #expect(live.incidents == expected.incidents)
                #expect(live.incidents.count == 4)
                // The testbed also serves evidence for the failing objects.
                let evidence = EvidenceCollector(
                    clients: ["production": client],
                    collectLogs: true,
                    logger: KubeTest.logger
                )
                let enriched = await evidence.enrich(try #require(live.incidents.first))
                #expect(enriched.events.first?.reason == "GitOperationFailed")
                #expect(enriched.logLines.first?.error?.contains("authentication required") == true)
            }
        }
    }
}
