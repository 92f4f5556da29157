import FluxbrainCore
import FluxbrainIntegrations
import FluxbrainTestSupport
import FluxbrainTestbed
import Foundation
import Testing

/// The client against the fake API server over real HTTP(S) on loopback.
@Suite struct KubernetesClientTests {
    @Test func listsPageByPageWithContinueTokens() async throws {
        let state = FakeKubernetesState()
        for index in 0..<7 {
            try await state.apply(json: KubeTest.object(.kustomization, name: "app-\(index)"))
        }
        try await withFakeKubernetesServer(state: state) { _, url in
            try await KubeTest.withHTTPClient { http in
                let client = try KubernetesClient(
                    cluster: "test",
                    config: .url(url),
                    httpClient: http,
                    logger: KubeTest.logger
                )
                let result = try await client.list(.kustomization, namespace: nil, pageSize: 3)
                #expect(result.objects.map(\.metadata.name) == (0..<7).map { "app-\($0)" })
                #expect(result.malformed.isEmpty)
                #expect(!result.resourceVersion.isEmpty)
                let requests = await state.requests.filter {
                    $0.path == "/apis/kustomize.toolkit.fluxcd.io/v1/kustomizations"
                }
                #expect(requests.count == 3)
                #expect(requests.allSatisfy { $0.query["limit"] == "3" })
                #expect(requests[0].query["continue"] == nil)
                #expect(requests[1].query["continue"] != nil && requests[2].query["continue"] != nil)
            }
        }
    }

    @Test func skipsAndCountsOneMalformedObject() async throws {
        let state = FakeKubernetesState()
        try await state.apply(json: KubeTest.object(.helmRelease, name: "good"))
        try await state.apply(json: KubeTest.object(.helmRelease, name: "bad", extraSpec: #""suspend":"sometimes""#))
        try await state.apply(
            json: KubeTest.object(.helmRelease, name: "also-good", extraStatus: #""brandNewField":{"a":1}"#)
        )
        try await withFakeKubernetesServer(state: state) { _, url in
            try await KubeTest.withHTTPClient { http in
                let client = try KubernetesClient(
                    cluster: "test",
                    config: .url(url),
                    httpClient: http,
                    logger: KubeTest.logger
                )
                let result = try await client.list(.helmRelease, namespace: nil)
                #expect(result.objects.map(\.metadata.name) == ["also-good", "good"])
                #expect(result.malformed.count == 1)
                #expect(result.malformed.first?.name == "bad")
                #expect(result.malformed.first?.reason.contains("suspend") == true)
            }
        }
    }

    @Test func missingCRDIsAPlainText404() async throws {
        let state = FakeKubernetesState()
        await state.setMissing(.imagePolicy)
        try await withFakeKubernetesServer(state: state) { _, url in
            try await KubeTest.withHTTPClient { http in
                let client = try KubernetesClient(
                    cluster: "test",
                    config: .url(url),
                    httpClient: http,
                    logger: KubeTest.logger
                )
                let error = try await #require(throws: KubernetesError.self) {
                    _ = try await client.list(.imagePolicy, namespace: nil)
                }
                #expect(error.code == .crdNotInstalled)
                #expect(error.httpStatus == 404)
                #expect(error.message.contains("imagepolicies.image.toolkit.fluxcd.io"))
                #expect(error.message.contains("CRD is not installed"))
            }
        }
    }

    @Test func forbiddenNamesTheVerbResourceAndGroupToGrant() async throws {
        let state = FakeKubernetesState()
        await state.setForbidden(.kustomization)
        try await withFakeKubernetesServer(state: state) { _, url in
            try await KubeTest.withHTTPClient { http in
                let client = try KubernetesClient(
                    cluster: "prod",
                    config: .url(url),
                    httpClient: http,
                    logger: KubeTest.logger
                )
                let error = try await #require(throws: KubernetesError.self) {
                    _ = try await client.list(.kustomization, namespace: nil)
                }
                #expect(error.code == .forbidden)
                #expect(
                    error.message
                        == "cluster prod: forbidden: User \"system:serviceaccount:flux-system:fluxbrain\" cannot list "
                        + "kustomizations.kustomize.toolkit.fluxcd.io at the cluster scope — grant the ClusterRole \"list\" "
                        + "on \"kustomizations\" in API group \"kustomize.toolkit.fluxcd.io\""
                )
                let namespaced = try await #require(throws: KubernetesError.self) {
                    _ = try await client.list(.kustomization, namespace: "team-a")
                }
                #expect(namespaced.message.contains("in the namespace \"team-a\""))
                #expect(namespaced.message.contains("grant a Role in \"team-a\" (or the ClusterRole) \"list\""))
            }
        }
    }

    @Test func notFoundStatusIsNotAMissingCRD() async throws {
        try await withFakeKubernetesServer { _, url in
            try await KubeTest.withHTTPClient { http in
                let client = try KubernetesClient(
                    cluster: "test",
                    config: .url(url),
                    httpClient: http,
                    logger: KubeTest.logger
                )
                let error = try await #require(throws: KubernetesError.self) {
                    _ = try await client.get(
                        path: "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations/nope",
                        request: RequestDescription(
                            verb: "get",
                            group: "kustomize.toolkit.fluxcd.io",
                            version: "v1",
                            resource: "kustomizations",
                            namespace: "flux-system",
                            name: "nope"
                        )
                    )
                }
                #expect(error.code == .notFound)
                #expect(error.message.contains("\"nope\" not found"))
            }
        }
    }

    @Test func watchDeliversAddedModifiedDeletedAndBookmarks() async throws {
        let state = FakeKubernetesState()
        try await state.apply(json: KubeTest.object(.gitRepository, name: "fleet"))
        try await withFakeKubernetesServer(state: state) { _, url in
            try await KubeTest.withHTTPClient { http in
                let client = try KubernetesClient(
                    cluster: "test",
                    config: .url(url),
                    httpClient: http,
                    logger: KubeTest.logger
                )
                let list = try await client.list(.gitRepository, namespace: nil)
                let received = EventLog()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        try await client.watch(
                            .gitRepository,
                            namespace: nil,
                            resourceVersion: list.resourceVersion,
                            timeoutSeconds: 30
                        ) { event in
                            await received.append(event)
                        }
                    }
                    #expect(try await eventually { await state.watchCount == 1 })
                    try await state.apply(json: KubeTest.object(.gitRepository, name: "other"))
                    try await state.apply(
                        json: KubeTest.object(
                            .gitRepository,
                            name: "fleet",
                            ready: "False",
                            reason: "GitOperationFailed"
                        )
                    )
                    await state.delete(.gitRepository, namespace: "flux-system", name: "other")
                    await state.sendBookmarks()
                    #expect(try await eventually { await received.descriptions.count == 4 })
                    await state.closeWatches()
                    try await group.waitForAll()
                }
                #expect(await received.descriptions == ["ADDED other", "MODIFIED fleet", "DELETED other", "BOOKMARK"])
                let bookmarkRequests = await state.requests.filter { $0.query["watch"] == "1" }
                #expect(bookmarkRequests.first?.query["allowWatchBookmarks"] == "true")
                #expect(bookmarkRequests.first?.query["resourceVersion"] == list.resourceVersion)
                #expect(bookmarkRequests.first?.query["timeoutSeconds"] == "30")
            }
        }
    }

    @Test func expiredResourceVersionArrivesAsAnErrorInsideA200Stream() async throws {
        let state = FakeKubernetesState()
        try await state.apply(json: KubeTest.object(.bucket, name: "b"))
        try await withFakeKubernetesServer(state: state) { _, url in
            try await KubeTest.withHTTPClient { http in
                let client = try KubernetesClient(
                    cluster: "test",
                    config: .url(url),
                    httpClient: http,
                    logger: KubeTest.logger
                )
                let list = try await client.list(.bucket, namespace: nil)
                // Newer changes, then compaction: the list's resourceVersion is now too old to watch from.
                try await state.apply(json: KubeTest.object(.bucket, name: "c"))
                await state.expireResourceVersions()
                let error = try await #require(throws: KubernetesError.self) {
                    try await client.watch(
                        .bucket,
                        namespace: nil,
                        resourceVersion: list.resourceVersion,
                        timeoutSeconds: 5
                    ) { _ in }
                }
                #expect(error.code == .expired)
                #expect(error.message.contains("too old resource version"))
            }
        }
    }

    @Test func rereadsTheTokenFileAfterA401() async throws {
        let directory = try TestKubeconfig.makeDirectory()
        let tokenFile = directory + "/token"
        try "old-token\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let state = FakeKubernetesState()
        await state.requireToken("new-token")
        try await state.apply(json: KubeTest.object(.ociRepository, name: "manifests"))
        try await withFakeKubernetesServer(state: state, tls: true) { _, url in
            try await KubeTest.withHTTPClient { http in
                let path = try TestKubeconfig.write(
                    [
                        .init(
                            name: "fake",
                            server: url,
                            caPEM: await TestCertificates.shared.caPEM,
                            user: .tokenFile(tokenFile)
                        )
                    ],
                    in: directory
                )
                let config = try Kubeconfig.load(paths: [path]).connection()
                let client = try KubernetesClient(
                    cluster: "fake",
                    config: config,
                    httpClient: http,
                    logger: KubeTest.logger
                )
                let error = try await #require(throws: KubernetesError.self) {
                    _ = try await client.list(.ociRepository, namespace: nil)
                }
                #expect(error.code == .unauthorized)
                #expect(error.message.contains("unauthorized"))
                // The kubelet rotates the token: the next request reads the new one.
                try "new-token\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
                let list = try await client.list(.ociRepository, namespace: nil)
                #expect(list.objects.map(\.metadata.name) == ["manifests"])
                let authorizations = await state.requests.map(\.authorization)
                #expect(authorizations.contains("Bearer old-token"))
                #expect(authorizations.last == "Bearer new-token")
            }
        }
    }

    @Test func tokenFileIsReReadAfterAMinute() async throws {
        let directory = try TestKubeconfig.makeDirectory()
        let tokenFile = directory + "/token"
        try "first".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let clock = ManualClock()
        let provider = CredentialProvider(
            credentials: KubernetesCredentials(token: .file(path: tokenFile)),
            clock: clock
        )
        #expect(try await provider.resolve().bearerToken == "first")
        try "second".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        #expect(try await provider.resolve().bearerToken == "first")
        clock.advance(by: .seconds(61))
        #expect(try await provider.resolve().bearerToken == "second")
    }

    @Test func refusesAServerSignedByAnotherCA() async throws {
        try await withFakeKubernetesServer(tls: true) { _, url in
            try await KubeTest.withHTTPClient { http in
                let config = KubernetesConnectionConfig(
                    server: url,
                    certificateAuthorityPEM: Array(await TestCertificates.otherCA.utf8),
                    origin: "test"
                )
                let client = try KubernetesClient(
                    cluster: "test",
                    config: config,
                    httpClient: http,
                    logger: KubeTest.logger
                )
                let error = try await #require(throws: KubernetesError.self) {
                    _ = try await client.list(.kustomization, namespace: nil)
                }
                #expect(error.code == .transport)
                // Only an explicit insecure-skip-tls-verify accepts it.
                var insecure = config
                insecure.insecureSkipTLSVerify = true
                let insecureClient = try KubernetesClient(
                    cluster: "test",
                    config: insecure,
                    httpClient: http,
                    logger: KubeTest.logger
                )
                _ = try await insecureClient.list(.kustomization, namespace: nil)
            }
        }
    }

    @Test func authenticatesWithAClientCertificate() async throws {
        try await withFakeKubernetesServer(tls: true, requireClientCertificate: true) { _, url in
            try await KubeTest.withHTTPClient { http in
                let directory = try TestKubeconfig.makeDirectory()
                let certificates = await TestCertificates.shared
                let path = try TestKubeconfig.write(
                    [
                        .init(
                            name: "mtls",
                            server: url,
                            caPEM: certificates.caPEM,
                            user: .clientCertificate(
                                certificatePEM: certificates.clientCertificatePEM,
                                keyPEM: certificates.clientKeyPEM
                            )
                        )
                    ],
                    in: directory
                )
                let config = try Kubeconfig.load(paths: [path]).connection(context: "mtls")
                let client = try KubernetesClient(
                    cluster: "mtls",
                    config: config,
                    httpClient: http,
                    logger: KubeTest.logger
                )
                _ = try await client.list(.helmChart, namespace: nil)
                let anonymous = try KubernetesClient(
                    cluster: "mtls",
                    config: KubernetesConnectionConfig(
                        server: url,
                        certificateAuthorityPEM: Array(certificates.caPEM.utf8),
                        origin: "t"
                    ),
                    httpClient: http,
                    logger: KubeTest.logger
                )
                await #expect(throws: KubernetesError.self) { _ = try await anonymous.list(.helmChart, namespace: nil) }
            }
        }
    }

    @Test func execPluginTokenIsUsedAndRefreshedAfterA401() async throws {
        let directory = try TestKubeconfig.makeDirectory()
        let tokenFile = directory + "/exec-token"
        try "exec-one".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let script = directory + "/credential-plugin.sh"
        try writeExecutableScript(
            """
            #!/bin/sh
            [ "$FLUXBRAIN_TEST" = 1 ] || exit 3
            printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"2099-01-01T00:00:00Z"}}' "$(cat \(tokenFile))"
            """,
            to: script
        )
        let state = FakeKubernetesState()
        await state.requireToken("exec-one")
        try await withFakeKubernetesServer(state: state, tls: true) { _, url in
            try await KubeTest.withHTTPClient { http in
                let path = try TestKubeconfig.write(
                    [
                        .init(
                            name: "exec",
                            server: url,
                            caPEM: await TestCertificates.shared.caPEM,
                            user: .exec(command: "./credential-plugin.sh", args: [])
                        )
                    ],
                    in: directory
                )
                let config = try Kubeconfig.load(paths: [path]).connection()
                let client = try KubernetesClient(
                    cluster: "exec",
                    config: config,
                    httpClient: http,
                    logger: KubeTest.logger
                )
                _ = try await client.list(.bucket, namespace: nil)
                try "exec-two".write(toFile: tokenFile, atomically: true, encoding: .utf8)
                await state.requireToken("exec-two")
                _ = try await client.list(.bucket, namespace: nil)
                #expect(await state.requests.last?.authorization == "Bearer exec-two")
            }
        }
    }

    @Test func warningEventsNewestFirstWithFluxRevision() async throws {
        let state = FakeKubernetesState()
        for minute in 0..<15 {
            await state.addEvent(
                about: .kustomization,
                namespace: "flux-system",
                name: "apps",
                reason: "BuildFailed",
                message: "build failed \(minute)",
                lastTimestamp: String(format: "2026-11-28T19:%02d:00Z", minute),
                revision: "main@sha1:\(minute)"
            )
        }
        await state.addEvent(
            about: .kustomization,
            namespace: "flux-system",
            name: "apps",
            type: "Normal",
            reason: "ReconciliationSucceeded",
            message: "ok",
            lastTimestamp: "2026-11-28T19:59:00Z"
        )
        await state.addEvent(
            about: .kustomization,
            namespace: "flux-system",
            name: "other",
            reason: "BuildFailed",
            message: "other",
            lastTimestamp: "2026-11-28T19:58:00Z"
        )
        try await withFakeKubernetesServer(state: state) { _, url in
            try await KubeTest.withHTTPClient { http in
                let client = try KubernetesClient(
                    cluster: "c",
                    config: .url(url),
                    httpClient: http,
                    logger: KubeTest.logger
                )
                let reference = ObjectReference(
                    cluster: "c",
                    kind: .kustomization,
                    namespace: "flux-system",
                    name: "apps"
                )
                let events = try await client.warningEvents(for: reference, limit: 10)
                #expect(events.count == 10)
                #expect(events.first?.message == "build failed 14")
                #expect(events.first?.revision == "main@sha1:14")
                #expect(events.first?.reportingComponent == "kustomize-controller")
                #expect(events.allSatisfy { $0.type == "Warning" })
                let request = await state.requests.last
                #expect(request?.path == "/api/v1/namespaces/flux-system/events")
                #expect(
                    request?.query["fieldSelector"]
                        == "involvedObject.kind=Kustomization,involvedObject.name=apps,involvedObject.namespace=flux-system,type=Warning"
                )
            }
        }
    }

    @Test func controllerLogLinesAboutTheObject() async throws {
        let state = FakeKubernetesState()
        let log = """
            {"level":"info","ts":"2026-11-28T19:40:00.100Z","msg":"server starting"}
            {"level":"error","ts":"2026-11-28T19:41:00.377Z","msg":"Reconciliation failed after 412ms, next try in 2m0s","controller":"kustomization","controllerGroup":"kustomize.toolkit.fluxcd.io","controllerKind":"Kustomization","Kustomization":{"name":"apps","namespace":"flux-system"},"namespace":"flux-system","name":"apps","reconcileID":"r1","error":"kustomize build failed"}
            {"level":"info","ts":"2026-11-28T19:41:01Z","msg":"other","controllerKind":"Kustomization","namespace":"flux-system","name":"infra"}
            not json at all
            {"level":"error","ts":"2026-11-28T19:43:00.001Z","msg":"Reconciliation failed","controllerKind":"Kustomization","namespace":"flux-system","name":"apps","reconcileID":"r2","error":"again"}
            """
        await state.addPod(
            namespace: "flux-system",
            name: "kustomize-controller-abc",
            labels: ["app": "kustomize-controller"],
            log: log
        )
        await state.addPod(
            namespace: "flux-system",
            name: "helm-controller-abc",
            labels: ["app": "helm-controller"],
            log: log
        )
        try await withFakeKubernetesServer(state: state) { _, url in
            try await KubeTest.withHTTPClient { http in
                let client = try KubernetesClient(
                    cluster: "c",
                    config: .url(url),
                    httpClient: http,
                    logger: KubeTest.logger
                )
                let evidence = EvidenceCollector(clients: ["c": client], collectLogs: true, logger: KubeTest.logger)
                let reference = ObjectReference(
                    cluster: "c",
                    kind: .kustomization,
                    namespace: "flux-system",
                    name: "apps"
                )
                let lines = try await evidence.logLines(for: reference)
                #expect(lines.map(\.reconcileID) == ["r2", "r1"])
                #expect(lines.first?.error == "again")
                #expect(lines.allSatisfy { $0.pod == "kustomize-controller-abc" })
                let logRequest = await state.requests.first { $0.path.hasSuffix("/log") }
                #expect(logRequest?.query["container"] == "manager")
                #expect(logRequest?.query["sinceSeconds"] == "3600")
                #expect(logRequest?.query["tailLines"] == "500")
                let incident = Incident(
                    object: reference,
                    state: .retrying,
                    reason: "BuildFailed",
                    message: "m",
                    revision: nil,
                    detectedAt: Date()
                )
                let enriched = await evidence.enrich(incident)
                #expect(enriched.logLines.count == 2)
                #expect(enriched.events.isEmpty)
                // A batch is read at once and comes back in its order: only `apps` has log lines about it.
                var other = incident
                other.object = ObjectReference(cluster: "c", kind: .kustomization, namespace: "flux-system", name: "x")
                let batch = await evidence.enrich([other, incident, other])
                #expect(batch.map(\.object.name) == ["x", "apps", "x"])
                #expect(batch.map(\.logLines.count) == [0, 2, 0])
            }
        }
    }
}

/// Watch events seen by a test.
actor EventLog {
    private(set) var descriptions: [String] = []

    func append(_ event: WatchEvent) {
        switch event {
        case .added(let object): descriptions.append("ADDED \(object.metadata.name)")
        case .modified(let object): descriptions.append("MODIFIED \(object.metadata.name)")
        case .deleted(let object): descriptions.append("DELETED \(object.metadata.name)")
        case .bookmark: descriptions.append("BOOKMARK")
        case .error: descriptions.append("ERROR")
        case .malformed(let type, let name, _, _, _): descriptions.append("MALFORMED \(type) \(name ?? "")")
        }
    }
}
