import FluxbrainCore
import FluxbrainIntegrations
import FluxbrainTestSupport
import FluxbrainTestbed
import Foundation
import Testing

/// kubeconfig connection settings beyond server and credentials: `tls-server-name`, `proxy-url`, and exec plugins
/// with `provideClusterInfo`, read from files and used over real HTTPS on loopback.
@Suite struct KubernetesConnectionTests {
    @Test(arguments: [
        ("http://proxy.corp:3128", "http://proxy.corp:3128"),
        ("http://u%40x:p%3Ass@10.0.0.1", "http://u@x:***@10.0.0.1:80"),
        ("socks5://127.0.0.1", "socks5://127.0.0.1:1080"),
        ("socks5h://gw:9050", "socks5://gw:9050"),
        ("proxy.corp:3128", "http://proxy.corp:3128"),
    ])
    func parsesProxyURLs(url: String, shown: String) throws {
        let proxy = try HTTPProxy(url: url, origin: "proxy-url")
        #expect(proxy.description == shown)
        if url.contains("u%40x") {
            #expect(proxy.username == "u@x" && proxy.password == "p:ss")
        }
    }

    @Test(arguments: [
        ("https://proxy:443", KubernetesError.Code.unsupported),
        ("socks5://user:hunter2@gw:1080", .unsupported),
        ("ftp://gw", .config),
        ("http://:3128", .config),
    ])
    func refusesProxyURLsItCannotUse(url: String, code: KubernetesError.Code) throws {
        let directory = try TestKubeconfig.makeDirectory()
        let path = try TestKubeconfig.write(
            [
                .init(
                    name: "prod",
                    server: URL(string: "https://10.0.0.1:6443")!,
                    clusterLines: ["proxy-url: \"\(url)\""]
                )
            ],
            in: directory
        )
        #expect {
            _ = try Kubeconfig.load(paths: [path]).connection()
        } throws: { error in
            guard let error = error as? KubernetesError else { return false }
            return error.code == code && error.message.contains("cluster \"prod-cluster\"")
                && !error.message.contains("hunter2")
        }
    }

    @Test func kubeconfigCarriesServerNameProxyAndClusterInfo() async throws {
        let directory = try TestKubeconfig.makeDirectory()
        let server = URL(string: "https://10.1.2.3:6443")!
        let clusterLines = [
            "tls-server-name: kubernetes.internal", "proxy-url: http://ops:secret@proxy.corp:3128", "extensions:",
            "- name: client.authentication.k8s.io/exec", "  extension:", "    audience: fluxbrain-test",
        ]
        let path = try TestKubeconfig.write(
            [
                .init(
                    name: "info",
                    server: server,
                    caPEM: await TestCertificates.shared.caPEM,
                    user: .exec(command: "get-token", args: []),
                    clusterLines: clusterLines,
                    execLines: ["provideClusterInfo: true"]
                ),
                .init(
                    name: "plain",
                    server: server,
                    user: .exec(command: "get-token", args: []),
                    clusterLines: clusterLines
                ),
                .init(
                    name: "interactive",
                    server: server,
                    user: .exec(command: "login", args: []),
                    execLines: ["interactiveMode: Always"]
                ),
            ],
            in: directory
        )
        let kubeconfig = try Kubeconfig.load(paths: [path])

        let config = try kubeconfig.connection(context: "info")
        #expect(config.tlsServerName == "kubernetes.internal")
        #expect(
            config.proxy == HTTPProxy(kind: .http, host: "proxy.corp", port: 3128, username: "ops", password: "secret")
        )
        // Each cluster has an HTTP client (a connection pool) of its own, whatever host it shares; one cluster asking
        // again gets the same one.
        let clients = HTTPClients.kubernetes()
        let plain = KubernetesConnectionConfig(server: server, origin: "test")
        #expect(clients.client(for: config, cluster: "a") !== clients.client(for: plain, cluster: "a"))
        #expect(
            clients.client(for: plain, cluster: "a")
                === clients.client(for: KubernetesConnectionConfig(server: server, origin: "other"), cluster: "a")
        )
        #expect(clients.client(for: plain, cluster: "a") !== clients.client(for: plain, cluster: "b"))
        await clients.shutdown()
        guard case .exec(let plugin)? = config.credentials.token else {
            Issue.record("expected an exec credential plugin")
            return
        }
        let info = try FastJSON.parse(Array(plugin.execInfo.utf8))
        #expect(info["kind"] == .string("ExecCredential"))
        #expect(info["spec"]?["interactive"] == .bool(false))
        let cluster = info["spec"]?["cluster"]
        #expect(cluster?["server"] == .string("https://10.1.2.3:6443"))
        #expect(cluster?["tls-server-name"] == .string("kubernetes.internal"))
        #expect(cluster?["proxy-url"] == .string("http://ops:secret@proxy.corp:3128"))
        #expect(
            cluster?["certificate-authority-data"]
                == .string(Data(await TestCertificates.shared.caPEM.utf8).base64EncodedString())
        )
        #expect(cluster?["config"] == .object(["audience": .string("fluxbrain-test")]))

        // Without provideClusterInfo the plugin learns nothing about the cluster (client-go does the same).
        guard case .exec(let plain)? = try kubeconfig.connection(context: "plain").credentials.token else {
            Issue.record("expected an exec credential plugin")
            return
        }
        #expect(try FastJSON.parse(Array(plain.execInfo.utf8))["spec"] == .object(["interactive": .bool(false)]))

        #expect {
            _ = try kubeconfig.connection(context: "interactive")
        } throws: { error in
            (error as? KubernetesError)?.code == .unsupported && "\(error)".contains("interactiveMode Always")
        }
    }

    @Test func checksTheServerCertificateAgainstTLSServerName() async throws {
        let state = FakeKubernetesState()
        try await state.apply(json: KubeTest.object(.kustomization, name: "apps"))
        // The server is addressed by IP; its certificate names only kubernetes.fluxbrain.test.
        try await withFakeKubernetesServer(state: state, tls: true, namedCertificate: true) { _, url in
            try await KubeTest.withHTTPClients { clients in
                let directory = try TestKubeconfig.makeDirectory()
                let ca = await TestCertificates.shared.caPEM
                let path = try TestKubeconfig.write(
                    [
                        .init(
                            name: "right",
                            server: url,
                            caPEM: ca,
                            clusterLines: ["tls-server-name: \(TestCertificates.serverName)"]
                        ),
                        .init(
                            name: "wrong",
                            server: url,
                            caPEM: ca,
                            clusterLines: ["tls-server-name: wrong.fluxbrain.test"]
                        ),
                        .init(name: "none", server: url, caPEM: ca),
                    ],
                    in: directory
                )
                let kubeconfig = try Kubeconfig.load(paths: [path])
                func client(_ context: String) throws -> KubernetesClient {
                    let config = try kubeconfig.connection(context: context)
                    // async-http-client retries failed connections until the request's deadline: keep it short for
                    // the contexts that must fail, generous for the one that must succeed on a busy machine.
                    var options = KubernetesClient.Options()
                    options.requestTimeout = context == "right" ? .seconds(30) : .seconds(5)
                    return try KubernetesClient(
                        cluster: context,
                        config: config,
                        httpClient: clients.client(for: config, cluster: "test"),
                        options: options,
                        logger: KubeTest.logger
                    )
                }
                #expect(
                    try await client("right").list(.kustomization, namespace: nil).objects.map(\.metadata.name) == [
                        "apps"
                    ]
                )
                #expect(await state.requests.last?.path == "/apis/kustomize.toolkit.fluxcd.io/v1/kustomizations")

                for context in ["wrong", "none"] {
                    await #expect {
                        _ = try await client(context).list(.kustomization, namespace: nil)
                    } throws: { error in
                        guard let error = error as? KubernetesError, error.code == .transport else { return false }
                        return context == "none" || error.message.contains("tls-server-name wrong.fluxbrain.test")
                    }
                }
            }
        }
    }

    @Test func reachesTheServerThroughAnHTTPProxy() async throws {
        let state = FakeKubernetesState()
        try await state.apply(json: KubeTest.object(.helmRelease, name: "podinfo"))
        await state.requireToken("proxied-token")
        let expected = "Basic " + Data("fluxbrain:s3cr%t".utf8).base64EncodedString()
        try await withFakeKubernetesServer(state: state, tls: true) { _, url in
            try await ConnectProxy.with(requireAuthorization: expected) { proxy in
                try await KubeTest.withHTTPClients { clients in
                    let directory = try TestKubeconfig.makeDirectory()
                    let path = try TestKubeconfig.write(
                        [
                            .init(
                                name: "proxied",
                                server: url,
                                caPEM: await TestCertificates.shared.caPEM,
                                user: .token("proxied-token"),
                                clusterLines: ["proxy-url: http://fluxbrain:s3cr%25t@127.0.0.1:\(proxy.port)"]
                            ),
                            .init(
                                name: "bad-password",
                                server: url,
                                caPEM: await TestCertificates.shared.caPEM,
                                user: .token("proxied-token"),
                                clusterLines: ["proxy-url: http://fluxbrain:hunter2@127.0.0.1:\(proxy.port)"]
                            ),
                        ],
                        in: directory
                    )
                    let kubeconfig = try Kubeconfig.load(paths: [path])
                    let config = try kubeconfig.connection(context: "proxied")
                    let client = try KubernetesClient(
                        cluster: "proxied",
                        config: config,
                        httpClient: clients.client(for: config, cluster: "test"),
                        logger: KubeTest.logger
                    )
                    #expect(
                        try await client.list(.helmRelease, namespace: nil).objects.map(\.metadata.name) == ["podinfo"]
                    )
                    let tunnels = try proxy.requests()
                    #expect(tunnels.first?.method == "CONNECT")
                    #expect(tunnels.first?.target == "127.0.0.1:\(url.port!)")
                    #expect(tunnels.first?.authorization == expected)
                    #expect(await state.requests.last?.authorization == "Bearer proxied-token")

                    let badConfig = try kubeconfig.connection(context: "bad-password")
                    // async-http-client retries failed connections until the request's deadline: keep it short.
                    var options = KubernetesClient.Options()
                    options.requestTimeout = .seconds(2)
                    let refused = try KubernetesClient(
                        cluster: "bad-password",
                        config: badConfig,
                        httpClient: clients.client(for: badConfig, cluster: "test"),
                        options: options,
                        logger: KubeTest.logger
                    )
                    await #expect {
                        _ = try await refused.list(.helmRelease, namespace: nil)
                    } throws: { error in
                        let text = "\(error)"
                        return text.contains("through proxy http://fluxbrain:***@127.0.0.1")
                            && !text.contains("hunter2")
                    }
                }
            }
        }
    }

    @Test func execPluginGetsClusterInfoWhenItAsks() async throws {
        let directory = try TestKubeconfig.makeDirectory()
        let script = directory + "/plugin.sh"
        try writeExecutableScript(
            """
            #!/bin/sh
            printf '%s' "$KUBERNETES_EXEC_INFO" > \(directory)/exec-info.json
            printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"from-plugin"}}'
            """,
            to: script
        )
        let state = FakeKubernetesState()
        await state.requireToken("from-plugin")
        try await withFakeKubernetesServer(state: state, tls: true) { _, url in
            try await KubeTest.withHTTPClient { http in
                let path = try TestKubeconfig.write(
                    [
                        .init(
                            name: "exec",
                            server: url,
                            caPEM: await TestCertificates.shared.caPEM,
                            user: .exec(command: "./plugin.sh", args: []),
                            clusterLines: [
                                "extensions:", "- name: client.authentication.k8s.io/exec",
                                "  extension: {region: eu-1}",
                            ],
                            execLines: ["provideClusterInfo: true"]
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
                let info = try FastJSON.parse(
                    Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/exec-info.json")))
                )
                #expect(info["apiVersion"] == .string("client.authentication.k8s.io/v1"))
                #expect(info["spec"]?["cluster"]?["server"] == .string(url.absoluteString))
                #expect(info["spec"]?["cluster"]?["config"] == .object(["region": .string("eu-1")]))
                #expect(
                    info["spec"]?["cluster"]?["certificate-authority-data"]
                        == .string(Data(await TestCertificates.shared.caPEM.utf8).base64EncodedString())
                )
            }
        }
    }
}
