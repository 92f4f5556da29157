import FluxbrainCore
import Foundation
import Logging
import Metrics

/// How a cluster's collection is doing, for logs, metrics and readiness.
package enum ClusterHealth: Sendable, Hashable, CustomStringConvertible {
    /// Not every kind has been listed yet, and nothing failed.
    case connecting
    /// Every kind is listed and watched (kinds whose CRD is missing are skipped, not failures).
    case healthy
    /// At least one kind cannot be listed or watched; the message says why. The other kinds are still judged
    /// (``ClusterCollector/assessableSnapshot()``).
    case failing(String)

    package var description: String {
        switch self {
        case .connecting: "connecting"
        case .healthy: "healthy"
        case .failing(let message): "failing: \(message)"
        }
    }

    package var isHealthy: Bool { self == .healthy }
}

/// Settings of the collectors.
package struct CollectorOptions: Sendable {
    /// Kinds to list and watch (default: all ten at their current versions).
    package var kinds: [FluxKind] = FluxKind.all
    /// `FLUXBRAIN_NAMESPACES`: namespaces to watch; empty = all (cluster-wide requests).
    package var namespaces: [String] = []
    /// Items per list page (`limit`).
    package var pageSize: Int = 500
    /// `timeoutSeconds` of a watch, chosen at random in this range (client-go: 300…600).
    package var watchTimeoutSeconds: ClosedRange<Int> = 300...600
    /// Backoff after errors (800 ms × 2 up to 30 s, full jitter).
    package var backoff = Backoff.kubernetesWatch
    /// How often a kind whose CRD is not installed is checked again (default 5 minutes).
    package var crdRecheckInterval: Duration = .seconds(300)

    package init() {}
}

/// A kind that could not be read in one collection, and why.
package struct KindFailure: Sendable {
    package var kind: FluxKind
    package var namespace: String?
    package var error: KubernetesError
}

/// A skipped list item or watch object.
package struct MalformedObject: Sendable, Hashable {
    package var kind: FluxKind
    package var item: ObjectList.MalformedItem
}

/// Every Flux object of one cluster read once (`fluxbrain once`).
package struct ClusterCollection: Sendable {
    package var cluster: String
    package var objects: [FluxObject]
    /// Items that did not decode, skipped.
    package var malformed: [MalformedObject]
    /// Kinds whose CRD is not installed (skipped with a warning).
    package var missingKinds: [FluxKind]
    /// Kinds that failed for another reason (unreachable, forbidden, …).
    package var failures: [KindFailure]

    /// `true` when no kind could be read at all: the cluster is down or refuses us.
    package var isUnreachable: Bool {
        objects.isEmpty && !failures.isEmpty && missingKinds.isEmpty && malformed.isEmpty
    }
}

/// Collects the Flux objects of one cluster: per kind (and per namespace when scoped) an informer-like loop lists
/// page by page, watches from the list's resourceVersion with bookmarks, watches again when the stream ends, lists
/// again after a 410 `Expired`, and backs off with jitter on errors. A kind whose CRD is not installed is skipped
/// with one warning and checked again every `crdRecheckInterval`.
///
/// The cache is exposed through ``snapshot()``; every object that was added, changed or deleted is announced on
/// ``changes``.
package actor ClusterCollector {
    /// The cluster's name.
    package nonisolated let cluster: String
    /// References of objects added, modified or deleted (by watch or relist). One consumer.
    package nonisolated let changes: AsyncStream<ObjectReference>
    private let continuation: AsyncStream<ObjectReference>.Continuation
    package nonisolated let client: KubernetesClient
    private let options: CollectorOptions
    private let clock: any Clock<Duration>
    private let logger: Logger

    /// The objects, each in its own box: a `FluxObject` is several hundred bytes inline, and a dictionary keeps
    /// up to twice as many value slots as entries, so boxed values cost one pointer per slot instead.
    private var cache: [ObjectReference: CachedObject] = [:]
    /// Label keys, condition reasons and the like, stored once for the whole cache.
    private var strings = StringPool()
    private var loops: [LoopKey: LoopState] = [:]
    private var warnedMissing: Set<LoopKey> = []

    private struct LoopKey: Hashable, Sendable, CustomStringConvertible {
        var kind: FluxKind
        var namespace: String?
        var description: String { namespace.map { "\(kind.plural) in \($0)" } ?? kind.plural }
    }

    private enum LoopState: Sendable {
        case starting
        case running
        case missing
        case failing(String)
    }

    package init(
        client: KubernetesClient,
        options: CollectorOptions = CollectorOptions(),
        clock: any Clock<Duration> = ContinuousClock(),
        logger: Logger
    ) {
        self.cluster = client.cluster
        self.client = client
        self.options = options
        self.clock = clock
        var logger = logger
        logger[metadataKey: "cluster"] = "\(client.cluster)"
        self.logger = logger
        (changes, continuation) = AsyncStream.makeStream(
            of: ObjectReference.self,
            bufferingPolicy: .bufferingNewest(100_000)
        )
        for key in Self.keys(options) { loops[key] = .starting }
        Gauge(label: "fluxbrain_cluster_up", dimensions: [("cluster", cluster)]).record(0)
    }

    private static func keys(_ options: CollectorOptions) -> [LoopKey] {
        let namespaces: [String?] = options.namespaces.isEmpty ? [nil] : options.namespaces.map { $0 }
        return options.kinds.flatMap { kind in namespaces.map { LoopKey(kind: kind, namespace: $0) } }
    }

    // MARK: Reading

    /// Every cached object, in a stable order.
    package func snapshot() -> [FluxObject] {
        cache.keys.sorted().compactMap { cache[$0]?.object }
    }

    /// The cached object, if present.
    package func object(_ reference: ObjectReference) -> FluxObject? {
        cache[reference]?.object
    }

    /// The number of cached objects.
    package var count: Int { cache.count }

    /// What the scheduler can judge at one moment (``ClusterCollector/assessableSnapshot()``).
    package struct Assessable: Sendable {
        /// A part of the cluster that cannot be read now: `gitrepositories` or `kustomizations in team-a`, and why.
        package struct LeftOut: Sendable, Hashable {
            package var part: String
            package var reason: String
        }

        /// The cached objects, without those of the parts left out, in no particular order.
        package var objects: CachedObjects
        /// Kinds (per namespace) that fail to list or watch right now, in order.
        package var leftOut: [LeftOut]
        /// `false` when no kind can be read at all (unreachable, refused): then nothing is known.
        package var isReadable: Bool
    }

    /// What the scheduler can judge now: the cached objects without those of kinds (per namespace) that currently
    /// fail to list or watch — their cache may be stale, so their incidents must be neither fired nor resolved —
    /// and what is left out, with why. `nil` until every kind has been listed once (a partial first look would
    /// report objects whose upstream is simply not listed yet).
    package func assessableSnapshot() -> Assessable? {
        var failing: [(key: LoopKey, reason: String)] = []
        var readable = false
        for (key, state) in loops {
            switch state {
            case .starting: return nil
            case .failing(let reason): failing.append((key, reason))
            case .running, .missing: readable = true
            }
        }
        failing.sort { $0.key.description < $1.key.description }
        // The boxes, not copies of the objects: a pass reads each object once, where it is.
        var boxes: [CachedObject] = []
        boxes.reserveCapacity(cache.count)
        for (reference, box) in cache
        where !failing.contains(where: {
            $0.key.kind == reference.kind && ($0.key.namespace == nil || $0.key.namespace == reference.namespace)
        }) {
            boxes.append(box)
        }
        return Assessable(
            objects: CachedObjects(boxes: boxes),
            leftOut: failing.map { .init(part: $0.key.description, reason: $0.reason) },
            isReadable: readable
        )
    }

    /// How the collection is doing.
    package var health: ClusterHealth {
        var failing: [String] = []
        var starting = false
        for (key, state) in loops.sorted(by: { $0.key.description < $1.key.description }) {
            switch state {
            case .starting: starting = true
            case .failing(let message): failing.append("\(key): \(message)")
            case .running, .missing: break
            }
        }
        if !failing.isEmpty {
            return .failing(failing.count == 1 ? failing[0] : "\(failing[0]) (and \(failing.count - 1) more)")
        }
        return starting ? .connecting : .healthy
    }

    /// Kinds whose CRD is currently missing.
    package var missingKinds: [FluxKind] {
        var kinds: Set<FluxKind> = []
        for (key, state) in loops {
            if case .missing = state { kinds.insert(key.kind) }
        }
        return kinds.sorted()
    }

    // MARK: One-shot

    /// Lists every kind once (no watch) and returns what was found; fills the cache too. Never throws for one
    /// kind: failures are in the result.
    package func collectOnce() async -> ClusterCollection {
        let client = self.client
        let pageSize = options.pageSize
        let keys = Self.keys(options)
        let results = await withTaskGroup(of: (LoopKey, Result<KubernetesClient.ListResult, KubernetesError>).self) {
            group in
            for key in keys {
                group.addTask {
                    do {
                        return (
                            key, .success(try await client.list(key.kind, namespace: key.namespace, pageSize: pageSize))
                        )
                    } catch let error as KubernetesError {
                        return (key, .failure(error))
                    } catch {
                        return (key, .failure(KubernetesError(.transport, "\(error)", underlying: error)))
                    }
                }
            }
            var results: [(LoopKey, Result<KubernetesClient.ListResult, KubernetesError>)] = []
            for await result in group { results.append(result) }
            return results
        }
        var collection = ClusterCollection(cluster: cluster, objects: [], malformed: [], missingKinds: [], failures: [])
        for (key, result) in results.sorted(by: { $0.0.description < $1.0.description }) {
            switch result {
            case .success(let list):
                replace(key, with: list.objects)
                collection.malformed.append(
                    contentsOf: list.malformed.map { MalformedObject(kind: key.kind, item: $0) }
                )
                countMalformed(key.kind, list.malformed.count)
                loops[key] = .running
            case .failure(let error) where error.code == .crdNotInstalled:
                if !collection.missingKinds.contains(key.kind) { collection.missingKinds.append(key.kind) }
                noteMissing(key, error)
            case .failure(let error):
                collection.failures.append(KindFailure(kind: key.kind, namespace: key.namespace, error: error))
                // The readable line: what, why (the transport's reason) and which setting to check.
                loops[key] = .failing(error.description)
                logger.warning("cannot list \(key)", metadata: ["error": .error(error)])
            }
        }
        collection.objects = snapshot()
        updateGauge()
        return collection
    }

    // MARK: Continuous

    /// Lists and watches every kind until cancelled; errors are retried with backoff, never thrown.
    package func run() async {
        let keys = Self.keys(options)
        await withTaskGroup(of: Void.self) { group in
            for key in keys {
                group.addTask { await self.informer(key) }
            }
            await group.waitForAll()
        }
        continuation.finish()
    }

    private nonisolated func informer(_ key: LoopKey) async {
        var backoff = options.backoff
        var resourceVersion: String?
        var expiredInARow = 0
        let kindName = key.kind.name
        while !Task.isCancelled {
            do {
                if resourceVersion == nil {
                    // In a child task: this task lives as long as the watch, and would keep the list's deep stack.
                    let (client, pageSize) = (client, options.pageSize)
                    let list = try await inChildTask {
                        try await client.list(key.kind, namespace: key.namespace, pageSize: pageSize)
                    }
                    await listed(key, list)
                    resourceVersion = list.resourceVersion
                    expiredInARow = 0
                }
                let timeout = Int.random(in: options.watchTimeoutSeconds)
                var current = resourceVersion ?? ""
                defer { resourceVersion = current }
                try await client.watch(
                    key.kind,
                    namespace: key.namespace,
                    resourceVersion: current,
                    timeoutSeconds: timeout
                ) { event in
                    if let version = await self.apply(event, key: key) { current = version }
                }
                // A clean end of the stream: watch again from the last resourceVersion.
                backoff.reset()
                countRestart(kindName)
            } catch let error as KubernetesError where error.code == .expired {
                logger.debug("\(key): resourceVersion expired, listing again")
                resourceVersion = nil
                countRestart(kindName)
                expiredInARow += 1
                if expiredInARow > 1 {
                    // Expired again before a list completed (e.g. continue tokens expiring): do not spin.
                    do { try await clock.sleep(for: backoff.next()) } catch { return }
                }
            } catch let error as KubernetesError where error.code == .crdNotInstalled {
                resourceVersion = nil
                await noteMissing(key, error)
                do { try await clock.sleep(for: options.crdRecheckInterval) } catch { return }
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                let message = "\(error)"
                // List again once the server answers: events may have been missed while it was away.
                resourceVersion = nil
                await failed(key, message)
                countRestart(kindName)
                let delay = backoff.next()
                logger.warning(
                    "\(key): \(message); retrying in \(delay.formattedShort)",
                    metadata: ["kind": "\(kindName)"]
                )
                do { try await clock.sleep(for: delay) } catch { return }
            }
        }
    }

    private func listed(_ key: LoopKey, _ list: KubernetesClient.ListResult) {
        replace(key, with: list.objects)
        countMalformed(key.kind, list.malformed.count)
        for item in list.malformed {
            logger.warning("skipping a malformed \(key.kind.name): \(item)")
        }
        if case .missing = loops[key] {
            logger.notice("\(key): the CRD is installed now")
        }
        warnedMissing.remove(key)
        loops[key] = .running
        updateGauge()
    }

    /// Applies one watch event; returns the resourceVersion to resume from.
    private func apply(_ event: WatchEvent, key: LoopKey) -> String? {
        switch event {
        case .added(let object), .modified(let object):
            guard let reference = object.reference(cluster: cluster) else { return object.metadata.resourceVersion }
            cache[reference] = CachedObject(object.cached(with: &strings))
            continuation.yield(reference)
            return object.metadata.resourceVersion
        case .deleted(let object):
            guard let reference = object.reference(cluster: cluster) else { return object.metadata.resourceVersion }
            if cache.removeValue(forKey: reference) != nil { continuation.yield(reference) }
            return object.metadata.resourceVersion
        case .bookmark(let resourceVersion):
            return resourceVersion.isEmpty ? nil : resourceVersion
        case .malformed(let type, let name, let namespace, let resourceVersion, let reason):
            countMalformed(key.kind, 1)
            logger.warning(
                "skipping a malformed \(key.kind.name) watch event \(type) \(namespace ?? "")/\(name ?? "?"): \(reason)"
            )
            return resourceVersion
        case .error:
            return nil  // the client throws for ERROR events
        }
    }

    /// Replaces the cached objects of `key` by `objects`, announcing what changed.
    private func replace(_ key: LoopKey, with objects: [FluxObject]) {
        var seen: Set<ObjectReference> = []
        seen.reserveCapacity(objects.count)
        for object in objects {
            guard let reference = object.reference(cluster: cluster), reference.kind == key.kind else { continue }
            seen.insert(reference)
            let previous = cache[reference]?.object
            cache[reference] = CachedObject(object.cached(with: &strings))
            if previous == nil || previous?.metadata.resourceVersion != object.metadata.resourceVersion
                || object.metadata.resourceVersion == nil
            {
                continuation.yield(reference)
            }
        }
        for reference in cache.keys
        where reference.kind == key.kind && (key.namespace == nil || reference.namespace == key.namespace)
            && !seen.contains(reference)
        {
            cache[reference] = nil
            continuation.yield(reference)
        }
    }

    private func noteMissing(_ key: LoopKey, _ error: KubernetesError) {
        if !warnedMissing.contains(key) {
            warnedMissing.insert(key)
            logger.warning(
                "\(key.kind.name) (\(key.kind.apiVersion)) is not served: skipping it and checking again in \(options.crdRecheckInterval.formattedShort)",
                metadata: ["kind": "\(key.kind.name)"]
            )
        }
        // Objects of a kind that disappeared are gone.
        replace(key, with: [])
        loops[key] = .missing
        updateGauge()
    }

    private func failed(_ key: LoopKey, _ message: String) {
        loops[key] = .failing(message)
        updateGauge()
    }

    private func updateGauge() {
        Gauge(label: "fluxbrain_cluster_up", dimensions: [("cluster", cluster)]).record(health.isHealthy ? 1 : 0)
    }

    private nonisolated func countRestart(_ kind: String) {
        Counter(label: "fluxbrain_kube_watch_restarts_total", dimensions: [("cluster", cluster), ("kind", kind)])
            .increment()
    }

    private nonisolated func countMalformed(_ kind: FluxKind, _ count: Int) {
        guard count > 0 else { return }
        Counter(
            label: "fluxbrain_kube_objects_malformed_total",
            dimensions: [("cluster", cluster), ("kind", kind.name)]
        )
        .increment(by: count)
    }
}

/// Cached objects as a pass reads them (``ClusterCollector/assessableSnapshot()``): the cache's boxes, each
/// object read in place, so a pass does not copy every cached object.
package struct CachedObjects: RandomAccessCollection, Sendable {
    fileprivate let boxes: [CachedObject]

    package var startIndex: Int { boxes.startIndex }
    package var endIndex: Int { boxes.endIndex }
    package subscript(position: Int) -> FluxObject { boxes[position].object }
}

/// One cached object, boxed (``ClusterCollector``'s cache).
private final class CachedObject: Sendable {
    let object: FluxObject

    init(_ object: FluxObject) {
        self.object = object
    }
}
