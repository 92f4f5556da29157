import FluxbrainCore
import Foundation
import Logging

extension MultiClusterCollector {
    /// Builds one client and collector per named cluster (from ``KubernetesClusters/resolve(cluster:clusters:kubeAPIURL:environment:homeDirectory:serviceAccountDirectory:)``)
    /// with their HTTP clients from `httpClients` (a connection pool per cluster, large enough for one connection per
    /// watch plus lists and evidence requests). As in
    /// client-go, a kubeconfig `proxy-url` wins, else the proxy `proxies` names for the server (`HTTPS_PROXY`…).
    ///
    /// - Throws: `KubernetesError.config` naming the cluster whose CA or client certificate cannot be parsed.
    package static func make(
        clusters: [KubernetesClusters.Named],
        httpClients: HTTPClients,
        proxies: ProxyEnvironment = .none,
        options: CollectorOptions = CollectorOptions(),
        clientOptions: KubernetesClient.Options = KubernetesClient.Options(),
        clock: any Clock<Duration> = ContinuousClock(),
        logger: Logger
    ) throws(KubernetesError) -> MultiClusterCollector {
        // One connection per watch (kinds × namespaces), with room for lists and evidence requests beside them.
        let watches = options.kinds.count * max(1, options.namespaces.count)
        let connections = max(
            KubernetesClient.httpConfiguration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit,
            watches + 16
        )
        var collectors: [ClusterCollector] = []
        for cluster in clusters {
            var connection = cluster.connection
            if connection.proxy == nil { connection.proxy = proxies.proxy(for: connection.server) }
            let client: KubernetesClient
            do {
                client = try KubernetesClient(
                    cluster: cluster.name,
                    config: connection,
                    httpClient: httpClients.client(for: connection, cluster: cluster.name, connections: connections),
                    options: clientOptions,
                    clock: clock,
                    logger: logger
                )
            } catch {
                throw KubernetesError(
                    error.code,
                    "cluster \(cluster.name): \(error.message)",
                    underlying: error.underlying
                )
            }
            collectors.append(ClusterCollector(client: client, options: options, clock: clock, logger: logger))
        }
        return MultiClusterCollector(collectors: collectors)
    }

    /// The clients by cluster name (for the ``EvidenceCollector``).
    package var clients: [String: KubernetesClient] {
        Dictionary(uniqueKeysWithValues: collectors.map { ($0.cluster, $0.client) })
    }
}
