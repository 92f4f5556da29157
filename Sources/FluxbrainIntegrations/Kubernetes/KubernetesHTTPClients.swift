import AsyncHTTPClient
import Synchronization

/// The HTTP clients of the Kubernetes clusters: one shared by every cluster, plus one of its own for each cluster
/// whose kubeconfig sets a `proxy-url` or `tls-server-name` (async-http-client sets those per client, not per
/// request). The owner calls ``shutdown()`` once, after the collectors stopped.
package final class KubernetesHTTPClients: Sendable {
    /// The client of clusters without special connection settings.
    package let shared: HTTPClient
    private let own: Mutex<[HTTPClient]> = Mutex([])

    package init() {
        shared = KubernetesClient.makeHTTPClient()
    }

    /// The client for `config`: the shared one, or a new one of its own.
    package func client(for config: KubernetesConnectionConfig) -> HTTPClient {
        guard config.needsOwnHTTPClient else { return shared }
        let client = KubernetesClient.makeHTTPClient(for: config)
        own.withLock { $0.append(client) }
        return client
    }

    /// Shuts every client down.
    package func shutdown() async {
        let clients = own.withLock { clients in
            defer { clients.removeAll() }
            return clients
        }
        for client in clients + [shared] {
            try? await client.shutdown()
        }
    }
}
