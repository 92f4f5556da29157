import FluxbrainCore
import FluxbrainTestbed
import Foundation
import Hummingbird
import Logging
import NIOSSL

/// Runs a fake Kubernetes API server on a free loopback port for the duration of `body` (HTTPS with the test CA
/// when `tls`; with the certificate naming only `TestCertificates.serverName` when `namedCertificate`), then stops it
/// gracefully (open watches end, connections close).
package func withFakeKubernetesServer<T: Sendable>(
    state: FakeKubernetesState = FakeKubernetesState(),
    tls: Bool = false,
    requireClientCertificate: Bool = false,
    namedCertificate: Bool = false,
    _ body: (FakeKubernetesServer, URL) async throws -> T
) async throws -> T {
    let server = FakeKubernetesServer(state: state)
    let tlsConfiguration =
        tls
        ? try await TestCertificates.shared.serverTLSConfiguration(
            requireClientCertificate: requireClientCertificate,
            named: namedCertificate
        )
        : nil
    var logger = Logger(label: "fake-kubernetes")
    logger.logLevel = .warning
    return try await server.withRunning(host: "127.0.0.1", port: 0, tls: tlsConfiguration, logger: logger) { port in
        try await body(server, URL(string: "\(tls ? "https" : "http")://127.0.0.1:\(port)")!)
    }
}

/// A test server that failed to start.
package struct TestServerError: Error, CustomStringConvertible {
    package var message: String
    package var description: String { message }
}

/// Writes kubeconfig files for tests.
package enum TestKubeconfig {
    /// A user entry of a kubeconfig.
    package enum User: Sendable {
        case none
        case tokenFile(String)
        case token(String)
        case clientCertificate(certificatePEM: String, keyPEM: String)
        case exec(command: String, args: [String])
        case authProvider(String)
    }

    /// One context: its name, the server, the CA (`certificate-authority-data`) and the user.
    package struct Context: Sendable {
        package var name: String
        package var server: URL
        package var caPEM: String?
        package var user: User
        package var insecure: Bool
        package var namespace: String?
        /// More lines of the `cluster` mapping (`tls-server-name: x`), indented for it.
        package var clusterLines: [String]
        /// More lines of the user's `exec` mapping (`provideClusterInfo: true`).
        package var execLines: [String]

        package init(
            name: String,
            server: URL,
            caPEM: String? = nil,
            user: User = .none,
            insecure: Bool = false,
            namespace: String? = nil,
            clusterLines: [String] = [],
            execLines: [String] = []
        ) {
            self.name = name
            self.server = server
            self.caPEM = caPEM
            self.user = user
            self.insecure = insecure
            self.namespace = namespace
            self.clusterLines = clusterLines
            self.execLines = execLines
        }
    }

    /// A new temporary directory.
    package static func makeDirectory() throws -> String {
        let directory = NSTemporaryDirectory() + "fluxbrain-kube-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    /// The YAML of a kubeconfig with `contexts`, the first being current unless `currentContext` says otherwise.
    package static func yaml(_ contexts: [Context], currentContext: String? = nil) -> String {
        var clusters = "clusters:\n"
        var users = "users:\n"
        var contextText = "contexts:\n"
        for context in contexts {
            clusters += "- name: \(context.name)-cluster\n  cluster:\n    server: \(context.server.absoluteString)\n"
            if let ca = context.caPEM {
                clusters += "    certificate-authority-data: \(Data(ca.utf8).base64EncodedString())\n"
            }
            if context.insecure { clusters += "    insecure-skip-tls-verify: true\n" }
            for line in context.clusterLines { clusters += "    \(line)\n" }
            users += "- name: \(context.name)-user\n  user:\n"
            switch context.user {
            case .none: users += "    {}\n"
            case .tokenFile(let path): users += "    tokenFile: \(path)\n"
            case .token(let token): users += "    token: \(token)\n"
            case .clientCertificate(let certificate, let key):
                users += "    client-certificate-data: \(Data(certificate.utf8).base64EncodedString())\n"
                users += "    client-key-data: \(Data(key.utf8).base64EncodedString())\n"
            case .exec(let command, let args):
                users += "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: \(command)\n"
                users += "      args: [\(args.map { "\"\($0)\"" }.joined(separator: ", "))]\n"
                users +=
                    "      env:\n      - name: FLUXBRAIN_TEST\n        value: \"1\"\n      interactiveMode: Never\n"
                for line in context.execLines { users += "      \(line)\n" }
            case .authProvider(let name):
                users += "    auth-provider:\n      name: \(name)\n      config: {}\n"
            }
            contextText +=
                "- name: \(context.name)\n  context:\n    cluster: \(context.name)-cluster\n    user: \(context.name)-user\n"
            if let namespace = context.namespace { contextText += "    namespace: \(namespace)\n" }
        }
        let current = currentContext ?? contexts.first?.name ?? ""
        return "apiVersion: v1\nkind: Config\ncurrent-context: \(current)\n" + clusters + users + contextText
    }

    /// Writes a kubeconfig into `directory` and returns its path.
    package static func write(
        _ contexts: [Context],
        currentContext: String? = nil,
        in directory: String,
        name: String = "config"
    ) throws -> String {
        let path = directory + "/" + name
        try yaml(contexts, currentContext: currentContext).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

/// Runs one fake API server on a free loopback port that serves several clusters behind one host, the way Rancher
/// does (`https://rancher.example.com/k8s/clusters/c-…`): a request to `/k8s/clusters/<id>/<path>` is answered by
/// the cluster `<id>` of `clusters` as if it were `/<path>`; anything else is `404 page not found`. `body` gets the
/// base URL of each cluster, `http://127.0.0.1:PORT/k8s/clusters/<id>`.
package func withFakeKubernetesServers<T: Sendable>(
    clusters: [String: FakeKubernetesState],
    _ body: @Sendable ([String: URL]) async throws -> T
) async throws -> T {
    let prefix = "/k8s/clusters/"
    let servers = clusters.mapValues { FakeKubernetesServer(state: $0) }
    var logger = Logger(label: "fake-kubernetes")
    logger.logLevel = .warning
    return try await withLoopbackServer(logger: logger) { request in
        let path = request.uri.path
        let rest = path.hasPrefix(prefix) ? path.dropFirst(prefix.count) : ""
        let id = String(rest.prefix { $0 != "/" })
        guard let server = servers[id] else {
            return Response(
                status: .notFound,
                headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: "404 page not found\n"))
            )
        }
        var head = request.head
        let inner = String(rest.dropFirst(id.count))
        head.path = (inner.isEmpty ? "/" : inner) + (request.uri.query.map { "?\($0)" } ?? "")
        return await server.respond(to: Request(head: head, body: request.body))
    } body: { port in
        try await body(
            clusters.keys.reduce(into: [:]) { $0[$1] = URL(string: "http://127.0.0.1:\(port)\(prefix)\($1)")! }
        )
    }
}
