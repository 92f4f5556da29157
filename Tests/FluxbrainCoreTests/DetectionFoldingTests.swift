import FluxbrainCore
import Foundation
import Testing

@Suite struct DetectionFoldingTests {
    let detector = Detector()

    static func failing(_ reason: String, _ message: String = "") -> [String] {
        [
            Fixture.condition("Reconciling", "True", "ProgressingWithRetry", "retrying"),
            Fixture.condition("Ready", "False", reason, message),
        ]
    }

    static let ready = [Fixture.condition("Ready", "True", "Succeeded", "ok")]

    func ref(_ kind: FluxKind, _ namespace: String, _ name: String) -> ObjectReference {
        ObjectReference(cluster: "prod", kind: kind, namespace: namespace, name: name)
    }

    @Test func sourceDownFoldsItsKustomizationsAndHelmReleases() throws {
        let objects = [
            Fixture.object(
                kind: .gitRepository,
                name: "fleet",
                conditions: Self.failing("GitOperationFailed", "unable to clone: authentication required")
            ),
            Fixture.object(
                kind: .kustomization,
                name: "infra",
                conditions: Self.failing("ArtifactFailed", "Source artifact not found, retrying in 30s")
            ),
            // Same source, named explicitly in another namespace.
            Fixture.object(
                kind: .kustomization,
                namespace: "team-a",
                name: "apps",
                conditions: Self.failing("ArtifactFailed", "Source is not ready, artifact not found, retrying in 30s")
            ),
            // A HelmRelease whose chart comes from the GitRepository through its generated HelmChart.
            Fixture.object(
                kind: .helmChart,
                name: "team-a-podinfo",
                conditions: Self.failing("NoSourceArtifact", "no artifact available for GitRepository source 'fleet'")
            ),
            Fixture.object(
                kind: .helmRelease,
                namespace: "team-a",
                name: "podinfo",
                conditions: Self.failing("SourceNotReady", "HelmChart 'flux-system/team-a-podinfo' is not ready"),
                statusExtra: #""helmChart":"flux-system/team-a-podinfo""#
            ),
            // A Kustomization on the same source that fails on its own: reported on its own.
            Fixture.object(
                kind: .kustomization,
                name: "broken",
                conditions: Self.failing("BuildFailed", "kustomize build failed")
            ),
        ].map { object -> FluxObject in
            var object = object
            if object.metadata.name == "apps" {
                object.spec?.sourceRef = .init(
                    kind: "GitRepository",
                    name: "fleet",
                    namespace: "flux-system",
                    apiVersion: nil
                )
            } else if object.kind == "Kustomization" {
                object.spec?.sourceRef = .init(kind: "GitRepository", name: "fleet", namespace: nil, apiVersion: nil)
            } else if object.kind == "HelmChart" {
                object.spec?.sourceRef = .init(kind: "GitRepository", name: "fleet", namespace: nil, apiVersion: nil)
            }
            return object
        }
        let assessment = detector.assess(objects, cluster: "prod", now: Fixture.now)
        #expect(
            assessment.incidents.map(\.object) == [
                ref(.gitRepository, "flux-system", "fleet"), ref(.kustomization, "flux-system", "broken"),
            ]
        )
        let root = try #require(assessment.incidents.first)
        #expect(root.reason == "GitOperationFailed")
        #expect(
            root.affected == [
                ref(.helmChart, "flux-system", "team-a-podinfo"),
                ref(.helmRelease, "team-a", "podinfo"),
                ref(.kustomization, "flux-system", "infra"),
                ref(.kustomization, "team-a", "apps"),
            ]
        )
        #expect(assessment.incidents[1].affected.isEmpty)
        #expect(
            assessment.folded[ref(.helmRelease, "team-a", "podinfo")] == ref(.gitRepository, "flux-system", "fleet")
        )
    }

    @Test func dependsOnChainFoldsIntoTheFirstBrokenObject() throws {
        let objects = [
            Fixture.object(
                kind: .kustomization,
                name: "crds",
                conditions: Self.failing("ReconciliationFailed", "dry-run failed")
            ),
            Fixture.object(
                kind: .kustomization,
                name: "infra",
                conditions: Self.failing("DependencyNotReady", "dependency 'flux-system/crds' is not ready"),
                specExtra: #""dependsOn":[{"name":"crds"}]"#
            ),
            Fixture.object(
                kind: .kustomization,
                name: "apps",
                conditions: Self.failing("DependencyNotReady", "dependency 'flux-system/infra' is not ready"),
                specExtra: #""dependsOn":[{"name":"infra"}]"#
            ),
            Fixture.object(kind: .gitRepository, name: "flux-system", conditions: Self.ready),
        ]
        let assessment = detector.assess(objects, cluster: "prod", now: Fixture.now)
        #expect(assessment.incidents.count == 1)
        let root = try #require(assessment.incidents.first)
        #expect(root.object == ref(.kustomization, "flux-system", "crds"))
        #expect(
            root.affected == [ref(.kustomization, "flux-system", "apps"), ref(.kustomization, "flux-system", "infra")]
        )
    }

    @Test func dependencyOnAHealthyOrMissingObjectIsNotFolded() {
        let objects = [
            Fixture.object(kind: .kustomization, name: "infra", conditions: Self.ready),
            Fixture.object(
                kind: .kustomization,
                name: "apps",
                conditions: Self.failing(
                    "DependencyNotReady",
                    "dependency 'flux-system/infra' revision is not up to date"
                ),
                specExtra: #""dependsOn":[{"name":"infra"}]"#
            ),
            Fixture.object(
                kind: .kustomization,
                name: "orphan",
                conditions: Self.failing("DependencyNotReady", "dependency 'flux-system/missing' not found"),
                specExtra: #""dependsOn":[{"name":"missing"}]"#
            ),
        ]
        let assessment = detector.assess(objects, cluster: "prod", now: Fixture.now)
        #expect(assessment.incidents.map(\.object.name) == ["apps", "orphan"])
        #expect(assessment.incidents.allSatisfy { $0.affected.isEmpty })
        #expect(assessment.folded.isEmpty)
    }

    @Test func cycleFoldsIntoItsSmallestMember() throws {
        let objects = [
            Fixture.object(
                kind: .kustomization,
                name: "b",
                conditions: Self.failing("DependencyNotReady", "dependency 'flux-system/c' is not ready"),
                specExtra: #""dependsOn":[{"name":"c"}]"#
            ),
            Fixture.object(
                kind: .kustomization,
                name: "c",
                conditions: Self.failing("DependencyNotReady", "dependency 'flux-system/b' is not ready"),
                specExtra: #""dependsOn":[{"name":"b"}]"#
            ),
            Fixture.object(
                kind: .kustomization,
                name: "a",
                conditions: Self.failing("DependencyNotReady", "dependency 'flux-system/c' is not ready"),
                specExtra: #""dependsOn":[{"name":"c"}]"#
            ),
            Fixture.object(
                kind: .kustomization,
                name: "self",
                conditions: Self.failing("DependencyNotReady", "dependency 'flux-system/self' is not ready"),
                specExtra: #""dependsOn":[{"name":"self"}]"#
            ),
        ]
        let assessment = detector.assess(objects, cluster: "prod", now: Fixture.now)
        #expect(assessment.incidents.map(\.object.name) == ["b", "self"])
        let root = try #require(assessment.incidents.first)
        #expect(root.affected.map(\.name) == ["a", "c"])
    }

    @Test func foldsIntoAStalledOrStuckUpstream() throws {
        let objects = [
            Fixture.object(
                kind: .helmRelease,
                name: "database",
                conditions: [
                    Fixture.condition("Stalled", "True", "RetriesExceeded", "Failed to install after 1 attempt(s)"),
                    Fixture.condition("Ready", "False", "InstallFailed", "Helm install failed"),
                ]
            ),
            Fixture.object(
                kind: .helmRelease,
                name: "backend",
                conditions: [
                    Fixture.condition(
                        "Ready",
                        "False",
                        "DependencyNotReady",
                        "dependency 'flux-system/database' is not ready"
                    )
                ],
                specExtra: #""dependsOn":[{"name":"database"}]"#
            ),
        ]
        let assessment = detector.assess(objects, cluster: "prod", now: Fixture.now)
        #expect(assessment.incidents.map(\.object.name) == ["database"])
        #expect(assessment.incidents.first?.affected.map(\.name) == ["backend"])
        #expect(assessment.incidents.first?.state == .stalled)
    }

    @Test func suspendedUpstreamDoesNotAbsorbItsDependents() {
        let objects = [
            Fixture.object(kind: .kustomization, name: "infra", conditions: Self.failing("BuildFailed"), suspend: true),
            Fixture.object(
                kind: .kustomization,
                name: "apps",
                conditions: Self.failing("DependencyNotReady", "dependency 'flux-system/infra' is not ready"),
                specExtra: #""dependsOn":[{"name":"infra"}]"#
            ),
        ]
        let assessment = detector.assess(objects, cluster: "prod", now: Fixture.now)
        #expect(assessment.incidents.map(\.object.name) == ["apps"])
    }

    @Test func foldingIsIndependentOfObjectOrder() {
        var objects = [
            Fixture.object(kind: .kustomization, name: "crds", conditions: Self.failing("ReconciliationFailed")),
            Fixture.object(
                kind: .kustomization,
                name: "infra",
                conditions: Self.failing("DependencyNotReady"),
                specExtra: #""dependsOn":[{"name":"crds"}]"#
            ),
            Fixture.object(
                kind: .kustomization,
                name: "apps",
                conditions: Self.failing("DependencyNotReady"),
                specExtra: #""dependsOn":[{"name":"infra"}]"#
            ),
        ]
        let forward = detector.assess(objects, cluster: "prod", now: Fixture.now)
        objects.reverse()
        let backward = detector.assess(objects, cluster: "prod", now: Fixture.now)
        #expect(forward.incidents == backward.incidents)
    }
}
