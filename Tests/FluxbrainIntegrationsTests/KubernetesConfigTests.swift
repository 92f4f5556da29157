import FluxbrainCore
import FluxbrainIntegrations
import FluxbrainTestSupport
import Foundation
import Testing

@Suite struct KubeconfigTests {
    @Test func mergesSeveralFilesFirstWins() throws {
        let directory = try TestKubeconfig.makeDirectory()
        let first = try TestKubeconfig.write(
            [.init(name: "shared", server: URL(string: "https://first.example")!, user: .token("one"))],
            in: directory,
            name: "a"
        )
        let second = try TestKubeconfig.write(
            [
                .init(name: "shared", server: URL(string: "https://second.example")!, user: .token("two")),
                .init(name: "only-second", server: URL(string: "https://only.example")!, namespace: "apps"),
            ],
            currentContext: "only-second",
            in: directory,
            name: "b"
        )
        let paths = Kubeconfig.defaultPaths(
            environment: ["KUBECONFIG": "\(first):\(directory)/missing::\(second)"],
            homeDirectory: "/root"
        )
        #expect(paths == [first, "\(directory)/missing", second])
        let kubeconfig = try Kubeconfig.load(paths: paths)
        #expect(kubeconfig.currentContext == "shared")
        let shared = try kubeconfig.connection(context: "shared")
        #expect(shared.server.host == "first.example")
        guard case .fixed(let token) = shared.credentials.token else {
            Issue.record("expected a fixed token")
            return
        }
        #expect(token == "one")
        let other = try kubeconfig.connection(context: "only-second")
        #expect(other.server.host == "only.example")
        #expect(other.namespace == "apps")
        #expect(Kubeconfig.defaultPaths(environment: [:], homeDirectory: "/home/me") == ["/home/me/.kube/config"])
    }

    @Test func namesWhatIsMissing() throws {
        let directory = try TestKubeconfig.makeDirectory()
        let path = try TestKubeconfig.write(
            [.init(name: "a", server: URL(string: "https://a.example")!)],
            in: directory
        )
        let kubeconfig = try Kubeconfig.load(paths: [path])
        let error = try #require(throws: KubernetesError.self) { _ = try kubeconfig.connection(context: "prod") }
        #expect(error.message == "kubeconfig context \"prod\" not found; contexts: a")
        let none = try #require(throws: KubernetesError.self) { _ = try Kubeconfig.load(paths: [directory + "/nope"]) }
        #expect(none.code == .config)
    }

    @Test func authProviderIsRefusedClearly() throws {
        let directory = try TestKubeconfig.makeDirectory()
        let path = try TestKubeconfig.write(
            [.init(name: "gke", server: URL(string: "https://a.example")!, user: .authProvider("gcp"))],
            in: directory
        )
        let error = try #require(throws: KubernetesError.self) { _ = try Kubeconfig.load(paths: [path]).connection() }
        #expect(error.code == .unsupported)
        #expect(error.message.contains("kubeconfig user \"gke-user\" uses auth-provider \"gcp\""))
    }

    @Test func readsRelativeFilesAndInsecureOnlyWhenExplicit() async throws {
        let directory = try TestKubeconfig.makeDirectory()
        let ca = await TestCertificates.shared.caPEM
        try ca.write(toFile: directory + "/ca.pem", atomically: true, encoding: .utf8)
        try "abc".write(toFile: directory + "/token", atomically: true, encoding: .utf8)
        let yaml = """
            apiVersion: v1
            kind: Config
            current-context: c
            clusters:
            - name: k
              cluster:
                server: https://127.0.0.1:6443/
                certificate-authority: ca.pem
            - name: insecure
              cluster:
                server: https://127.0.0.1:6443
                insecure-skip-tls-verify: true
            users:
            - name: u
              user:
                tokenFile: token
            contexts:
            - name: c
              context: {cluster: k, user: u}
            - name: i
              context: {cluster: insecure, user: u}
            """
        try yaml.write(toFile: directory + "/config", atomically: true, encoding: .utf8)
        let kubeconfig = try Kubeconfig.load(paths: [directory + "/config"])
        let config = try kubeconfig.connection()
        #expect(config.server.absoluteString == "https://127.0.0.1:6443")
        #expect(config.certificateAuthorityPEM == Array(ca.utf8))
        #expect(config.insecureSkipTLSVerify == false)
        guard case .file(let tokenPath) = config.credentials.token else {
            Issue.record("expected a token file")
            return
        }
        #expect(tokenPath == directory + "/token")
        #expect(try kubeconfig.connection(context: "i").insecureSkipTLSVerify)
    }

    @Test func inClusterConfiguration() async throws {
        let directory = try TestKubeconfig.makeDirectory()
        let ca = await TestCertificates.shared.caPEM
        try ca.write(toFile: directory + "/ca.crt", atomically: true, encoding: .utf8)
        try "sa-token".write(toFile: directory + "/token", atomically: true, encoding: .utf8)
        try "fluxbrain\n".write(toFile: directory + "/namespace", atomically: true, encoding: .utf8)
        let config = try KubernetesConnectionConfig.inCluster(
            environment: ["KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"],
            serviceAccountDirectory: directory
        )
        #expect(config.server.absoluteString == "https://[fd00::1]:443")
        #expect(config.namespace == "fluxbrain")
        #expect(config.origin == "in-cluster")
        guard case .file(let path) = config.credentials.token else {
            Issue.record("expected the token file")
            return
        }
        #expect(path == directory + "/token")
        let error = try #require(throws: KubernetesError.self) {
            _ = try KubernetesConnectionConfig.inCluster(environment: [:], serviceAccountDirectory: directory)
        }
        #expect(error.message.contains("KUBERNETES_SERVICE_HOST"))
    }
}

@Suite struct KubernetesMechanicsTests {
    @Test func tokenBucketAllowsBurstThenPaces() {
        var bucket = TokenBucket(qps: 10, burst: 3)
        #expect(bucket.reserve(at: .zero) == .zero)
        #expect(bucket.reserve(at: .zero) == .zero)
        #expect(bucket.reserve(at: .zero) == .zero)
        #expect(bucket.reserve(at: .zero) == .milliseconds(100))
        #expect(bucket.reserve(at: .zero) == .milliseconds(200))
        // After a second the bucket is full again (burst 3), minus the two borrowed tokens.
        #expect(bucket.reserve(at: .seconds(1)) == .zero)
    }

    @Test func backoffDoublesUpToTheCapWithJitter() {
        var backoff = Backoff(
            base: .milliseconds(800),
            maximum: .seconds(30),
            growth: .exponential(factor: 2),
            jitter: .adding(upTo: 1)
        )
        #expect(backoff.next(random: 0) == .milliseconds(800))
        #expect(backoff.next(random: 0) == .milliseconds(1600))
        #expect(backoff.next(random: 0.5) == .milliseconds(4800))
        for _ in 0..<10 { _ = backoff.next(random: 0.99) }
        #expect(backoff.next(random: 0.99) == .seconds(30))
        backoff.reset()
        #expect(backoff.next(random: 0) == .milliseconds(800))
    }

    @Test func lineSplitterHandlesSplitChunksAndCaps() throws {
        var splitter = LineSplitter(maxLineBytes: 16)
        try splitter.append(bytes: Array("{\"a\":1}\n{\"b\"".utf8))
        #expect(try splitter.nextLine().map { String(decoding: $0, as: UTF8.self) } == "{\"a\":1}")
        #expect(try splitter.nextLine() == nil)
        try splitter.append(bytes: Array(":2}\n".utf8))
        #expect(try splitter.nextLine().map { String(decoding: $0, as: UTF8.self) } == "{\"b\":2}")
        #expect(throws: LineSplitter.TooLong.self) {
            try splitter.append(bytes: Array(String(repeating: "x", count: 40).utf8))
        }
    }

    @Test func decodesWatchLines() {
        let bookmark = WatchEvent.decode(
            line: Array(
                #"{"type":"BOOKMARK","object":{"kind":"Kustomization","apiVersion":"kustomize.toolkit.fluxcd.io/v1","metadata":{"resourceVersion":"123","annotations":{"k8s.io/initial-events-end":"true"}}}}"#
                    .utf8
            )
        )
        guard case .bookmark(let version) = bookmark else {
            Issue.record("expected a bookmark")
            return
        }
        #expect(version == "123")
        let error = WatchEvent.decode(
            line: Array(
                #"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 48213650 (48290117)","reason":"Expired","code":410}}"#
                    .utf8
            )
        )
        guard case .error(let status) = error else {
            Issue.record("expected an error")
            return
        }
        #expect(status.code == 410)
        let malformed = WatchEvent.decode(
            line: Array(
                #"{"type":"MODIFIED","object":{"kind":"Kustomization","metadata":{"name":"x","namespace":"y","resourceVersion":"9"},"spec":{"suspend":"no"}}}"#
                    .utf8
            )
        )
        guard case .malformed(_, let name, _, let version, _) = malformed else {
            Issue.record("expected malformed")
            return
        }
        #expect(name == "x" && version == "9")
    }
}
