import FluxbrainCore
import Foundation
import Testing

@Suite struct DetectionTests {
    /// The states every kind can be in, with the conditions its controller writes for them.
    enum State: String, CaseIterable, CustomTestStringConvertible {
        case ready, progressing, retrying, failedWithoutReconciling, stalled, stuck, suspended, noConditions
        case readyForOldGeneration, retryingForAnHour, readyUnknown

        var testDescription: String { rawValue }

        func object(kind: FluxKind) -> FluxObject {
            switch self {
            case .ready:
                return Fixture.object(
                    kind: kind,
                    conditions: [Fixture.condition("Ready", "True", "Succeeded", "stored artifact")]
                )
            case .progressing:
                return Fixture.object(
                    kind: kind,
                    generation: 2,
                    observedGeneration: 1,
                    conditions: [
                        Fixture.condition(
                            "Reconciling",
                            "True",
                            "Progressing",
                            "Reconciliation in progress",
                            generation: 2
                        ),
                        Fixture.condition(
                            "Ready",
                            "Unknown",
                            "Progressing",
                            "Reconciliation in progress",
                            generation: 2
                        ),
                    ]
                )
            case .retrying:
                return Fixture.object(
                    kind: kind,
                    conditions: [
                        Fixture.condition("Reconciling", "True", "ProgressingWithRetry", "building artifact"),
                        Fixture.condition("Ready", "False", "ExampleFailed", "it broke"),
                    ]
                )
            case .failedWithoutReconciling:
                return Fixture.object(
                    kind: kind,
                    conditions: [Fixture.condition("Ready", "False", "ExampleFailed", "it broke")]
                )
            case .stalled:
                return Fixture.object(
                    kind: kind,
                    conditions: [
                        Fixture.condition("Stalled", "True", "InvalidURL", "invalid URL"),
                        Fixture.condition("Ready", "False", "InvalidURL", "invalid URL"),
                    ]
                )
            case .stuck:
                return Fixture.object(
                    kind: kind,
                    generation: 2,
                    conditions: [
                        Fixture.condition(
                            "Reconciling",
                            "True",
                            "Progressing",
                            "Running health checks",
                            at: Fixture.longAgo,
                            generation: 2
                        ),
                        Fixture.condition(
                            "Ready",
                            "Unknown",
                            "Progressing",
                            "Reconciliation in progress",
                            at: Fixture.longAgo,
                            generation: 2
                        ),
                    ]
                )
            case .suspended:
                return Fixture.object(
                    kind: kind,
                    conditions: [Fixture.condition("Ready", "False", "ExampleFailed", "stale failure")],
                    suspend: true
                )
            case .noConditions:
                return Fixture.object(kind: kind, observedGeneration: nil, conditions: [])
            case .readyForOldGeneration:
                return Fixture.object(
                    kind: kind,
                    generation: 3,
                    observedGeneration: 2,
                    conditions: [Fixture.condition("Ready", "True", "Succeeded", "stored artifact", generation: 2)]
                )
            case .retryingForAnHour:
                // Failing for long is still `retrying`, not `stuck`: the Reconciling condition says ProgressingWithRetry.
                return Fixture.object(
                    kind: kind,
                    conditions: [
                        Fixture.condition(
                            "Reconciling",
                            "True",
                            "ProgressingWithRetry",
                            "retrying",
                            at: Fixture.longAgo
                        ),
                        Fixture.condition("Ready", "False", "ExampleFailed", "it broke", at: Fixture.longAgo),
                    ]
                )
            case .readyUnknown:
                return Fixture.object(
                    kind: kind,
                    conditions: [Fixture.condition("Ready", "Unknown", "Progressing", "in progress")]
                )
            }
        }

        var expected: ObjectHealth {
            switch self {
            case .ready: .healthy
            case .progressing, .readyForOldGeneration, .readyUnknown: .progressing
            case .retrying, .failedWithoutReconciling, .retryingForAnHour: .failing(.retrying)
            case .stalled: .failing(.stalled)
            case .stuck: .failing(.stuck)
            case .suspended: .suspended
            case .noConditions: .unknown
            }
        }
    }

    let detector = Detector(stuckAfter: .seconds(15 * 60))

    @Test(arguments: FluxKind.all, State.allCases)
    func classifiesEveryKindInEveryState(kind: FluxKind, state: State) throws {
        let object = state.object(kind: kind)
        #expect(detector.health(of: object, now: Fixture.now) == state.expected)
        let incident = detector.incident(for: object, cluster: "prod", now: Fixture.now)
        if case .failing(let failure) = state.expected {
            let incident = try #require(incident)
            #expect(incident.state == failure)
            #expect(
                incident.object
                    == ObjectReference(cluster: "prod", kind: kind, namespace: "flux-system", name: "example")
            )
            #expect(incident.controller == kind.controller)
        } else {
            #expect(incident == nil)
        }
        let assessment = detector.assess([object], cluster: "prod", now: Fixture.now)
        let reference = try #require(object.reference(cluster: "prod"))
        switch state.expected {
        case .healthy: #expect(assessment.healthy == [reference])
        case .failing: #expect(assessment.incidents.map(\.object) == [reference])
        default: #expect(assessment.undecided == [reference])
        }
    }

    @Test(arguments: ["RollbackSucceeded", "UninstallSucceeded"])
    func remediatedHelmReleaseIsFailingEvenWhileReconciling(reason: String) throws {
        let release = Fixture.object(
            kind: .helmRelease,
            name: "ingress-nginx",
            conditions: [
                Fixture.condition("Reconciling", "True", "Progressing", "Fulfilling prerequisites"),
                Fixture.condition(
                    "Ready",
                    "False",
                    reason,
                    "Helm rollback to previous release ingress-nginx/ingress-nginx.v11 succeeded"
                ),
                Fixture.condition("Released", "False", "UpgradeFailed", "Helm upgrade failed"),
                Fixture.condition("Remediated", "True", reason, "Helm rollback succeeded"),
            ],
            statusExtra: #""lastAttemptedRevision":"4.13.3","lastAttemptedReleaseAction":"upgrade""#
        )
        let incident = try #require(detector.incident(for: release, cluster: "prod", now: Fixture.now))
        // The headline is the failed upgrade; the remediation keeps Ready's reason, and so does the fingerprint.
        #expect(incident.reason == "UpgradeFailed")
        #expect(incident.remediation?.reason == reason)
        #expect(
            incident.fingerprint
                == Fingerprint(
                    cluster: "prod",
                    kind: "HelmRelease",
                    namespace: release.metadata.namespace ?? "default",
                    name: "ingress-nginx",
                    reason: reason,
                    revision: "4.13.3"
                )
        )
        #expect(incident.state == .retrying)
        #expect(incident.revision == "4.13.3")
    }

    @Test func readyFalseWithProgressingReconcileIsNotFailingUntilStuck() {
        let fresh = Fixture.object(
            kind: .kustomization,
            conditions: [
                Fixture.condition("Reconciling", "True", "Progressing", "Fetching manifests"),
                Fixture.condition("Ready", "False", "BuildFailed", "previous failure"),
            ]
        )
        #expect(detector.health(of: fresh, now: Fixture.now) == .progressing)
        let old = Fixture.object(
            kind: .kustomization,
            conditions: [
                Fixture.condition("Reconciling", "True", "Progressing", "Fetching manifests", at: Fixture.longAgo),
                Fixture.condition("Ready", "False", "BuildFailed", "previous failure", at: Fixture.longAgo),
            ]
        )
        #expect(detector.health(of: old, now: Fixture.now) == .failing(.stuck))
    }

    @Test func stuckAfterIsConfigurable() {
        let object = State.stuck.object(kind: .kustomization)
        #expect(Detector(stuckAfter: .seconds(3 * 3600)).health(of: object, now: Fixture.now) == .progressing)
        #expect(Detector(stuckAfter: .seconds(60)).health(of: object, now: Fixture.now) == .failing(.stuck))
    }

    @Test func capturesKustomizationContext() throws {
        let object = Fixture.object(
            kind: .kustomization,
            name: "apps",
            generation: 3,
            observedGeneration: 2,
            conditions: [
                Fixture.condition("Reconciling", "True", "ProgressingWithRetry", "retrying", generation: 3),
                Fixture.condition(
                    "Ready",
                    "False",
                    "BuildFailed",
                    "kustomize build failed: accumulating resources",
                    generation: 3
                ),
            ],
            specExtra: #""dependsOn":[{"name":"infra"},{"name":"crds","namespace":"platform"}]"#,
            statusExtra: #""lastAppliedRevision":"main@sha1:8a1b","lastAttemptedRevision":"main@sha1:4f6c""#
        )
        let incident = try #require(detector.incident(for: object, cluster: "prod", now: Fixture.now))
        #expect(incident.reason == "BuildFailed")
        #expect(incident.message == "kustomize build failed: accumulating resources")
        #expect(incident.revision == "main@sha1:4f6c")
        #expect(incident.lastAppliedRevision == "main@sha1:8a1b")
        #expect(incident.lastAttemptedRevision == "main@sha1:4f6c")
        #expect(
            incident.source
                == ObjectReference(cluster: "prod", kind: .gitRepository, namespace: "flux-system", name: "flux-system")
        )
        #expect(
            incident.dependsOn == [
                ObjectReference(cluster: "prod", kind: .kustomization, namespace: "flux-system", name: "infra"),
                ObjectReference(cluster: "prod", kind: .kustomization, namespace: "platform", name: "crds"),
            ]
        )
        #expect(incident.controller == "kustomize-controller")
        #expect(incident.retryInterval == "2m0s")
        #expect(incident.generation == 3)
        #expect(incident.observedGeneration == 2)
        #expect(incident.since == RFC3339.date(from: Fixture.recent))
        #expect(incident.status?["unknownFutureField"] != nil)
    }

    @Test func capturesSourceArtifactRevision() throws {
        let object = Fixture.object(
            kind: .gitRepository,
            name: "fleet",
            conditions: [Fixture.condition("Ready", "False", "GitOperationFailed", "authentication required")],
            statusExtra:
                #""artifact":{"revision":"main@sha1:4f6c","digest":"sha256:2a3b","lastUpdateTime":"2026-11-28T19:40:55Z"}"#
        )
        let incident = try #require(detector.incident(for: object, cluster: "prod", now: Fixture.now))
        #expect(incident.artifactRevision == "main@sha1:4f6c")
        #expect(incident.revision == "main@sha1:4f6c")
        #expect(incident.controller == "source-controller")
        #expect(incident.source == nil)
    }

    @Test func capturesHelmReleaseHistoryAndGeneratedChart() throws {
        let object = Fixture.object(
            kind: .helmRelease,
            namespace: "podinfo",
            name: "podinfo",
            generation: 5,
            observedGeneration: 5,
            conditions: [
                Fixture.condition(
                    "Stalled",
                    "True",
                    "RetriesExceeded",
                    "Failed to upgrade after 1 attempt(s)",
                    generation: 5
                ),
                Fixture.condition(
                    "Ready",
                    "False",
                    "UpgradeFailed",
                    "Helm upgrade failed for release podinfo/podinfo",
                    generation: 5
                ),
            ],
            statusExtra: """
                "helmChart":"flux-system/podinfo-podinfo","lastAttemptedRevision":"6.9.3","history":[\
                {"apiVersion":"v2","version":4,"status":"failed","action":"upgrade","chartName":"podinfo","chartVersion":"6.9.3"},\
                {"apiVersion":"v2","version":3,"status":"deployed","action":"upgrade","chartName":"podinfo","chartVersion":"6.9.2"}]
                """
        )
        let incident = try #require(detector.incident(for: object, cluster: "prod", now: Fixture.now))
        #expect(incident.state == .stalled)
        #expect(incident.reason == "UpgradeFailed")
        #expect(incident.helmHistory.map(\.version) == [4, 3])
        #expect(incident.helmHistory.first?.status == "failed")
        #expect(
            incident.source
                == ObjectReference(cluster: "prod", kind: .helmChart, namespace: "flux-system", name: "podinfo-podinfo")
        )
        #expect(incident.controller == "helm-controller")
        #expect(incident.retryInterval == nil)
    }

    @Test func imagePolicyPointsAtItsImageRepository() throws {
        let object = Fixture.object(
            kind: .imagePolicy,
            name: "podinfo",
            conditions: [Fixture.condition("Ready", "False", "DependencyNotReady", "")]
        )
        #expect(
            object.upstreamSource(cluster: "c")
                == ObjectReference(cluster: "c", kind: .imageRepository, namespace: "flux-system", name: "podinfo")
        )
    }

    @Test(arguments: [
        "2026-11-28T19:41:03Z", "1970-01-01T00:00:00Z", "2000-02-29T23:59:59Z", "2100-03-01T00:00:00Z",
        "2026-11-28T19:41:03.123Z", "2026-11-28T20:41:03+01:00", "not a date at all!!!",
    ])
    func conditionTimesParseLikeRFC3339(text: String) {
        #expect(Detector.date(from: text) == RFC3339.date(from: text))
    }

    @Test func unknownKindsAreIgnored() {
        var object = Fixture.object(kind: .kustomization, conditions: [Fixture.condition("Ready", "False", "X")])
        object.kind = "Alert"
        let assessment = detector.assess([object], cluster: "c", now: Fixture.now)
        #expect(assessment.incidents.isEmpty && assessment.healthy.isEmpty && assessment.undecided.isEmpty)
    }
}
