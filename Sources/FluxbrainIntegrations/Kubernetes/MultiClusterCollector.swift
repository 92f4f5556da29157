import FluxbrainCore
import Foundation
import Logging

/// Several clusters collected side by side. A cluster that is unreachable or misconfigured only affects itself:
/// its health says so, the others go on.
package struct MultiClusterCollector: Sendable {
    /// One collector per cluster, in configuration order.
    package let collectors: [ClusterCollector]
    /// Changed objects of every cluster (the reference carries the cluster). One consumer; only delivers while
    /// ``run()`` runs.
    package let changes: AsyncStream<ObjectReference>
    private let continuation: AsyncStream<ObjectReference>.Continuation

    package init(collectors: [ClusterCollector]) {
        precondition(Set(collectors.map(\.cluster)).count == collectors.count, "cluster names must be unique")
        self.collectors = collectors
        (changes, continuation) = AsyncStream.makeStream(
            of: ObjectReference.self,
            bufferingPolicy: .bufferingNewest(100_000)
        )
    }

    /// The collector of `cluster`.
    package func collector(_ cluster: String) -> ClusterCollector? {
        collectors.first { $0.cluster == cluster }
    }

    /// Runs every collector until cancelled, forwarding their changes to ``changes``.
    package func run() async {
        let continuation = self.continuation
        await withTaskGroup(of: Void.self) { group in
            for collector in collectors {
                group.addTask { await collector.run() }
                group.addTask {
                    for await reference in collector.changes { continuation.yield(reference) }
                }
            }
            await group.waitForAll()
        }
        continuation.finish()
    }

    /// Health per cluster name.
    package func health() async -> [String: ClusterHealth] {
        var result: [String: ClusterHealth] = [:]
        for collector in collectors { result[collector.cluster] = await collector.health }
        return result
    }

    /// Lists every cluster once, concurrently; one cluster's failure is in its own result.
    package func collectOnce() async -> [ClusterCollection] {
        await withTaskGroup(of: (Int, ClusterCollection).self) { group in
            for (index, collector) in collectors.enumerated() {
                group.addTask { (index, await collector.collectOnce()) }
            }
            var results: [(Int, ClusterCollection)] = []
            for await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }
}

/// Turns Fluxbrain's cluster settings into named connections.
package enum KubernetesClusters {
    /// A cluster name and how to reach it.
    package struct Named: Sendable {
        package var name: String
        package var connection: KubernetesConnectionConfig
    }

    /// Resolves the clusters to watch:
    /// - `kubeAPIURL` (`FLUXBRAIN_KUBE_API_URL`): one cluster at that URL without authentication, named
    ///   `cluster ?? "local"`;
    /// - `clusters` (`FLUXBRAIN_CLUSTERS="name=context,…"`): one cluster per kubeconfig context;
    /// - otherwise one cluster named `cluster` (`FLUXBRAIN_CLUSTER`): in-cluster when `KUBERNETES_SERVICE_HOST`
    ///   is set (then `cluster` is required), else the kubeconfig's current context (named after it by default).
    package static func resolve(
        cluster: String?,
        clusters: [(name: String, context: String)],
        kubeAPIURL: URL?,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        homeDirectory: String = NSHomeDirectory(),
        serviceAccountDirectory: String = KubernetesConnectionConfig.serviceAccountDirectory
    ) throws(KubernetesError) -> [Named] {
        if let kubeAPIURL {
            return [Named(name: cluster ?? "local", connection: .url(kubeAPIURL))]
        }
        if !clusters.isEmpty {
            let kubeconfig = try Kubeconfig.load(environment: environment, homeDirectory: homeDirectory)
            var result: [Named] = []
            for entry in clusters {
                result.append(Named(name: entry.name, connection: try kubeconfig.connection(context: entry.context)))
            }
            return result
        }
        if let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty {
            guard let cluster, !cluster.isEmpty else {
                throw KubernetesError(.config, "FLUXBRAIN_CLUSTER must name the cluster when running in-cluster")
            }
            return [
                Named(
                    name: cluster,
                    connection: try .inCluster(
                        environment: environment,
                        serviceAccountDirectory: serviceAccountDirectory
                    )
                )
            ]
        }
        let kubeconfig = try Kubeconfig.load(environment: environment, homeDirectory: homeDirectory)
        let connection = try kubeconfig.connection(context: nil)
        return [Named(name: cluster ?? kubeconfig.currentContext ?? "default", connection: connection)]
    }
}
