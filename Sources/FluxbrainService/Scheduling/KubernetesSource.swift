import FluxbrainCore
import FluxbrainIntegrations
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Live Kubernetes API servers as an incident source: every cluster's informer cache (list + watch), assessed by
/// the shared detector; new incidents enriched with events and controller logs.
///
/// A cluster that is not healthy (unreachable, forbidden, still connecting) is left out of a pass, so its open
/// incidents are neither resolved nor re-fired on stale or missing data; `/readyz` shows its state.
package final class KubernetesSource: IncidentSource, Sendable {
    private let collectors: MultiClusterCollector
    private let evidence: EvidenceCollector
    private let detector: Detector
    private let mode: Mode
    private let signal = ChangeSignal()
    private let logger: Logger

    /// How objects are read.
    package enum Mode: Sendable {
        /// From the caches kept current by `collectorService` (continuous runs).
        case watch
        /// One paginated list of every kind per pass (`once` runs).
        case list
    }

    package init(
        collectors: MultiClusterCollector,
        evidence: EvidenceCollector,
        detector: Detector,
        mode: Mode,
        logger: Logger
    ) {
        self.collectors = collectors
        self.evidence = evidence
        self.detector = detector
        self.mode = mode
        self.logger = logger
    }

    /// Builds the clusters from the configuration: `FLUXBRAIN_KUBE_API_URL`, `FLUXBRAIN_CLUSTERS` contexts, in-cluster,
    /// or the kubeconfig's current context.
    package static func make(
        configuration: FluxbrainConfiguration,
        httpClients: HTTPClients,
        detector: Detector,
        mode: Mode,
        logger: Logger
    ) throws -> KubernetesSource {
        let named: [KubernetesClusters.Named]
        do {
            named = try KubernetesClusters.resolve(
                cluster: configuration.cluster,
                clusters: configuration.clusters,
                kubeAPIURL: configuration.kubeAPIURL
            )
        } catch {
            let variable =
                configuration.kubeAPIURL != nil
                ? "FLUXBRAIN_KUBE_API_URL"
                : (configuration.clusters.isEmpty ? "FLUXBRAIN_CLUSTER" : "FLUXBRAIN_CLUSTERS")
            throw ConfigurationError(variable: variable, message: error.description)
        }
        var options = CollectorOptions()
        options.namespaces = configuration.namespaces
        let multi: MultiClusterCollector
        do {
            multi = try MultiClusterCollector.make(
                clusters: named,
                httpClients: httpClients,
                proxies: configuration.proxies,
                options: options,
                logger: logger
            )
        } catch {
            throw ConfigurationError(variable: "FLUXBRAIN_CLUSTERS", message: error.description)
        }
        let evidence = EvidenceCollector(
            clients: multi.clients,
            fluxNamespace: configuration.fluxNamespace,
            collectLogs: configuration.collectLogs,
            logger: logger
        )
        return KubernetesSource(collectors: multi, evidence: evidence, detector: detector, mode: mode, logger: logger)
    }

    /// Assesses every cluster that can be judged. A cluster whose kinds all fail (unreachable), or that has not
    /// listed every kind yet, is left out. A kind that fails on its own (a 403 for one resource, say) leaves out
    /// only that kind's objects: the cluster's other incidents still fire and resolve, while incidents of the
    /// left-out kind stay open, undecided, until it can be read again.
    package func assess(now: Date) async throws -> SourceAssessment {
        // This pass sees every change announced so far: only later ones make the scheduler wait less.
        signal.clear()
        if mode == .list {
            for collection in await collectors.collectOnce() where !collection.failures.isEmpty {
                logger.warning(
                    collection.isUnreachable
                        ? "cluster could not be listed; skipped" : "cluster judged without the kinds it could not list",
                    metadata: [
                        "cluster": "\(collection.cluster)",
                        "errors":
                            "\(collection.failures.map { "\($0.kind.plural): \($0.error)" }.joined(separator: "; "))",
                    ]
                )
            }
        }
        var result = SourceAssessment(clusters: [])
        for collector in collectors.collectors {
            guard let assessable = await collector.assessableSnapshot() else {
                logger.debug(
                    "cluster skipped in this pass: not every kind listed yet",
                    metadata: ["cluster": "\(collector.cluster)"]
                )
                result.unread.append("cluster \(collector.cluster): not every kind listed yet")
                continue
            }
            result.unread += assessable.leftOut.map { "cluster \(collector.cluster): \($0.part): \($0.reason)" }
            guard assessable.isReadable else {
                logger.debug(
                    "cluster skipped in this pass: no kind can be read",
                    metadata: ["cluster": "\(collector.cluster)"]
                )
                continue
            }
            if !assessable.leftOut.isEmpty {
                logger.debug(
                    "cluster judged without the kinds it cannot read",
                    metadata: [
                        "cluster": "\(collector.cluster)",
                        "left_out": "\(assessable.leftOut.map(\.part).joined(separator: ", "))",
                    ]
                )
            }
            result.clusters.append(
                ClusterAssessment(
                    cluster: collector.cluster,
                    assessment: detector.assess(assessable.objects, cluster: collector.cluster, now: now)
                )
            )
        }
        return result
    }

    package func enrich(_ incidents: [Incident]) async -> [Incident] {
        await evidence.enrich(incidents)
    }

    package func waitForChange(timeout: Duration) async throws {
        await signal.wait(timeout: timeout)
    }

    /// Readiness detail per cluster.
    package func readiness() async -> [ReadinessCheck] {
        await collectors.health().sorted { $0.key < $1.key }.map { cluster, health in
            // A failing cluster is reported but does not make the replica unready: the others still work.
            ReadinessCheck(name: "cluster \(cluster)", ok: true, detail: health.description)
        }
    }

    /// The long-running list/watch loops, as a service (continuous runs).
    package var collectorService: some Service { CollectorService(source: self) }

    fileprivate func runCollectors() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.collectors.run() }
            group.addTask {
                for await _ in self.collectors.changes { self.signal.notify() }
            }
            await group.waitForAll()
        }
    }
}

private struct CollectorService: Service {
    let source: KubernetesSource

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            await source.runCollectors()
        }
    }
}

/// Wakes waiters when a watch event arrived.
final class ChangeSignal: Sendable {
    private struct State {
        var pending = false
        var waiters: [UUID: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    func notify() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            if state.waiters.isEmpty {
                state.pending = true
                return []
            }
            let all = Array(state.waiters.values)
            state.waiters.removeAll()
            return all
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Forgets a change nobody waited for (the caller is about to look at everything).
    func clear() {
        state.withLock { $0.pending = false }
    }

    func wait(timeout: Duration) async {
        let id = UUID()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await Task.sleep(for: timeout)
                self.resume(id)
            }
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    if state.pending {
                        state.pending = false
                        return true
                    }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
            group.cancelAll()
        }
    }

    private func resume(_ id: UUID) {
        state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
    }
}
