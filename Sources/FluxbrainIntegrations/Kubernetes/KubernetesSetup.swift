import FluxbrainCore
import Foundation
import Logging

extension MultiClusterCollector {
    /// Builds one client and collector per named cluster (from ``KubernetesClusters/resolve(cluster:clusters:kubeAPIURL:environment:homeDirectory:serviceAccountDirectory:)``)
    /// with their HTTP clients from `httpClients` (shared, or their own for a proxy or `tls-server-name`).
    ///
    /// - Throws: `KubernetesError.config` when a cluster's CA or client certificate cannot be parsed.
    package static func make(
        clusters: [KubernetesClusters.Named], httpClients: HTTPClients,
        options: CollectorOptions = CollectorOptions(), clientOptions: KubernetesClient.Options = KubernetesClient.Options(),
        clock: any Clock<Duration> = ContinuousClock(), logger: Logger
    ) throws(KubernetesError) -> MultiClusterCollector {
        var collectors: [ClusterCollector] = []
        for cluster in clusters {
            let client = try KubernetesClient(
                cluster: cluster.name, config: cluster.connection, httpClient: httpClients.client(for: cluster.connection),
                options: clientOptions,
                clock: clock, logger: logger)
            collectors.append(ClusterCollector(client: client, options: options, clock: clock, logger: logger))
        }
        return MultiClusterCollector(collectors: collectors)
    }

    /// The clients by cluster name (for the ``EvidenceCollector``).
    package var clients: [String: KubernetesClient] {
        Dictionary(uniqueKeysWithValues: collectors.map { ($0.cluster, $0.client) })
    }
}
