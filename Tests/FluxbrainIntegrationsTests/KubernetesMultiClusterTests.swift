import AsyncHTTPClient
import FluxbrainCore
import FluxbrainIntegrations
import FluxbrainTestSupport
import FluxbrainTestbed
import Foundation
import Testing

@Suite struct KubernetesMultiClusterTests {
    /// A loopback URL nobody listens on.
    static func deadURL() throws -> URL {
        // Port 1 on loopback is closed on any test machine (binding it needs root and nothing does).
        URL(string: "http://127.0.0.1:1")!
    }

    @Test func oneClusterDownNeverStopsTheOthers() async throws {
        let prod = FakeKubernetesState()
        let staging = FakeKubernetesState()
        try await prod.apply(
            json: KubeTest.object(
                .kustomization,
                name: "apps",
                ready: "False",
                reason: "BuildFailed",
                message: "kustomize build failed"
            )
        )
        try await staging.apply(
            json: KubeTest.object(.helmRelease, name: "podinfo", ready: "False", reason: "UpgradeFailed")
        )
        let directory = try TestKubeconfig.makeDirectory()
        let tokenFile = directory + "/token"
        try "t0ken".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        await prod.requireToken("t0ken")
        try await withFakeKubernetesServer(state: prod, tls: true) { _, prodURL in
            try await withFakeKubernetesServer(state: staging) { _, stagingURL in
                try await KubeTest.withHTTPClients { httpClients in
                    // A central installation: FLUXBRAIN_CLUSTERS="prod=prod-ctx,staging=staging-ctx,edge=edge-ctx".
                    let path = try TestKubeconfig.write(
                        [
                            .init(
                                name: "prod-ctx",
                                server: prodURL,
                                caPEM: await TestCertificates.shared.caPEM,
                                user: .tokenFile(tokenFile)
                            ),
                            .init(name: "staging-ctx", server: stagingURL),
                            .init(name: "edge-ctx", server: try Self.deadURL()),
                        ],
                        in: directory
                    )
                    let named = try KubernetesClusters.resolve(
                        cluster: nil,
                        clusters: [
                            (name: "prod", context: "prod-ctx"), (name: "staging", context: "staging-ctx"),
                            (name: "edge", context: "edge-ctx"),
                        ],
                        kubeAPIURL: nil,
                        environment: ["KUBECONFIG": path],
                        homeDirectory: directory
                    )
                    #expect(named.map(\.name) == ["prod", "staging", "edge"])
                    var options = KubernetesCollectorTests.options(kinds: [.kustomization, .helmRelease])
                    options.backoff = Backoff(
                        base: .milliseconds(50),
                        maximum: .milliseconds(200),
                        growth: .exponential(factor: 2),
                        jitter: .adding(upTo: 1)
                    )
                    let multi = try MultiClusterCollector.make(
                        clusters: named,
                        httpClients: httpClients,
                        options: options,
                        logger: KubeTest.logger
                    )
                    #expect(multi.clients.keys.sorted() == ["edge", "prod", "staging"])

                    let collections = await multi.collectOnce()
                    #expect(collections.map(\.cluster) == ["prod", "staging", "edge"])
                    #expect(collections.map(\.isUnreachable) == [false, false, true])
                    #expect(collections[2].failures.allSatisfy { $0.error.code == .transport })
                    let detector = Detector()
                    let incidents = collections.flatMap {
                        detector.assess($0.objects, cluster: $0.cluster, now: Date()).incidents
                    }
                    #expect(
                        incidents.map(\.object.description) == [
                            "Kustomization/flux-system/apps", "HelmRelease/flux-system/podinfo",
                        ]
                    )
                    #expect(incidents.map(\.object.cluster) == ["prod", "staging"])

                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask { await multi.run() }
                        #expect(
                            try await eventually {
                                let health = await multi.health()
                                return health["prod"] == .healthy && health["staging"] == .healthy
                            }
                        )
                        let health = await multi.health()
                        guard case .failing(let message) = health["edge"] ?? .connecting else {
                            Issue.record("edge should be failing, is \(String(describing: health["edge"]))")
                            group.cancelAll()
                            return
                        }
                        #expect(message.contains("cannot reach http://127.0.0.1:1"))
                        // Changes still flow from the healthy clusters.
                        try await staging.apply(json: KubeTest.object(.helmRelease, name: "podinfo"))
                        var changes = multi.changes.makeAsyncIterator()
                        var seen: [ObjectReference] = []
                        while let reference = await changes.next() {
                            seen.append(reference)
                            if reference.cluster == "staging",
                                await multi.collector("staging")?.object(reference)?.condition("Ready")?.status
                                    == "True"
                            {
                                break
                            }
                        }
                        #expect(seen.contains { $0.cluster == "staging" && $0.name == "podinfo" })
                        group.cancelAll()
                    }
                }
            }
        }
    }

    @Test func resolvesClusterSettings() throws {
        let directory = try TestKubeconfig.makeDirectory()
        let path = try TestKubeconfig.write(
            [
                .init(name: "ctx-a", server: URL(string: "https://a.example:6443")!),
                .init(name: "ctx-b", server: URL(string: "https://b.example")!),
            ],
            currentContext: "ctx-b",
            in: directory
        )
        let url = try KubernetesClusters.resolve(
            cluster: "lab",
            clusters: [],
            kubeAPIURL: URL(string: "http://127.0.0.1:8081")!,
            environment: [:],
            homeDirectory: directory
        )
        #expect(url.map(\.name) == ["lab"])
        #expect(url.first?.connection.server.absoluteString == "http://127.0.0.1:8081")
        let current = try KubernetesClusters.resolve(
            cluster: nil,
            clusters: [],
            kubeAPIURL: nil,
            environment: ["KUBECONFIG": path],
            homeDirectory: directory
        )
        #expect(current.map(\.name) == ["ctx-b"])
        #expect(current.first?.connection.server.host == "b.example")
        let named = try KubernetesClusters.resolve(
            cluster: "prod",
            clusters: [],
            kubeAPIURL: nil,
            environment: ["KUBECONFIG": path],
            homeDirectory: directory
        )
        #expect(named.map(\.name) == ["prod"])
        #expect(throws: KubernetesError.self) {
            _ = try KubernetesClusters.resolve(
                cluster: nil,
                clusters: [],
                kubeAPIURL: nil,
                environment: ["KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"],
                homeDirectory: directory
            )
        }
    }
}

/// Many clusters behind one proxy host (Rancher's `/k8s/clusters/<id>`): they share scheme, host and port, so a
/// connection budget per host would starve them.
@Suite struct KubernetesSharedHostTests {
    @Test func thirtyClustersBehindOneHostAreAllListedWatchedAndReported() async throws {
        let ids = (1...30).map { String(format: "c-%02d", $0) }
        var built: [String: FakeKubernetesState] = [:]
        for id in ids {
            let state = FakeKubernetesState()
            try await state.apply(
                json: KubeTest.object(.kustomization, name: "apps-\(id)", ready: "False", reason: "BuildFailed")
            )
            built[id] = state
        }
        let states = built
        try await withFakeKubernetesServers(clusters: states) { urls in
            try await KubeTest.withHTTPClients { httpClients in
                let directory = try TestKubeconfig.makeDirectory()
                let path = try TestKubeconfig.write(
                    ids.map { .init(name: "ctx-\($0)", server: urls[$0]!) },
                    in: directory
                )
                let named = try KubernetesClusters.resolve(
                    cluster: nil,
                    clusters: ids.map { (name: $0, context: "ctx-\($0)") },
                    kubeAPIURL: nil,
                    environment: ["KUBECONFIG": path],
                    homeDirectory: directory
                )
                #expect(named.allSatisfy { $0.connection.server.path.hasPrefix("/k8s/clusters/c-") })
                // Every kind (ten long-lived watches per cluster, 300 on one host:port), production backoff.
                var options = CollectorOptions()
                options.watchTimeoutSeconds = 300...300
                let multi = try MultiClusterCollector.make(
                    clusters: named,
                    httpClients: httpClients,
                    options: options,
                    logger: KubeTest.logger
                )

                // Listed: one pass over all thirty, every cluster read completely.
                let collections = await multi.collectOnce()
                for collection in collections {
                    #expect(collection.failures.map(\.error.description) == [], "\(collection.cluster)")
                    #expect(collection.objects.map(\.metadata.name) == ["apps-\(collection.cluster)"])
                }

                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { await multi.run() }
                    // Watched: every cluster healthy (every kind listed and its watch open). The timeout only
                    // guards against a hang.
                    let healthy = try await eventually(timeout: .seconds(120)) {
                        await multi.health().values.allSatisfy(\.isHealthy)
                    }
                    let unhealthy = await multi.health().filter { !$0.value.isHealthy }
                    #expect(healthy, "\(unhealthy)")
                    // Reported: a new object of every kind in every cluster arrives through its watch (300 watches).
                    var pending: Set<String> = []
                    for id in ids {
                        for kind in FluxKind.all {
                            try await states[id]!.apply(json: KubeTest.object(kind, name: "new-\(kind.plural)"))
                            pending.insert("\(id)/\(kind.plural)")
                        }
                    }
                    // The timeout only guards against a hang.
                    let missed = await withTaskGroup(of: Set<String>?.self) { group in
                        group.addTask { [pending] in
                            var pending = pending
                            for await reference in multi.changes where reference.name.hasPrefix("new-") {
                                pending.remove("\(reference.cluster)/\(reference.kind.plural)")
                                if pending.isEmpty { break }
                            }
                            return pending
                        }
                        group.addTask {
                            try? await Task.sleep(for: .seconds(120))
                            return nil
                        }
                        let first = await group.next() ?? nil
                        group.cancelAll()
                        return first
                    }
                    #expect(
                        missed == [],
                        "no change seen from \(missed?.count ?? -1) watches, e.g. \(missed?.sorted().prefix(5) ?? [])"
                    )
                    group.cancelAll()
                }
            }
        }
    }

    @Test func aRequestWaitingOnTheLocalPoolSaysSoNotCannotReach() async throws {
        let state = FakeKubernetesState()
        try await withFakeKubernetesServer(state: state) { _, url in
            var configuration = KubernetesClient.httpConfiguration
            configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 1
            // Also how long the list waits for the pool: long enough that the watch's own loopback connect cannot
            // time out on a loaded machine (300 ms once did), short enough for a unit test.
            configuration.timeout.connect = .seconds(1)
            let http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
            let client = try KubernetesClient(
                cluster: "one",
                config: .url(url),
                httpClient: http,
                logger: KubeTest.logger
            )
            let error = await withTaskGroup(of: KubernetesError?.self) { group in
                // The watch holds the pool's only connection.
                group.addTask {
                    try? await client.watch(.kustomization, namespace: nil, resourceVersion: "", timeoutSeconds: 60) {
                        _ in
                    }
                    return nil
                }
                group.addTask {
                    _ = try? await eventually { await state.requests.contains { $0.query["watch"] == "1" } }
                    do {
                        _ = try await client.list(.gitRepository, namespace: nil)
                        return nil
                    } catch {
                        return error as? KubernetesError
                    }
                }
                let first = await group.next() ?? nil
                group.cancelAll()
                return first
            }
            try? await http.shutdown()
            let failure = try #require(error)
            #expect(failure.code == .localLimit)
            #expect(
                failure.description.contains(
                    "every connection of this cluster's local pool is busy (a local limit, not a network failure)"
                )
            )
            #expect(!failure.description.contains("cannot reach"))
        }
    }
}
