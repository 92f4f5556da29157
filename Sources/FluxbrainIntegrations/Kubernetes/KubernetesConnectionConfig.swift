import FluxbrainCore
import Foundation

/// Where a Kubernetes API server is and how to authenticate to it: the result of reading in-cluster configuration,
/// a kubeconfig context, or a plain URL.
package struct KubernetesConnectionConfig: Sendable {
    /// `https://10.0.0.1:443`, without a trailing slash.
    package var server: URL
    /// PEM bytes of the certificate authorities to trust; `nil` uses the system trust store.
    package var certificateAuthorityPEM: [UInt8]?
    /// `insecure-skip-tls-verify: true`, only when a kubeconfig says so explicitly.
    package var insecureSkipTLSVerify: Bool
    /// kubeconfig `tls-server-name`: the name the server certificate is checked against (and sent as SNI) instead
    /// of the host of `server`; the connection still goes to `server`.
    package var tlsServerName: String?
    /// kubeconfig `proxy-url`, else the proxy the environment names for `server` (`HTTPS_PROXY`…, see
    /// ``ProxyEnvironment``): the proxy every request to this server goes through.
    package var proxy: HTTPProxy?
    /// How requests authenticate.
    package var credentials: KubernetesCredentials
    /// The namespace of the context (kubeconfig) or of the service account (in-cluster), if any.
    package var namespace: String?
    /// Where this configuration came from, for logs: `in-cluster`, `kubeconfig context "prod"`, `URL`.
    package var origin: String
    /// The setting an operator checks when the server cannot be reached: `FLUXBRAIN_KUBE_API_URL`, `the server of
    /// kubeconfig context "prod"`.
    package var setting: String

    package init(
        server: URL,
        certificateAuthorityPEM: [UInt8]? = nil,
        insecureSkipTLSVerify: Bool = false,
        credentials: KubernetesCredentials = KubernetesCredentials(),
        namespace: String? = nil,
        origin: String,
        setting: String? = nil
    ) {
        self.setting = setting ?? "the server of \(origin)"
        self.server = server
        self.certificateAuthorityPEM = certificateAuthorityPEM
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
        self.credentials = credentials
        self.namespace = namespace
        self.origin = origin
    }

    /// A plain URL with no authentication (`FLUXBRAIN_KUBE_API_URL`, the testbed's `fluxbrain-testbed fake-cluster`).
    package static func url(_ url: URL) -> KubernetesConnectionConfig {
        KubernetesConnectionConfig(server: url, origin: "URL \(url.absoluteString)", setting: "FLUXBRAIN_KUBE_API_URL")
    }

    /// The standard in-cluster paths (client-go `rest.InClusterConfig`).
    package static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// In-cluster configuration: `KUBERNETES_SERVICE_HOST`/`KUBERNETES_SERVICE_PORT`, the service-account token
    /// file (re-read every minute and after a 401) and `ca.crt`.
    ///
    /// - Throws: `KubernetesError.config` when the variables are missing (not running in a pod) or the CA cannot
    ///   be read.
    package static func inCluster(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        serviceAccountDirectory: String = serviceAccountDirectory
    ) throws(KubernetesError) -> KubernetesConnectionConfig {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty,
            let port = environment["KUBERNETES_SERVICE_PORT"], !port.isEmpty
        else {
            throw KubernetesError(
                .config,
                "not running in a Kubernetes pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must both be set"
            )
        }
        let bracketed = host.contains(":") ? "[\(host)]" : host
        guard let url = URL(string: "https://\(bracketed):\(port)") else {
            throw KubernetesError(.config, "in-cluster API address https://\(bracketed):\(port) is not a valid URL")
        }
        let caPath = (serviceAccountDirectory as NSString).appendingPathComponent("ca.crt")
        let tokenPath = (serviceAccountDirectory as NSString).appendingPathComponent("token")
        guard let ca = FileManager.default.contents(atPath: caPath) else {
            throw KubernetesError(.config, "in-cluster: cannot read the service-account CA \(caPath)")
        }
        guard FileManager.default.isReadableFile(atPath: tokenPath) else {
            throw KubernetesError(.config, "in-cluster: cannot read the service-account token \(tokenPath)")
        }
        let namespacePath = (serviceAccountDirectory as NSString).appendingPathComponent("namespace")
        let namespace = FileManager.default.contents(atPath: namespacePath).map {
            String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return KubernetesConnectionConfig(
            server: url,
            certificateAuthorityPEM: Array(ca),
            credentials: KubernetesCredentials(token: .file(path: tokenPath)),
            namespace: namespace,
            origin: "in-cluster",
            setting: "KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT and the pod's network policy"
        )
    }
}

/// How requests authenticate: a bearer token from some source, a client certificate, or both.
package struct KubernetesCredentials: Sendable {
    /// Where the bearer token comes from.
    package enum TokenSource: Sendable {
        /// A fixed token (kubeconfig `token`).
        case fixed(String)
        /// A file re-read every minute and after a 401 (kubeconfig `tokenFile`, the in-cluster service account).
        case file(path: String)
        /// An exec credential plugin, run again when its credential expires or after a 401.
        case exec(ExecCredentialPlugin)
    }

    package var token: TokenSource?
    /// PEM certificate chain and key for mutual TLS.
    package var clientCertificate: ClientCertificate?

    package init(token: TokenSource? = nil, clientCertificate: ClientCertificate? = nil) {
        self.token = token
        self.clientCertificate = clientCertificate
    }
}

/// A PEM client certificate and its private key.
package struct ClientCertificate: Sendable, Hashable {
    package var certificatePEM: [UInt8]
    package var keyPEM: [UInt8]

    package init(certificatePEM: [UInt8], keyPEM: [UInt8]) {
        self.certificatePEM = certificatePEM
        self.keyPEM = keyPEM
    }
}

/// A kubeconfig `user.exec` entry (client.authentication.k8s.io).
package struct ExecCredentialPlugin: Sendable, Hashable {
    package var apiVersion: String
    package var command: String
    package var args: [String]
    package var env: [String: String]
    /// The kubeconfig's directory: a relative `command` containing a `/` is resolved against it.
    package var baseDirectory: String?
    package var installHint: String?
    /// `provideClusterInfo: true`: the plugin gets ``cluster`` in `KUBERNETES_EXEC_INFO` (`spec.cluster`).
    package var provideClusterInfo: Bool
    /// The cluster being authenticated to, set when ``provideClusterInfo`` is on.
    package var cluster: ClusterInfo?

    /// `spec.cluster` of `KUBERNETES_EXEC_INFO`, as client-go fills it from the kubeconfig cluster.
    package struct ClusterInfo: Sendable, Hashable {
        package var server: String
        package var tlsServerName: String?
        package var insecureSkipTLSVerify: Bool
        /// PEM bytes (sent base64-encoded, as kubeconfig `certificate-authority-data`).
        package var certificateAuthorityData: [UInt8]?
        package var proxyURL: String?
        /// The cluster's `client.authentication.k8s.io/exec` extension.
        package var config: JSONValue?

        package init(
            server: String,
            tlsServerName: String? = nil,
            insecureSkipTLSVerify: Bool = false,
            certificateAuthorityData: [UInt8]? = nil,
            proxyURL: String? = nil,
            config: JSONValue? = nil
        ) {
            self.server = server
            self.tlsServerName = tlsServerName
            self.insecureSkipTLSVerify = insecureSkipTLSVerify
            self.certificateAuthorityData = certificateAuthorityData
            self.proxyURL = proxyURL
            self.config = config
        }
    }

    package init(
        apiVersion: String = "client.authentication.k8s.io/v1",
        command: String,
        args: [String] = [],
        env: [String: String] = [:],
        baseDirectory: String? = nil,
        installHint: String? = nil,
        provideClusterInfo: Bool = false,
        cluster: ClusterInfo? = nil
    ) {
        self.apiVersion = apiVersion
        self.command = command
        self.args = args
        self.env = env
        self.baseDirectory = baseDirectory
        self.installHint = installHint
        self.provideClusterInfo = provideClusterInfo
        self.cluster = cluster
    }

    /// The `KUBERNETES_EXEC_INFO` value: an `ExecCredential` with `spec.interactive` false and, when asked for,
    /// `spec.cluster`.
    package var execInfo: String {
        var spec: [String: JSONValue] = ["interactive": .bool(false)]
        if provideClusterInfo, let cluster {
            var info: [String: JSONValue] = ["server": .string(cluster.server)]
            if let name = cluster.tlsServerName { info["tls-server-name"] = .string(name) }
            if cluster.insecureSkipTLSVerify { info["insecure-skip-tls-verify"] = .bool(true) }
            if let ca = cluster.certificateAuthorityData {
                info["certificate-authority-data"] = .string(Data(ca).base64EncodedString())
            }
            if let proxy = cluster.proxyURL { info["proxy-url"] = .string(proxy) }
            if let config = cluster.config { info["config"] = config }
            spec["cluster"] = .object(info)
        }
        let credential: JSONValue = .object([
            "apiVersion": .string(apiVersion), "kind": .string("ExecCredential"), "spec": .object(spec),
        ])
        // Encoding strings, booleans and a value parsed from YAML cannot fail; the minimal request is the fallback.
        return (try? StableJSON.string(credential))
            ?? #"{"apiVersion":"\#(apiVersion)","kind":"ExecCredential","spec":{"interactive":false}}"#
    }
}
