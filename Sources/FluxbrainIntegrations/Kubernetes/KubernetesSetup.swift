import FluxbrainCore
import Foundation
import Logging

extension MultiClusterCollector {
    /// Builds one client and collector per named cluster (from ``KubernetesClusters/resolve(cluster:clusters:kubeAPIURL:environment:homeDirectory:serviceAccountDirectory:)``)
    /// sharing `httpClient`.
    ///
    /// - Throws: `KubernetesError.config` when a cluster's CA or client certificate cannot be parsed.
    package static func make(
        clusters: [KubernetesClusters.Named], httpClient: KubernetesHTTPClient,
        options: CollectorOptions = CollectorOptions(), clientOptions: KubernetesClient.Options = KubernetesClient.Options(),
        clock: any Clock<Duration> = ContinuousClock(), logger: Logger
    ) throws(KubernetesError) -> MultiClusterCollector {
        var collectors: [ClusterCollector] = []
        for cluster in clusters {
            let client = try KubernetesClient(
                cluster: cluster.name, config: cluster.connection, httpClient: httpClient, options: clientOptions,
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
