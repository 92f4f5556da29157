import FluxbrainCore
import Foundation
import Yams

/// A kubeconfig, merged from one or more files the way kubectl merges `KUBECONFIG`: for every cluster, user and
/// context name the first file that defines it wins, and the first non-empty `current-context` wins.
package struct Kubeconfig: Sendable {
    /// `current-context`.
    package var currentContext: String?
    package var clusters: [String: Cluster]
    package var users: [String: User]
    package var contexts: [String: Context]
    /// The files read, in order.
    package var files: [String]

    /// A `clusters[].cluster` entry.
    package struct Cluster: Sendable {
        package var server: String
        package var certificateAuthority: String?
        package var certificateAuthorityData: String?
        package var insecureSkipTLSVerify: Bool
        package var tlsServerName: String?
        package var proxyURL: String?
        /// The `extensions` entry named `client.authentication.k8s.io/exec`: handed to exec plugins that ask for
        /// cluster information (`spec.cluster.config`).
        package var execExtension: JSONValue?
        /// Directory of the file it came from, for relative paths.
        package var baseDirectory: String
    }

    /// A `users[].user` entry.
    package struct User: Sendable {
        package var token: String?
        package var tokenFile: String?
        package var clientCertificate: String?
        package var clientCertificateData: String?
        package var clientKey: String?
        package var clientKeyData: String?
        package var username: String?
        package var exec: ExecCredentialPlugin?
        /// `exec.interactiveMode: Always`: the plugin needs a terminal, which Fluxbrain never has.
        package var execNeedsTerminal: Bool
        package var hasAuthProvider: Bool
        package var authProviderName: String?
        package var baseDirectory: String
    }

    /// A `contexts[].context` entry.
    package struct Context: Sendable {
        package var cluster: String
        package var user: String?
        package var namespace: String?
    }

    package init() {
        clusters = [:]
        users = [:]
        contexts = [:]
        files = []
    }

    /// The kubeconfig files to read: every entry of `KUBECONFIG` (`:`-separated, empty entries skipped, missing
    /// files skipped like kubectl does), else `~/.kube/config`.
    package static func defaultPaths(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        homeDirectory: String = NSHomeDirectory()
    ) -> [String] {
        if let list = environment["KUBECONFIG"], !list.isEmpty {
            return list.split(separator: ":").map(String.init).filter { !$0.isEmpty }
        }
        return [(homeDirectory as NSString).appendingPathComponent(".kube/config")]
    }

    /// Loads and merges `KUBECONFIG` or `~/.kube/config`.
    package static func load(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        homeDirectory: String = NSHomeDirectory()
    ) throws(KubernetesError) -> Kubeconfig {
        try load(paths: defaultPaths(environment: environment, homeDirectory: homeDirectory))
    }

    /// Loads and merges `paths` (first wins). Missing files are skipped; if none exists, throws.
    package static func load(paths: [String]) throws(KubernetesError) -> Kubeconfig {
        var merged = Kubeconfig()
        for path in paths {
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            try merged.merge(data: data, path: path)
        }
        guard !merged.files.isEmpty else {
            throw KubernetesError(
                .config,
                "no kubeconfig found (looked at \(paths.joined(separator: ", "))); set KUBECONFIG"
            )
        }
        return merged
    }

    /// Parses one file's content and merges it in; `path` names it in errors and anchors relative paths.
    package mutating func merge(data: Data, path: String) throws(KubernetesError) {
        let text = String(decoding: data, as: UTF8.self)
        let document: Any?
        do {
            document = try Yams.load(yaml: text)
        } catch {
            throw KubernetesError(.config, "kubeconfig \(path): not valid YAML: \(error)")
        }
        files.append(path)
        guard let root = document as? [String: Any] else {
            if document == nil { return }  // an empty file
            throw KubernetesError(.config, "kubeconfig \(path): expected a mapping at the top level")
        }
        let base = (path as NSString).deletingLastPathComponent
        if currentContext == nil || currentContext == "", let current = root["current-context"] as? String,
            !current.isEmpty
        {
            currentContext = current
        }
        for entry in root["clusters"] as? [[String: Any]] ?? [] {
            guard let name = entry["name"] as? String, clusters[name] == nil else { continue }
            let cluster = entry["cluster"] as? [String: Any] ?? [:]
            guard let server = cluster["server"] as? String else {
                throw KubernetesError(.config, "kubeconfig \(path): cluster \"\(name)\" has no server")
            }
            clusters[name] = Cluster(
                server: server,
                certificateAuthority: cluster["certificate-authority"] as? String,
                certificateAuthorityData: cluster["certificate-authority-data"] as? String,
                insecureSkipTLSVerify: Self.bool(cluster["insecure-skip-tls-verify"]),
                tlsServerName: (cluster["tls-server-name"] as? String).flatMap { $0.isEmpty ? nil : $0 },
                proxyURL: (cluster["proxy-url"] as? String).flatMap { $0.isEmpty ? nil : $0 },
                execExtension: try Self.execExtension(of: cluster, name: name, path: path),
                baseDirectory: base
            )
        }
        for entry in root["users"] as? [[String: Any]] ?? [] {
            guard let name = entry["name"] as? String, users[name] == nil else { continue }
            let user = entry["user"] as? [String: Any] ?? [:]
            var exec: ExecCredentialPlugin?
            if let execEntry = user["exec"] as? [String: Any] {
                guard let command = execEntry["command"] as? String else {
                    throw KubernetesError(.config, "kubeconfig \(path): user \"\(name)\" exec has no command")
                }
                var env: [String: String] = [:]
                for variable in execEntry["env"] as? [[String: Any]] ?? [] {
                    if let key = variable["name"] as? String { env[key] = variable["value"] as? String ?? "" }
                }
                exec = ExecCredentialPlugin(
                    apiVersion: execEntry["apiVersion"] as? String ?? "client.authentication.k8s.io/v1",
                    command: command,
                    args: (execEntry["args"] as? [Any] ?? []).map { "\($0)" },
                    env: env,
                    baseDirectory: base,
                    installHint: execEntry["installHint"] as? String,
                    provideClusterInfo: Self.bool(execEntry["provideClusterInfo"])
                )
            }
            let authProvider = user["auth-provider"] as? [String: Any]
            users[name] = User(
                token: user["token"] as? String,
                tokenFile: user["tokenFile"] as? String,
                clientCertificate: user["client-certificate"] as? String,
                clientCertificateData: user["client-certificate-data"] as? String,
                clientKey: user["client-key"] as? String,
                clientKeyData: user["client-key-data"] as? String,
                username: user["username"] as? String,
                exec: exec,
                execNeedsTerminal: (user["exec"] as? [String: Any])?["interactiveMode"] as? String == "Always",
                hasAuthProvider: authProvider != nil,
                authProviderName: authProvider?["name"] as? String,
                baseDirectory: base
            )
        }
        for entry in root["contexts"] as? [[String: Any]] ?? [] {
            guard let name = entry["name"] as? String, contexts[name] == nil else { continue }
            let context = entry["context"] as? [String: Any] ?? [:]
            guard let cluster = context["cluster"] as? String else {
                throw KubernetesError(.config, "kubeconfig \(path): context \"\(name)\" names no cluster")
            }
            contexts[name] = Context(
                cluster: cluster,
                user: context["user"] as? String,
                namespace: context["namespace"] as? String
            )
        }
    }

    /// The cluster's `extensions` entry for exec plugins, as JSON.
    private static func execExtension(
        of cluster: [String: Any],
        name: String,
        path: String
    ) throws(KubernetesError) -> JSONValue? {
        for entry in cluster["extensions"] as? [[String: Any]] ?? []
        where entry["name"] as? String == "client.authentication.k8s.io/exec" {
            do {
                return try JSONValue(any: entry["extension"])
            } catch {
                throw KubernetesError(
                    .config,
                    "kubeconfig \(path): cluster \"\(name)\" exec extension: \(error.message)"
                )
            }
        }
        return nil
    }

    private static func bool(_ value: Any?) -> Bool {
        switch value {
        case let value as Bool: value
        case let value as String: value.lowercased() == "true"
        default: false
        }
    }

    /// The connection of `context`, or of `current-context` when `nil`.
    ///
    /// - Throws: `KubernetesError.config` naming the missing context, cluster, user or file, and listing the
    ///   contexts there are; `.unsupported` for `auth-provider` and `username`/`password` users.
    package func connection(context requested: String? = nil) throws(KubernetesError) -> KubernetesConnectionConfig {
        guard let contextName = requested ?? currentContext, !contextName.isEmpty else {
            throw KubernetesError(
                .config,
                "kubeconfig \(files.joined(separator: ":")) has no current-context; name a context"
            )
        }
        guard let context = contexts[contextName] else {
            throw KubernetesError(
                .config,
                "kubeconfig context \"\(contextName)\" not found; contexts: \(contexts.keys.sorted().joined(separator: ", "))"
            )
        }
        guard let cluster = clusters[context.cluster] else {
            throw KubernetesError(
                .config,
                "kubeconfig context \"\(contextName)\" names cluster \"\(context.cluster)\", which is not defined"
            )
        }
        guard
            let server = URL(
                string: cluster.server.hasSuffix("/") ? String(cluster.server.dropLast()) : cluster.server
            ),
            server.scheme == "https" || server.scheme == "http", server.host != nil
        else {
            throw KubernetesError(
                .config,
                "kubeconfig cluster \"\(context.cluster)\": server \(cluster.server) is not an http(s) URL"
            )
        }
        var ca: [UInt8]?
        if let data = cluster.certificateAuthorityData {
            ca = try Self.base64(data, what: "cluster \"\(context.cluster)\" certificate-authority-data")
        } else if let file = cluster.certificateAuthority {
            ca = try Self.read(
                file,
                base: cluster.baseDirectory,
                what: "cluster \"\(context.cluster)\" certificate-authority"
            )
        }
        var credentials = KubernetesCredentials()
        if let userName = context.user, !userName.isEmpty {
            guard let user = users[userName] else {
                throw KubernetesError(
                    .config,
                    "kubeconfig context \"\(contextName)\" names user \"\(userName)\", which is not defined"
                )
            }
            credentials = try Self.credentials(of: user, name: userName)
        }
        var connection = KubernetesConnectionConfig(
            server: server,
            certificateAuthorityPEM: ca,
            insecureSkipTLSVerify: cluster.insecureSkipTLSVerify,
            credentials: credentials,
            namespace: context.namespace,
            origin: "kubeconfig context \"\(contextName)\""
        )
        connection.tlsServerName = cluster.tlsServerName
        if let url = cluster.proxyURL {
            do {
                connection.proxy = try HTTPProxy(
                    url: url,
                    origin: "kubeconfig cluster \"\(context.cluster)\": proxy-url"
                )
            } catch {
                throw KubernetesError(error.unsupported ? .unsupported : .config, error.message)
            }
        }
        if case .exec(var plugin)? = connection.credentials.token, plugin.provideClusterInfo {
            // What client-go hands the plugin in `spec.cluster` (client.authentication.k8s.io Cluster).
            plugin.cluster = ExecCredentialPlugin.ClusterInfo(
                server: cluster.server,
                tlsServerName: cluster.tlsServerName,
                insecureSkipTLSVerify: cluster.insecureSkipTLSVerify,
                certificateAuthorityData: ca,
                proxyURL: cluster.proxyURL,
                config: cluster.execExtension
            )
            connection.credentials.token = .exec(plugin)
        }
        return connection
    }

    private static func credentials(of user: User, name: String) throws(KubernetesError) -> KubernetesCredentials {
        if user.hasAuthProvider {
            throw KubernetesError(
                .unsupported,
                "kubeconfig user \"\(name)\" uses auth-provider \"\(user.authProviderName ?? "?")\", which Fluxbrain does "
                    + "not support (it was removed from kubectl); use an exec credential plugin, a token or a client certificate"
            )
        }
        var credentials = KubernetesCredentials()
        if let token = user.token, !token.isEmpty {
            credentials.token = .fixed(token)
        } else if let file = user.tokenFile, !file.isEmpty {
            credentials.token = .file(path: resolve(file, base: user.baseDirectory))
        } else if let exec = user.exec {
            if user.execNeedsTerminal {
                throw KubernetesError(
                    .unsupported,
                    "kubeconfig user \"\(name)\": exec plugin \(exec.command) has interactiveMode Always, but Fluxbrain never "
                        + "has a terminal; use a plugin that runs non-interactively"
                )
            }
            credentials.token = .exec(exec)
        } else if user.username != nil {
            throw KubernetesError(
                .unsupported,
                "kubeconfig user \"\(name)\" uses username/password (basic auth), which Kubernetes no longer serves; "
                    + "use a token, a client certificate or an exec credential plugin"
            )
        }
        let certificate: [UInt8]?
        if let data = user.clientCertificateData {
            certificate = try base64(data, what: "user \"\(name)\" client-certificate-data")
        } else if let file = user.clientCertificate {
            certificate = try read(file, base: user.baseDirectory, what: "user \"\(name)\" client-certificate")
        } else {
            certificate = nil
        }
        let key: [UInt8]?
        if let data = user.clientKeyData {
            key = try base64(data, what: "user \"\(name)\" client-key-data")
        } else if let file = user.clientKey {
            key = try read(file, base: user.baseDirectory, what: "user \"\(name)\" client-key")
        } else {
            key = nil
        }
        switch (certificate, key) {
        case (let certificate?, let key?):
            credentials.clientCertificate = ClientCertificate(certificatePEM: certificate, keyPEM: key)
        case (nil, nil):
            break
        default:
            throw KubernetesError(
                .config,
                "kubeconfig user \"\(name)\" has a client certificate without its key, or a key without its certificate"
            )
        }
        return credentials
    }

    private static func resolve(_ path: String, base: String) -> String {
        if path.hasPrefix("/") { return path }
        if path.hasPrefix("~/") {
            return (NSHomeDirectory() as NSString).appendingPathComponent(String(path.dropFirst(2)))
        }
        return (base as NSString).appendingPathComponent(path)
    }

    private static func read(_ path: String, base: String, what: String) throws(KubernetesError) -> [UInt8] {
        let resolved = resolve(path, base: base)
        guard let data = FileManager.default.contents(atPath: resolved) else {
            throw KubernetesError(.config, "kubeconfig \(what): cannot read \(resolved)")
        }
        return Array(data)
    }

    private static func base64(_ text: String, what: String) throws(KubernetesError) -> [UInt8] {
        let cleaned = text.filter { !$0.isWhitespace }
        guard let data = Data(base64Encoded: cleaned) else {
            throw KubernetesError(.config, "kubeconfig \(what) is not valid base64")
        }
        return Array(data)
    }
}
