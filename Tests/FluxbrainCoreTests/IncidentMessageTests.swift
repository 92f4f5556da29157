import FluxbrainCore
import Foundation
import Testing

/// Flux objects shaped like the API serves them after real failures, and what the incident says about them:
/// headline (the failed action), innermost cause, remediation, collapsed evidence and what changed.
enum MessageFixtures {
    static let now = RFC3339.date(from: "2026-11-28T20:00:00Z")!

    static func object(_ json: String) throws -> FluxObject {
        try FluxObject(json: FastJSON.parse(Array(json.utf8)))
    }

    static func condition(_ type: String, _ status: String, _ reason: String, _ message: String) -> String {
        """
        {"type":\(Fixture.quote(type)),"status":\(Fixture.quote(status)),"reason":\(Fixture.quote(reason)),\
        "message":\(Fixture.quote(message)),"lastTransitionTime":"2026-11-28T19:30:02Z","observedGeneration":4}
        """
    }

    static func helmRelease(
        name: String,
        namespace: String,
        conditions: [String],
        history: String = "[]",
        attempted: String
    ) -> String {
        """
        {"apiVersion":"helm.toolkit.fluxcd.io/v2","kind":"HelmRelease",
         "metadata":{"name":"\(name)","namespace":"\(namespace)","generation":4},
         "spec":{"interval":"10m","chart":{"spec":{"chart":"\(name)","version":"10.x",
           "sourceRef":{"kind":"HelmRepository","name":"\(name)","namespace":"flux-system"}}},
           "upgrade":{"remediation":{"retries":3,"strategy":"rollback"}}},
         "status":{"observedGeneration":4,"conditions":[\(conditions.joined(separator: ","))],
           "history":\(history),"lastAttemptedRevision":"\(attempted)","lastAttemptedReleaseAction":"upgrade",
           "helmChart":"flux-system/\(namespace)-\(name)"}}
        """
    }

    static let grafanaUpgradeError =
        #"Helm upgrade failed for release monitoring/grafana with chart grafana@10.1.0: cannot patch "grafana" with kind Deployment: Deployment.apps "grafana" is invalid: spec.template.spec.containers[0].volumeMounts[3].mountPath: Invalid value: "/etc/grafana/provisioning/datasources": must be unique"#
    static let grafanaRollback =
        "Helm rollback to previous release monitoring/grafana.v7 with chart grafana@10.0.2 succeeded"

    /// Upgrade 10.0.2 → 10.1.0 failed, rolled back to v7.
    static func grafanaRolledBack() throws -> FluxObject {
        try object(
            helmRelease(
                name: "grafana",
                namespace: "monitoring",
                conditions: [
                    condition("Ready", "False", "RollbackSucceeded", grafanaRollback),
                    condition("Released", "False", "UpgradeFailed", grafanaUpgradeError),
                    condition("Remediated", "True", "RollbackSucceeded", grafanaRollback),
                ],
                history: """
                    [{"version":9,"status":"deployed","action":"rollback","chartName":"grafana","chartVersion":"10.0.2"},
                     {"version":8,"status":"failed","action":"upgrade","chartName":"grafana","chartVersion":"10.1.0"},
                     {"version":7,"status":"superseded","action":"upgrade","chartName":"grafana","chartVersion":"10.0.2"}]
                    """,
                attempted: "10.1.0"
            )
        )
    }

    static let podinfoInstallError =
        #"Helm install failed for release apps/podinfo with chart podinfo@6.9.2: failed to create resource: Internal error occurred: failed calling webhook "validate.nginx.ingress.kubernetes.io": failed to call webhook: Post "https://ingress-nginx-controller-admission.ingress-nginx.svc:443/networking/v1/ingresses?timeout=10s": dial tcp 10.96.12.4:443: connect: connection refused"#

    /// Install failed, uninstalled by remediation.
    static func podinfoUninstalled() throws -> FluxObject {
        let uninstall = "Helm uninstall succeeded for release apps/podinfo.v1 with chart podinfo@6.9.2"
        return try object(
            helmRelease(
                name: "podinfo",
                namespace: "apps",
                conditions: [
                    condition("Ready", "False", "UninstallSucceeded", uninstall),
                    condition("Released", "False", "InstallFailed", podinfoInstallError),
                    condition("Remediated", "True", "UninstallSucceeded", uninstall),
                ],
                attempted: "6.9.2"
            )
        )
    }

    static let grafanaTestError =
        "Helm test failed for release monitoring/grafana with chart grafana@10.1.0: pod grafana-test failed"

    /// Upgrade succeeded, tests failed, rolled back.
    static func grafanaTestFailed() throws -> FluxObject {
        try object(
            helmRelease(
                name: "grafana",
                namespace: "monitoring",
                conditions: [
                    condition("Ready", "False", "RollbackSucceeded", grafanaRollback),
                    condition(
                        "Released",
                        "True",
                        "UpgradeSucceeded",
                        "Helm upgrade succeeded for release monitoring/grafana.v8 with chart grafana@10.1.0"
                    ),
                    condition("Remediated", "True", "RollbackSucceeded", grafanaRollback),
                    condition("TestSuccess", "False", "TestFailed", grafanaTestError),
                ],
                attempted: "10.1.0"
            )
        )
    }

    static let kustomizeNested =
        "kustomize build failed: accumulating resources: accumulation err='accumulating resources from 'apps': "
        + "read /tmp/kustomization-2331457106/apps: is a directory': recursed accumulation of path "
        + "'/tmp/kustomization-2331457106/apps': accumulating resources: accumulation err='accumulating resources "
        + "from 'base/podinfo': read /tmp/kustomization-2331457106/apps/base/podinfo: is a directory': recursed "
        + "accumulation of path '/tmp/kustomization-2331457106/apps/base/podinfo': accumulating resources: "
        + "accumulation err='accumulating resources from 'hpa.yaml': evalsymlink failure on "
        + "'/tmp/kustomization-2331457106/apps/base/podinfo/hpa.yaml' : lstat "
        + "/tmp/kustomization-2331457106/apps/base/podinfo/hpa.yaml: no such file or directory': must build at "
        + "directory: not a valid directory: evalsymlink failure on "
        + "'/tmp/kustomization-2331457106/apps/base/podinfo/hpa.yaml' : lstat "
        + "/tmp/kustomization-2331457106/apps/base/podinfo/hpa.yaml: no such file or directory"

    static let healthTimeout =
        "timeout waiting for: [Deployment/apps/podinfo status: 'InProgress', Deployment/apps/redis status: 'InProgress']"

    static func kustomization(
        reason: String,
        message: String,
        sourceKind: String = "GitRepository",
        applied: String,
        attempted: String
    ) throws -> FluxObject {
        try object(
            """
            {"apiVersion":"kustomize.toolkit.fluxcd.io/v1","kind":"Kustomization",
             "metadata":{"name":"apps","namespace":"flux-system","generation":3},
             "spec":{"interval":"10m","retryInterval":"2m0s","path":"./apps/production","prune":true,
               "sourceRef":{"kind":"\(sourceKind)","name":"flux-system"}},
             "status":{"observedGeneration":3,"lastAppliedRevision":"\(applied)","lastAttemptedRevision":"\(attempted)",
               "conditions":[\(condition("Ready", "False", reason, message))]}}
            """
        )
    }

    static func gitRepository(
        url: String,
        ready: Bool = true,
        artifact: String = "main@sha1:9b2e61d0c4f1a7e83b5d2c6f9a0e1b4c7d8f2a3e"
    ) throws -> FluxObject {
        let readyCondition =
            ready
            ? condition("Ready", "True", "Succeeded", "stored artifact for revision '\(artifact)'")
            : condition(
                "Ready",
                "False",
                "GitOperationFailed",
                "failed to checkout and determine revision: unable to clone '\(url)': authentication required"
            )
        return try object(
            """
            {"apiVersion":"source.toolkit.fluxcd.io/v1","kind":"GitRepository",
             "metadata":{"name":"flux-system","namespace":"flux-system","generation":1},
             "spec":{"interval":"1m0s","url":"\(url)","ref":{"branch":"main"}},
             "status":{"observedGeneration":1,"conditions":[\(readyCondition)],
               "artifact":{"revision":"\(artifact)","digest":"sha256:2a3b","lastUpdateTime":"2026-11-28T08:40:00Z"}}}
            """
        )
    }

    static let old = "4f6c1b2d9e0a7c3b5d8e1f2a3b4c5d6e7f8a9b0c"
    static let new = "9b2e61d0c4f1a7e83b5d2c6f9a0e1b4c7d8f2a3e"
}

@Suite struct IncidentMessageTests {
    typealias F = MessageFixtures

    @Test func upgradeFailedAndRolledBackLeadsWithTheFailedUpgrade() throws {
        let incident = try #require(Detector().incident(for: try F.grafanaRolledBack(), cluster: "prod", now: F.now))
        #expect(incident.reason == "UpgradeFailed")
        #expect(incident.message == F.grafanaUpgradeError)
        #expect(
            incident.cause
                == #"Deployment.apps "grafana" is invalid: spec.template.spec.containers[0].volumeMounts[3].mountPath: Invalid value: "/etc/grafana/provisioning/datasources": must be unique"#
        )
        #expect(incident.remediation?.summary == "rolled back to v7, chart 10.0.2")
        #expect(incident.remediation?.reason == "RollbackSucceeded")
        #expect(incident.changes?.previousChart == "10.0.2")
        #expect(incident.changes?.failingChart == "10.1.0")
        // The fingerprint keeps Ready's reason: an incident opened before this change keeps its identity.
        #expect(
            incident.fingerprint
                == Fingerprint(
                    cluster: "prod",
                    kind: "HelmRelease",
                    namespace: "monitoring",
                    name: "grafana",
                    reason: "RollbackSucceeded",
                    revision: "10.1.0"
                )
        )
        let text = IncidentTextRenderer().render(incident)
        #expect(text.contains("  cause:       Deployment.apps \"grafana\" is invalid"))
        #expect(text.contains("  remediation: rolled back to v7, chart 10.0.2 (RollbackSucceeded)"))
        #expect(text.contains("  changed:     chart 10.0.2 → 10.1.0"))
        #expect(!text.contains("reason:      RollbackSucceeded"))
    }

    @Test func installFailedAndUninstalledLeadsWithTheFailedInstall() throws {
        let incident = try #require(Detector().incident(for: try F.podinfoUninstalled(), cluster: "prod", now: F.now))
        #expect(incident.reason == "InstallFailed")
        #expect(incident.message == F.podinfoInstallError)
        #expect(
            incident.cause
                == #"Post "https://ingress-nginx-controller-admission.ingress-nginx.svc:443/networking/v1/ingresses?timeout=10s": dial tcp 10.96.12.4:443: connect: connection refused"#
        )
        #expect(incident.remediation?.summary == "uninstalled v1, chart 6.9.2")
        #expect(
            incident.fingerprint
                == Fingerprint(
                    cluster: "prod",
                    kind: "HelmRelease",
                    namespace: "apps",
                    name: "podinfo",
                    reason: "UninstallSucceeded",
                    revision: "6.9.2"
                )
        )
    }

    @Test func testFailedLeadsWithTheTest() throws {
        let incident = try #require(Detector().incident(for: try F.grafanaTestFailed(), cluster: "prod", now: F.now))
        #expect(incident.reason == "TestFailed")
        #expect(incident.message == F.grafanaTestError)
        #expect(incident.cause == "pod grafana-test failed")
        #expect(incident.remediation?.summary == "rolled back to v7, chart 10.0.2")
    }

    @Test func unremediatedFailureKeepsItsOwnConditionAndFingerprint() throws {
        // Ready=False UpgradeFailed (no remediation): nothing moves.
        let object = try F.object(
            F.helmRelease(
                name: "grafana",
                namespace: "monitoring",
                conditions: [
                    F.condition("Ready", "False", "UpgradeFailed", F.grafanaUpgradeError),
                    F.condition("Released", "False", "UpgradeFailed", F.grafanaUpgradeError),
                ],
                attempted: "10.1.0"
            )
        )
        let incident = try #require(Detector().incident(for: object, cluster: "prod", now: F.now))
        #expect(incident.reason == "UpgradeFailed")
        #expect(incident.remediation == nil)
        #expect(
            incident.fingerprint
                == Fingerprint(
                    cluster: "prod",
                    kind: "HelmRelease",
                    namespace: "monitoring",
                    name: "grafana",
                    reason: "UpgradeFailed",
                    revision: "10.1.0"
                )
        )
    }

    @Test func kustomizeNestedBuildErrorNamesTheMissingFileRelativeToTheSource() throws {
        #expect(ErrorCause.innermost(of: F.kustomizeNested) == "apps/base/podinfo/hpa.yaml: no such file or directory")
        let other =
            "kustomize build failed: accumulating resources: accumulation err='accumulating resources from 'ingress': "
            + "'/tmp/kustomization-1183476921/infrastructure/ingress' must resolve to a file': recursed accumulation of "
            + "path '/tmp/kustomization-1183476921/infrastructure/ingress': accumulating resources: accumulation "
            + "err='accumulating resources from 'certificate.yaml': open "
            + "/tmp/kustomization-1183476921/infrastructure/ingress/certificate.yaml: no such file or directory'"
        #expect(
            ErrorCause.innermost(of: other) == "infrastructure/ingress/certificate.yaml: no such file or directory"
        )
    }

    @Test(arguments: [
        (
            "timeout waiting for: [Deployment/apps/podinfo status: 'InProgress', Deployment/apps/redis status: 'InProgress']",
            "timeout waiting for Deployment/apps/podinfo (InProgress), Deployment/apps/redis (InProgress)"
        ),
        (
            "health check failed after 5m0.01s: timeout waiting for: [Deployment/apps/podinfo status: 'InProgress']",
            "timeout waiting for Deployment/apps/podinfo (InProgress)"
        ),
        (
            "Helm upgrade failed for release ingress-nginx/ingress-nginx with chart ingress-nginx@4.13.3: failed early due to stalled resources: [Deployment/ingress-nginx/ingress-nginx-controller status: 'Failed']",
            "stalled resources: Deployment/ingress-nginx/ingress-nginx-controller (Failed)"
        ),
        (
            "failed to checkout and determine revision: unable to clone 'https://github.com/org/repo': authentication required",
            "unable to clone 'https://github.com/org/repo': authentication required"
        ),
        (
            "kustomization path not found: stat /tmp/kustomization-3366/apps/prod: no such file or directory",
            "kustomization path not found: stat apps/prod: no such file or directory"
        ),
    ])
    func innermostCauseOfKnownChains(message: String, cause: String) {
        #expect(ErrorCause.innermost(of: message) == cause)
    }

    @Test func aMessageWithoutAChainHasNoSeparateCause() {
        #expect(ErrorCause.innermost(of: "dependency 'flux-system/infra' is not ready") == nil)
        #expect(ErrorCause.innermost(of: "Source artifact not found, retrying in 30s") == nil)
        #expect(ErrorCause.relativizingTemporaryPaths("at /tmp/kustomization-12 done") == "at . done")
        #expect(ErrorCause.relativizingTemporaryPaths("/tmp/cache/x: gone") == "/tmp/cache/x: gone")
    }

    @Test func healthCheckTimeoutCollapsesRepeatedEvidence() throws {
        let object = try F.kustomization(
            reason: "HealthCheckFailed",
            message: F.healthTimeout,
            applied: "main@sha1:\(F.old)",
            attempted: "main@sha1:\(F.new)"
        )
        var incident = try #require(Detector().incident(for: object, cluster: "prod", now: F.now))
        func date(_ text: String) -> Date { RFC3339.date(from: text)! }
        incident.events = [
            EventRecord(
                type: "Warning",
                reason: "HealthCheckFailed",
                message: "health check failed after 5m0.01s: \(F.healthTimeout)",
                count: 4,
                lastTimestamp: date("2026-11-28T19:55:00Z")
            ),
            EventRecord(
                type: "Warning",
                reason: "HealthCheckFailed",
                message: "(combined from similar events): health check failed after 5m0.2s: \(F.healthTimeout)",
                count: 2,
                lastTimestamp: date("2026-11-28T19:58:00Z")
            ),
            EventRecord(
                type: "Warning",
                reason: "BackOff",
                message: "Back-off restarting failed container podinfo",
                count: 7,
                lastTimestamp: date("2026-11-28T19:57:00Z")
            ),
        ]
        incident.logLines = [
            LogLine(
                timestamp: date("2026-11-28T19:59:00Z"),
                level: "error",
                message: "Reconciliation failed after 5m0s, next try in 2m0s",
                error: "health check failed after 5m0.01s: \(F.healthTimeout)"
            ),
            LogLine(
                timestamp: date("2026-11-28T19:54:00Z"),
                level: "error",
                message: "Reconciliation failed after 5m0s, next try in 2m0s",
                error: F.healthTimeout
            ),
            LogLine(
                timestamp: date("2026-11-28T19:56:00Z"),
                level: "error",
                message: "Back-off restarting failed container podinfo"
            ),
        ]
        let evidence = incident.evidence
        #expect(evidence.messageRepeats == 8)
        #expect(evidence.messageLastSeen == date("2026-11-28T19:59:00Z"))
        #expect(evidence.lines.count == 1)
        #expect(evidence.lines.first?.count == 8)
        #expect(evidence.lines.first?.lastSeen == date("2026-11-28T19:57:00Z"))
        let text = IncidentTextRenderer().render(incident)
        #expect(text.components(separatedBy: "timeout waiting for: [").count == 2)  // the message, once
        #expect(text.contains("  repeated:    the message above, 8× in events and logs, last 2026-11-28T19:59:00Z"))
        #expect(text.contains("  event:       2026-11-28T19:57:00Z Warning BackOff (×8): Back-off restarting"))
    }

    @Test func kustomizationFromGitLinksTheCompareViewAndItsPath() throws {
        let objects = [
            try F.kustomization(
                reason: "BuildFailed",
                message: F.kustomizeNested,
                applied: "main@sha1:\(F.old)",
                attempted: "main@sha1:\(F.new)"
            ),
            try F.gitRepository(url: "ssh://git@github.com/acme/fleet.git"),
        ]
        let incident = try #require(Detector().assess(objects, cluster: "prod", now: F.now).incidents.first)
        let changes = try #require(incident.changes)
        #expect(changes.compareURL == "https://github.com/acme/fleet/compare/\(F.old)...\(F.new)")
        #expect(changes.pathURL == "https://github.com/acme/fleet/tree/\(F.new)/apps/production")
        #expect(
            changes.lines(date: RFC3339.string(from:), link: { "[\($0)](\($1))" })
                == [
                    "[main@sha1:4f6c1b2 → main@sha1:9b2e61d](https://github.com/acme/fleet/compare/\(F.old)...\(F.new))"
                ]
        )
        let text = IncidentTextRenderer().render(incident)
        #expect(
            text.contains(
                "  changed:     main@sha1:4f6c1b2 → main@sha1:9b2e61d  https://github.com/acme/fleet/compare/"
            )
        )
    }

    @Test func helmReleaseWithAChartFromGitLinksTheChartCommits() throws {
        let release = try F.object(
            """
            {"apiVersion":"helm.toolkit.fluxcd.io/v2","kind":"HelmRelease",
             "metadata":{"name":"backend","namespace":"apps","generation":2},
             "spec":{"interval":"10m","chart":{"spec":{"chart":"./charts/backend","reconcileStrategy":"Revision",
               "sourceRef":{"kind":"GitRepository","name":"flux-system","namespace":"flux-system"}}}},
             "status":{"observedGeneration":2,"lastAttemptedRevision":"1.4.0+9b2e61d0c4f1",
               "conditions":[\(F.condition("Ready", "False", "UpgradeFailed", "Helm upgrade failed for release apps/backend with chart backend@1.4.0+9b2e61d0c4f1: context deadline exceeded"))],
               "history":[{"version":3,"status":"failed","chartName":"backend","chartVersion":"1.4.0+9b2e61d0c4f1"},
                          {"version":2,"status":"superseded","chartName":"backend","chartVersion":"1.4.0+4f6c1b2d9e0a"}]}}
            """
        )
        let objects = [release, try F.gitRepository(url: "https://gitea.acme.corp/platform/fleet.git")]
        let hosts = try GitHosts(parsing: "gitea.acme.corp=gitea")
        let incident = try #require(
            Detector(gitHosts: hosts).assess(objects, cluster: "prod", now: F.now).incidents.first
        )
        let changes = try #require(incident.changes)
        #expect(changes.compareURL == "https://gitea.acme.corp/platform/fleet/compare/4f6c1b2d9e0a...9b2e61d0c4f1")
        #expect(changes.pathURL == "https://gitea.acme.corp/platform/fleet/src/commit/9b2e61d0c4f1/charts/backend")
        #expect(
            changes.lines(date: RFC3339.string(from:), link: { "[\($0)](\($1))" })
                == [
                    "[chart 1.4.0+4f6c1b2d9e0a → 1.4.0+9b2e61d0c4f1](https://gitea.acme.corp/platform/fleet/compare/4f6c1b2d9e0a...9b2e61d0c4f1)"
                ]
        )
    }

    @Test func ociSourceShowsTheDigestChange() throws {
        let object = try F.kustomization(
            reason: "ReconciliationFailed",
            message: "Deployment/apps/podinfo dry-run failed",
            sourceKind: "OCIRepository",
            applied: "latest@sha256:3b6cdcc7a1f0e2d4c5b6a7980f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6",
            attempted: "latest@sha256:7e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7"
        )
        let incident = try #require(Detector().incident(for: object, cluster: "prod", now: F.now))
        #expect(
            incident.changes?.lines(date: RFC3339.string(from:), link: { "\($0) \($1)" })
                == ["latest@sha256:3b6cdcc → latest@sha256:7e1f2a3"]
        )
    }

    @Test func aFailingSourceSaysWhatItStillServes() throws {
        let source = try F.gitRepository(url: "https://gitlab.com/acme/fleet", ready: false)
        let incident = try #require(Detector().incident(for: source, cluster: "prod", now: F.now))
        let lines = incident.changes?.lines(date: RFC3339.string(from:), link: { "\($0) <\($1)>" })
        #expect(
            lines == [
                "still serving main@sha1:9b2e61d <https://gitlab.com/acme/fleet/-/commit/\(F.new)> from 2026-11-28T08:40:00Z; nothing newer deploys until this is fixed"
            ]
        )
    }

    @Test(arguments: [
        ("https://github.com/acme/fleet", "https://github.com/acme/fleet/compare/OLD...NEW"),
        ("ssh://git@github.com/acme/fleet.git", "https://github.com/acme/fleet/compare/OLD...NEW"),
        ("git@github.com:acme/fleet.git", "https://github.com/acme/fleet/compare/OLD...NEW"),
        ("https://gitlab.com/acme/platform/fleet.git", "https://gitlab.com/acme/platform/fleet/-/compare/OLD...NEW"),
        (
            "ssh://git@gitlab.com:22/acme/platform/fleet.git",
            "https://gitlab.com/acme/platform/fleet/-/compare/OLD...NEW"
        ),
        ("git@gitlab.com:acme/platform/fleet.git", "https://gitlab.com/acme/platform/fleet/-/compare/OLD...NEW"),
        ("https://bitbucket.org/acme/fleet.git", "https://bitbucket.org/acme/fleet/branches/compare/NEW%0DOLD#diff"),
        ("ssh://git@bitbucket.org/acme/fleet.git", "https://bitbucket.org/acme/fleet/branches/compare/NEW%0DOLD#diff"),
        ("git@bitbucket.org:acme/fleet.git", "https://bitbucket.org/acme/fleet/branches/compare/NEW%0DOLD#diff"),
        ("https://codeberg.org/acme/fleet", "https://codeberg.org/acme/fleet/compare/OLD...NEW"),
        ("ssh://git@code.acme.corp:2222/acme/fleet.git", "https://code.acme.corp/acme/fleet/compare/OLD...NEW"),
        ("git@code.acme.corp:acme/fleet.git", "https://code.acme.corp/acme/fleet/compare/OLD...NEW"),
        ("https://user@git.acme.corp/acme/fleet.git", "https://git.acme.corp/acme/fleet/-/compare/OLD...NEW"),
    ])
    func compareLinksForEveryHostAndSpelling(url: String, compare: String) throws {
        let hosts = try GitHosts(parsing: "git.acme.corp=gitlab, code.acme.corp=forgejo")
        let web = try #require(GitRepositoryWeb(cloneURL: url, hosts: hosts))
        #expect(web.compareURL(from: "OLD", to: "NEW") == compare)
    }

    @Test func unknownHostsAndBadHostListsAreNotGuessed() {
        #expect(GitRepositoryWeb(cloneURL: "https://git.example.net/acme/fleet", hosts: .builtIn) == nil)
        #expect(GitRepositoryWeb(cloneURL: "oci://ghcr.io/acme/manifests", hosts: .builtIn) == nil)
        #expect(throws: CoreError.self) { try GitHosts(parsing: "git.acme.corp") }
        #expect(throws: CoreError.self) { try GitHosts(parsing: "git.acme.corp=svn") }
        #expect(throws: CoreError.self) { try GitHosts(parsing: "https://git.acme.corp=gitlab") }
    }
}
