import FluxbrainCore
import FluxbrainIntegrations
import FluxbrainService
import FluxbrainTestSupport
import FluxbrainTestbed
import Foundation
import Logging
import Testing

/// The scheduler's view of live clusters when part of a cluster cannot be read.
@Suite struct KubernetesSourceTests {
    static func object(kind: FluxKind, name: String, ready: String, reason: String, sourceRef: String = "") -> String {
        """
        {"apiVersion":"\(kind.apiVersion)","kind":"\(kind.name)","metadata":{"name":"\(name)","namespace":"flux-system",\
        "generation":1,"resourceVersion":"1"},"spec":{"interval":"10m"\(sourceRef)},"status":{"observedGeneration":1,\
        "conditions":[{"type":"Ready","status":"\(ready)","reason":"\(reason)","message":"\(reason)",\
        "lastTransitionTime":"2026-11-28T19:00:00Z","observedGeneration":1}]}}
        """
    }

    @Test func aForbiddenKindLeavesOutOnlyItsObjects() async throws {
        let state = FakeKubernetesState()
        let sourceRef = #","sourceRef":{"kind":"GitRepository","name":"flux-system"}"#
        try await state.apply(
            json: Self.object(
                kind: .kustomization,
                name: "apps",
                ready: "False",
                reason: "BuildFailed",
                sourceRef: sourceRef
            )
        )
        try await state.apply(
            json: Self.object(kind: .kustomization, name: "infra", ready: "True", reason: "ReconciliationSucceeded")
        )
        try await state.apply(
            json: Self.object(kind: .gitRepository, name: "flux-system", ready: "False", reason: "GitOperationFailed")
        )
        await state.setForbidden(.gitRepository)
        try await Self.withSource(state: state) { source in
            let seen = try await source.assess(now: Date())
            #expect(seen.unread.count == 1)
            #expect(seen.unread.first?.hasPrefix("cluster prod: gitrepositories: ") == true)
            let assessments = seen.clusters
            #expect(assessments.map(\.cluster) == ["prod"])
            let assessment = try #require(assessments.first).assessment
            // The Kustomization is judged on its own; the GitRepository (forbidden) is neither failing nor healthy.
            #expect(assessment.incidents.map(\.object.description) == ["Kustomization/flux-system/apps"])
            #expect(assessment.healthy.map(\.description) == ["Kustomization/flux-system/infra"])
            #expect(!assessment.undecided.contains { $0.kind == .gitRepository })
            let readiness = await source.readiness()
            #expect(readiness.first?.detail.contains("gitrepositories") == true)
        }
    }

    @Test func aClusterThatCannotBeReadAtAllIsLeftOut() async throws {
        let state = FakeKubernetesState()
        await state.requireToken("never-sent")
        try await Self.withSource(state: state) { source async throws in
            let seen = try await source.assess(now: Date())
            #expect(seen.clusters.isEmpty)
            #expect(seen.unread.count == FluxKind.all.count)
        }
    }

    @Test func theEnvironmentsProxyCarriesKubernetesRequests() async throws {
        let state = FakeKubernetesState()
        try await state.apply(
            json: Self.object(kind: .kustomization, name: "apps", ready: "False", reason: "BuildFailed")
        )
        // The proxy sends every tunnel to 127.0.0.1: a server name that does not resolve proves the proxy was used.
        try await ConnectProxy.with(connectTo: "127.0.0.1") { proxy in
            let proxyEnvironment = ["HTTP_PROXY": "http://127.0.0.1:\(proxy.port)"]
            try await Self.withSource(state: state, host: "kube.fluxbrain.test", environment: proxyEnvironment) {
                source in
                let seen = try await source.assess(now: Date())
                #expect(seen.unread.isEmpty)
                #expect(seen.clusters.first?.assessment.incidents.map(\.object.name) == ["apps"])
            }
            #expect(
                try proxy.requests().allSatisfy {
                    $0.method == "CONNECT" && $0.target.hasPrefix("kube.fluxbrain.test:")
                }
            )
            #expect(try !proxy.requests().isEmpty)
        }
    }

    /// Runs `body` with a `once`-style source (lists, no watches) for one cluster `prod` on a fake API server,
    /// addressed as `host` (plain HTTP), with more variables in `environment`.
    static func withSource(
        state: FakeKubernetesState,
        host: String = "127.0.0.1",
        environment: [String: String] = [:],
        _ body: (KubernetesSource) async throws -> Void
    ) async throws {
        try await withFakeKubernetesServer(state: state) { _, url in
            let server = "http://\(host):\(url.port!)"
            let configuration = try FluxbrainConfiguration(
                environment: EnvironmentReader(
                    environment.merging(["FLUXBRAIN_KUBE_API_URL": server, "FLUXBRAIN_CLUSTER": "prod"]) { $1 }
                )
            )
            let clients = HTTPClients.kubernetes()
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            do {
                try await body(
                    try KubernetesSource.make(
                        configuration: configuration,
                        httpClients: clients,
                        detector: Detector(),
                        mode: .list,
                        logger: logger
                    )
                )
                await clients.shutdown()
            } catch {
                await clients.shutdown()
                throw error
            }
        }
    }
}

/// `fluxbrain once` as a CronJob runs it, against a fake API server that forbids one kind.
@Suite struct OnceUnreadableTests {
    @Test func onceReportsWhatItCanAndFailsNamingWhatItCouldNotRead() async throws {
        let state = FakeKubernetesState()
        try await state.apply(
            json: KubernetesSourceTests.object(
                kind: .kustomization,
                name: "apps",
                ready: "False",
                reason: "BuildFailed"
            )
        )
        await state.setForbidden(.helmRelease)
        try await withFakeKubernetesServer(state: state) { _, url in
            let result = try await FluxbrainProcess.run(
                ["once"],
                environment: ["FLUXBRAIN_KUBE_API_URL": url.absoluteString, "FLUXBRAIN_CLUSTER": "prod"]
            )
            #expect(result.status == 1)
            #expect(result.stdout.contains("FAILING  Kustomization flux-system/apps  (cluster prod)"))
            #expect(result.stderr.contains("could not read everything"))
            #expect(result.stderr.contains("cluster prod: helmreleases: "))
        }
    }
}
