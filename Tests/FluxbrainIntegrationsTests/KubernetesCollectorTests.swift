import FluxbrainCore
import FluxbrainIntegrations
import FluxbrainTestSupport
import FluxbrainTestbed
import Foundation
import Testing

/// The informer loops against the fake API server.
@Suite struct KubernetesCollectorTests {
    static func options(
        kinds: [FluxKind] = [.kustomization, .gitRepository],
        namespaces: [String] = []
    ) -> CollectorOptions {
        var options = CollectorOptions()
        options.kinds = kinds
        options.namespaces = namespaces
        options.pageSize = 2
        options.backoff = Backoff(
            base: .milliseconds(20),
            maximum: .milliseconds(100),
            growth: .exponential(factor: 2),
            jitter: .adding(upTo: 1)
        )
        options.crdRecheckInterval = .milliseconds(100)
        options.watchTimeoutSeconds = 30...30
        return options
    }

    /// Runs `collector` while `body` runs.
    static func running<T: Sendable>(_ collector: ClusterCollector, _ body: () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await collector.run() }
            let result = try await body()
            group.cancelAll()
            return result
        }
    }

    @Test func listsThenFollowsWatchesThroughExpiryAndDeletes() async throws {
        let state = FakeKubernetesState()
        for index in 0..<5 {
            try await state.apply(json: KubeTest.object(.kustomization, name: "ks-\(index)"))
        }
        try await state.apply(json: KubeTest.object(.gitRepository, name: "fleet"))
        try await withFakeKubernetesServer(state: state) { _, url in
            try await KubeTest.withHTTPClient { http in
                let client = try KubernetesClient(
                    cluster: "c1",
                    config: .url(url),
                    httpClient: http,
                    logger: KubeTest.logger
                )
                let collector = ClusterCollector(client: client, options: Self.options(), logger: KubeTest.logger)
                try await Self.running(collector) { () async throws in
                    #expect(try await eventually { await collector.health == .healthy })
                    #expect(await collector.count == 6)
                    #expect(try await eventually { await state.watchCount == 2 })

                    // A watched change lands in the cache.
                    try await state.apply(
                        json: KubeTest.object(.kustomization, name: "ks-1", ready: "False", reason: "BuildFailed")
                    )
                    let ks1 = ObjectReference(
                        cluster: "c1",
                        kind: .kustomization,
                        namespace: "flux-system",
                        name: "ks-1"
                    )
                    #expect(try await eventually { await collector.object(ks1)?.condition("Ready")?.status == "False" })

                    // Changes the watch never sees, then history compacted and the stream ends: the re-watch gets
                    // 410 inside a 200, the loop lists again and catches up (ks-new added, ks-0 gone).
                    await state.setWatchDelivery(false)
                    try await state.apply(json: KubeTest.object(.kustomization, name: "ks-new"))
                    await state.delete(.kustomization, namespace: "flux-system", name: "ks-0")
                    await state.expireResourceVersions()
                    await state.closeWatches()
                    await state.setWatchDelivery(true)
                    #expect(
                        try await eventually {
                            let names = Set(await collector.snapshot().map(\.metadata.name))
                            return names == ["ks-1", "ks-2", "ks-3", "ks-4", "ks-new", "fleet"]
                        }
                    )
                    let names = await collector.snapshot().map(\.metadata.name)
                    let requests = await state.requests.map { "\($0.path) \($0.query)" }
                    #expect(Set(names) == ["ks-1", "ks-2", "ks-3", "ks-4", "ks-new", "fleet"], "\(requests)")
                    #expect(await collector.health == .healthy)
                    let relists = await state.requests.filter {
                        $0.path.hasSuffix("/kustomizations") && $0.query["watch"] == nil && $0.query["continue"] == nil
                    }
                    #expect(relists.count >= 2)
                }
            }
        }
    }

    @Test func announcesChangedObjects() async throws {
        let state = FakeKubernetesState()
        try await state.apply(json: KubeTest.object(.gitRepository, name: "fleet"))
        try await withFakeKubernetesServer(state: state) { _, url in
            try await KubeTest.withHTTPClient { http in
                let client = try KubernetesClient(
                    cluster: "c1",
                    config: .url(url),
                    httpClient: http,
                    logger: KubeTest.logger
                )
                let collector = ClusterCollector(
                    client: client,
                    options: Self.options(kinds: [.gitRepository]),
                    logger: KubeTest.logger
                )
                let fleet = ObjectReference(
                    cluster: "c1",
                    kind: .gitRepository,
                    namespace: "flux-system",
                    name: "fleet"
                )
                try await Self.running(collector) { () async throws in
                    var changes = collector.changes.makeAsyncIterator()
                    let listed = await changes.next()
                    #expect(listed == fleet)  // from the initial list
                    #expect(try await eventually { await state.watchCount == 1 })
                    try await state.apply(
                        json: KubeTest.object(
                            .gitRepository,
                            name: "fleet",
                            ready: "False",
                            reason: "GitOperationFailed"
                        )
                    )
                    let modified = await changes.next()
                    #expect(modified == fleet)
                    await state.delete(.gitRepository, namespace: "flux-system", name: "fleet")
                    let deleted = await changes.next()
                    #expect(deleted == fleet)
                    #expect(await collector.object(fleet) == nil)
                }
            }
        }
    }

    @Test func missingCRDIsSkippedAndPickedUpOnceInstalled() async throws {
        let state = FakeKubernetesState()
        await state.setMissing(.imagePolicy)
        try await state.apply(json: KubeTest.object(.gitRepository, name: "fleet"))
        try await state.apply(json: KubeTest.object(.imagePolicy, name: "podinfo"))
        try await withFakeKubernetesServer(state: state) { _, url in
            try await KubeTest.withHTTPClient { http in
                let client = try KubernetesClient(
                    cluster: "c1",
                    config: .url(url),
                    httpClient: http,
                    logger: KubeTest.logger
                )
                let collector = ClusterCollector(
                    client: client,
                    options: Self.options(kinds: [.gitRepository, .imagePolicy]),
                    logger: KubeTest.logger
                )
                try await Self.running(collector) { () async throws in
                    #expect(try await eventually { await collector.health == .healthy })
                    #expect(await collector.missingKinds == [.imagePolicy])
                    #expect(await collector.snapshot().map(\.kind) == ["GitRepository"])
                    await state.setMissing(.imagePolicy, false)
                    #expect(try await eventually { await collector.count == 2 })
                    #expect(await collector.missingKinds.isEmpty)
                }
            }
        }
    }

    @Test func namespacesLimitTheScope() async throws {
        let state = FakeKubernetesState()
        try await state.apply(json: KubeTest.object(.kustomization, namespace: "team-a", name: "a"))
        try await state.apply(json: KubeTest.object(.kustomization, namespace: "team-b", name: "b"))
        try await state.apply(json: KubeTest.object(.kustomization, namespace: "team-c", name: "c"))
        try await withFakeKubernetesServer(state: state) { _, url in
            try await KubeTest.withHTTPClient { http in
                let client = try KubernetesClient(
                    cluster: "c1",
                    config: .url(url),
                    httpClient: http,
                    logger: KubeTest.logger
                )
                let collector = ClusterCollector(
                    client: client,
                    options: Self.options(kinds: [.kustomization], namespaces: ["team-a", "team-b"]),
                    logger: KubeTest.logger
                )
                let once = await collector.collectOnce()
                #expect(once.objects.map(\.metadata.name) == ["a", "b"])
                let paths = Set(await state.requests.map(\.path))
                #expect(
                    paths == [
                        "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/team-a/kustomizations",
                        "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/team-b/kustomizations",
                    ]
                )
                try await Self.running(collector) { () async throws in
                    #expect(try await eventually { await state.watchCount == 2 })
                    try await state.apply(json: KubeTest.object(.kustomization, namespace: "team-c", name: "c2"))
                    try await state.apply(json: KubeTest.object(.kustomization, namespace: "team-b", name: "b2"))
                    #expect(try await eventually { await collector.count == 3 })
                    #expect(await collector.snapshot().map(\.metadata.name) == ["a", "b", "b2"])
                }
            }
        }
    }

    @Test func forbiddenKindMakesTheClusterFailingWithTheRBACHint() async throws {
        let state = FakeKubernetesState()
        await state.setForbidden(.gitRepository)
        try await withFakeKubernetesServer(state: state) { _, url in
            try await KubeTest.withHTTPClient { http in
                let client = try KubernetesClient(
                    cluster: "c1",
                    config: .url(url),
                    httpClient: http,
                    logger: KubeTest.logger
                )
                let collector = ClusterCollector(client: client, options: Self.options(), logger: KubeTest.logger)
                let once = await collector.collectOnce()
                #expect(once.failures.map(\.kind) == [.gitRepository])
                #expect(once.failures.first?.error.code == .forbidden)
                guard case .failing(let message) = await collector.health else {
                    Issue.record("expected failing")
                    return
                }
                #expect(message.contains("grant the ClusterRole \"list\" on \"gitrepositories\""))
                // The other kinds can still be judged; the forbidden one is left out.
                let assessable = try #require(await collector.assessableSnapshot())
                #expect(assessable.leftOut.map(\.part) == ["gitrepositories"])
                #expect(assessable.leftOut.first.map { "\($0.part): \($0.reason)" } == message)
                #expect(assessable.isReadable)
                #expect(assessable.objects.allSatisfy { $0.kind == FluxKind.kustomization.name })
            }
        }
    }

    @Test func assessableSnapshotWaitsForEveryKindAndLeavesOutFailingOnes() async throws {
        let state = FakeKubernetesState()
        try await state.apply(json: KubeTest.object(.kustomization, name: "apps"))
        try await state.apply(json: KubeTest.object(.gitRepository, name: "flux-system"))
        try await withFakeKubernetesServer(state: state) { _, url in
            try await KubeTest.withHTTPClient { http in
                let client = try KubernetesClient(
                    cluster: "c1",
                    config: .url(url),
                    httpClient: http,
                    logger: KubeTest.logger
                )
                let collector = ClusterCollector(client: client, options: Self.options(), logger: KubeTest.logger)
                #expect(await collector.assessableSnapshot() == nil)
                try await Self.running(collector) { () async throws in
                    #expect(try await eventually { await collector.health == .healthy })
                    #expect(await collector.assessableSnapshot()?.objects.count == 2)
                    // Losing the right to watch one kind drops its (now possibly stale) objects from what is judged.
                    await state.setForbidden(.gitRepository)
                    await state.closeWatches()
                    #expect(
                        try await eventually {
                            await collector.assessableSnapshot()?.leftOut.map(\.part) == ["gitrepositories"]
                        }
                    )
                    #expect(await collector.assessableSnapshot()?.objects.map(\.metadata.name) == ["apps"])
                    #expect(await collector.count == 2)
                }
            }
        }
    }
}
