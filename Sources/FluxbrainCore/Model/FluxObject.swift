import Foundation

/// A Flux object as the Kubernetes API serves it, decoded tolerantly: unknown fields are ignored and every field
/// Fluxbrain reads is optional, so one odd object never breaks a list.
package struct FluxObject: Sendable, Equatable {
    package var apiVersion: String?
    package var kind: String
    package var metadata: ObjectMeta
    package var spec: Spec?
    package var status: Status?
    /// The object's `status` exactly as served, kept as evidence for an incident: only for objects that may fail
    /// (``mayFail``); `nil` for the others, on every path (lists, watch events, snapshots), so a watch cache does
    /// not hold the whole status (inventories, histories) of every healthy object.
    package var rawStatus: JSONValue?

    package init(
        apiVersion: String?,
        kind: String,
        metadata: ObjectMeta,
        spec: Spec?,
        status: Status?,
        rawStatus: JSONValue?
    ) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
        self.rawStatus = rawStatus
    }

    /// Kubernetes object metadata, the part Fluxbrain reads: every label, and only the `fluxbrain.io/` annotations
    /// (``keptAnnotationPrefix``; others such as `kubectl.kubernetes.io/last-applied-configuration` are dropped
    /// when the object is read, as are `uid`, `creationTimestamp` and `managedFields`, which nothing reads).
    package struct ObjectMeta: Sendable, Codable, Hashable {
        package var name: String
        package var namespace: String?
        package var generation: Int64?
        package var resourceVersion: String?
        package var labels: [String: String]?
        /// Only `fluxbrain.io/…` annotations; `nil` when the object has none.
        package var annotations: [String: String]?

        /// The annotations Fluxbrain keeps: its own.
        package static let keptAnnotationPrefix = "fluxbrain.io/"

        /// `annotations` without those Fluxbrain does not read; `nil` when none is left.
        static func kept(_ annotations: [String: String]?) -> [String: String]? {
            guard let annotations, !annotations.isEmpty else { return nil }
            let kept = annotations.filter { $0.key.hasPrefix(keptAnnotationPrefix) }
            return kept.isEmpty ? nil : kept
        }

        package init(name: String, namespace: String? = nil, generation: Int64? = nil) {
            self.name = name
            self.namespace = namespace
            self.generation = generation
        }
    }

    /// A `sourceRef` or `chartRef`.
    package struct SourceReference: Sendable, Codable, Hashable {
        package var kind: String
        package var name: String
        package var namespace: String?
        package var apiVersion: String?

        package init(kind: String, name: String, namespace: String? = nil, apiVersion: String? = nil) {
            self.kind = kind
            self.name = name
            self.namespace = namespace
            self.apiVersion = apiVersion
        }
    }

    /// A reference by name alone, e.g. an ImagePolicy's `imageRepositoryRef`.
    package struct NamedReference: Sendable, Codable, Hashable {
        package var name: String
        package var namespace: String?
    }

    /// A `dependsOn` entry.
    package struct Dependency: Sendable, Codable, Hashable {
        package var name: String
        package var namespace: String?
    }

    /// The fields of `spec` Fluxbrain reads (detection, upstream and dependency folding, what changed).
    ///
    /// `chartRef`, `chart` and `imageRepositoryRef` live in one box, absent for the kinds that have none of them:
    /// inline they made every cached object ~200 bytes larger, Kustomizations and sources included.
    package struct Spec: Sendable, Decodable, Equatable {
        package var suspend: Bool?
        package var interval: String?
        package var retryInterval: String?
        package var path: String?
        package var url: String?
        package var sourceRef: SourceReference?
        package var dependsOn: [Dependency]?
        private var rare: RareBox?

        package var chartRef: SourceReference? {
            get { rare?.fields.chartRef }
            set { updateRare { $0.chartRef = newValue } }
        }
        package var chart: ChartTemplate? {
            get { rare?.fields.chart }
            set { updateRare { $0.chart = newValue } }
        }
        /// An ImagePolicy's ImageRepository (`{name, namespace?}`, no kind).
        package var imageRepositoryRef: NamedReference? {
            get { rare?.fields.imageRepositoryRef }
            set { updateRare { $0.imageRepositoryRef = newValue } }
        }

        /// The fields only a few kinds have.
        private struct RareFields: Sendable, Equatable {
            var chartRef: SourceReference?
            var chart: ChartTemplate?
            var imageRepositoryRef: NamedReference?
        }

        /// Immutable: a change makes a new box, so copies of a `Spec` stay values.
        private final class RareBox: Sendable, Equatable {
            let fields: RareFields

            init(_ fields: RareFields) {
                self.fields = fields
            }

            static func == (lhs: RareBox, rhs: RareBox) -> Bool {
                lhs === rhs || lhs.fields == rhs.fields
            }
        }

        private mutating func updateRare(_ change: (inout RareFields) -> Void) {
            var fields = rare?.fields ?? RareFields()
            change(&fields)
            rare = fields == RareFields() ? nil : RareBox(fields)
        }

        package init() {}

        private enum CodingKeys: String, CodingKey {
            case suspend, interval, retryInterval, path, url, sourceRef, chartRef, chart, dependsOn, imageRepositoryRef
        }

        package init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            suspend = try container.decodeIfPresent(Bool.self, forKey: .suspend)
            interval = try container.decodeIfPresent(String.self, forKey: .interval)
            retryInterval = try container.decodeIfPresent(String.self, forKey: .retryInterval)
            path = try container.decodeIfPresent(String.self, forKey: .path)
            url = try container.decodeIfPresent(String.self, forKey: .url)
            sourceRef = try container.decodeIfPresent(SourceReference.self, forKey: .sourceRef)
            dependsOn = try container.decodeIfPresent([Dependency].self, forKey: .dependsOn)
            chartRef = try container.decodeIfPresent(SourceReference.self, forKey: .chartRef)
            chart = try container.decodeIfPresent(ChartTemplate.self, forKey: .chart)
            imageRepositoryRef = try container.decodeIfPresent(NamedReference.self, forKey: .imageRepositoryRef)
        }

        /// A HelmRelease's `chart` (`{spec: {…}}`); a HelmChart's `chart` is the chart name (a string), kept in
        /// `name`.
        package struct ChartTemplate: Sendable, Decodable, Equatable {
            package var spec: ChartSpec?
            /// HelmChart `spec.chart`.
            package var name: String?

            private enum CodingKeys: String, CodingKey { case spec }

            package init(spec: ChartSpec?, name: String?) {
                self.spec = spec
                self.name = name
            }

            package init(from decoder: any Decoder) throws {
                if let name = try? decoder.singleValueContainer().decode(String.self) {
                    self.name = name
                    return
                }
                let container = try decoder.container(keyedBy: CodingKeys.self)
                spec = try container.decodeIfPresent(ChartSpec.self, forKey: .spec)
            }
        }

        package struct ChartSpec: Sendable, Decodable, Equatable {
            package var chart: String?
            package var version: String?
            package var sourceRef: SourceReference?
        }
    }

    /// A `metav1.Condition`.
    package struct Condition: Sendable, Codable, Hashable {
        package var type: String
        package var status: String
        package var reason: String?
        package var message: String?
        package var lastTransitionTime: String?
        package var observedGeneration: Int64?

        package init(
            type: String,
            status: String,
            reason: String? = nil,
            message: String? = nil,
            lastTransitionTime: String? = nil,
            observedGeneration: Int64? = nil
        ) {
            self.type = type
            self.status = status
            self.reason = reason
            self.message = message
            self.lastTransitionTime = lastTransitionTime
            self.observedGeneration = observedGeneration
        }
    }

    /// A source artifact (its revision and when it was last updated; the digest, URL and size are not kept).
    package struct Artifact: Sendable, Codable, Hashable {
        package var revision: String?
        package var lastUpdateTime: String?
    }

    /// One HelmRelease `status.history` entry (a Helm release snapshot).
    package struct HelmSnapshot: Sendable, Codable, Hashable {
        package var version: Int64?
        package var status: String?
        package var action: String?
        package var chartName: String?
        package var chartVersion: String?
        package var appVersion: String?
        package var firstDeployed: String?
        package var lastDeployed: String?
    }

    /// The fields of `status` Fluxbrain reads (detection, folding, the incident and what changed); the rest of a
    /// failing object's status is in `rawStatus`.
    package struct Status: Sendable, Decodable, Equatable {
        package var observedGeneration: Int64?
        package var conditions: [Condition]?
        package var lastAppliedRevision: String?
        package var lastAttemptedRevision: String?
        package var artifact: Artifact?
        package var helmChart: String?
        /// HelmRelease history; Kustomization history has another shape and is only kept in `rawStatus`.
        package var helmHistory: [HelmSnapshot]?

        private enum CodingKeys: String, CodingKey {
            case observedGeneration, conditions, lastAppliedRevision, lastAttemptedRevision, artifact
            case helmChart, history
        }

        package init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            observedGeneration = try container.decodeIfPresent(Int64.self, forKey: .observedGeneration)
            conditions = try container.decodeIfPresent([Condition].self, forKey: .conditions)
            lastAppliedRevision = try container.decodeIfPresent(String.self, forKey: .lastAppliedRevision)
            lastAttemptedRevision = try container.decodeIfPresent(String.self, forKey: .lastAttemptedRevision)
            artifact = try container.decodeIfPresent(Artifact.self, forKey: .artifact)
            helmChart = try container.decodeIfPresent(String.self, forKey: .helmChart)
            // Only HelmRelease history entries carry a Helm release `version`; anything else is left in rawStatus.
            helmHistory = try? container.decodeIfPresent([HelmSnapshot].self, forKey: .history)?.filter {
                $0.version != nil
            }
        }

        package init(conditions: [Condition]) {
            self.conditions = conditions
        }
    }

    /// The condition of type `type`, if present.
    package func condition(_ type: String) -> Condition? {
        status?.conditions?.first { $0.type == type }
    }

    /// The Flux kind, if Fluxbrain knows it.
    package var fluxKind: FluxKind? { FluxKind.named(kind) }

    /// The reference of this object in `cluster`, if its kind is a Flux kind Fluxbrain knows.
    package func reference(cluster: String) -> ObjectReference? {
        guard let kind = fluxKind else { return nil }
        return ObjectReference(
            cluster: cluster,
            kind: kind,
            namespace: metadata.namespace ?? "default",
            name: metadata.name
        )
    }

    /// The object this one takes its artifact from: `sourceRef`, `chartRef` or `chart.spec.sourceRef`.
    /// A HelmRelease with `chart.spec` depends on the HelmChart the helm-controller generates for it.
    package func upstreamSource(cluster: String) -> ObjectReference? {
        let namespace = metadata.namespace ?? "default"
        if kind == FluxKind.helmRelease.name, let chartSpec = spec?.chart?.spec, let sourceRef = chartSpec.sourceRef {
            // The generated HelmChart lives in the source's namespace as `<hrNamespace>-<hrName>`.
            let sourceNamespace = sourceRef.namespace ?? namespace
            if let helmChart = status?.helmChart, let slash = helmChart.firstIndex(of: "/") {
                return ObjectReference(
                    cluster: cluster,
                    kind: .helmChart,
                    namespace: String(helmChart[..<slash]),
                    name: String(helmChart[helmChart.index(after: slash)...])
                )
            }
            return ObjectReference(
                cluster: cluster,
                kind: .helmChart,
                namespace: sourceNamespace,
                name: "\(namespace)-\(metadata.name)"
            )
        }
        if kind == FluxKind.imagePolicy.name, let ref = spec?.imageRepositoryRef {
            return ObjectReference(
                cluster: cluster,
                kind: .imageRepository,
                namespace: ref.namespace ?? namespace,
                name: ref.name
            )
        }
        guard let ref = spec?.sourceRef ?? spec?.chartRef ?? spec?.chart?.spec?.sourceRef,
            let kind = FluxKind.named(ref.kind)
        else { return nil }
        return ObjectReference(cluster: cluster, kind: kind, namespace: ref.namespace ?? namespace, name: ref.name)
    }

    /// The objects this one waits for through `dependsOn` (same kind as this object).
    package func dependencies(cluster: String) -> [ObjectReference] {
        guard let kind = fluxKind else { return [] }
        let namespace = metadata.namespace ?? "default"
        return (spec?.dependsOn ?? []).map {
            ObjectReference(cluster: cluster, kind: kind, namespace: $0.namespace ?? namespace, name: $0.name)
        }
    }
}

extension FluxKind {
    /// The `apiVersion` of every kind Fluxbrain knows, one string each.
    private static let sharedAPIVersions: [String: String] = Dictionary(
        all.map { ($0.apiVersion, $0.apiVersion) },
        uniquingKeysWith: { first, _ in first }
    )

    /// `apiVersion`, as the one shared string when it is a known Flux `apiVersion` (a watch cache then holds one
    /// copy, not one per object); any other value as it is.
    static func shared(apiVersion: String?) -> String? {
        guard let apiVersion else { return nil }
        return sharedAPIVersions[apiVersion] ?? apiVersion
    }
}

/// Equal strings stored once: a watch cache passes every object through one pool so that label keys, condition
/// reasons and the like, repeated across thousands of objects, are one allocation each instead of one per object;
/// likewise whole label maps (the objects one Kustomization or HelmRelease applies carry the same labels).
/// Holds at most `capacity` strings and `capacity` maps; past that, values are returned as they are.
package struct StringPool: Sendable {
    private var strings: Set<String> = []
    private var maps: Set<[String: String]> = []
    private let capacity: Int

    package init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    /// The pooled copy of `string` (added when new and there is room).
    package mutating func share(_ string: String) -> String {
        if let index = strings.firstIndex(of: string) { return strings[index] }
        if strings.count < capacity { strings.insert(string) }
        return string
    }

    package mutating func share(_ string: String?) -> String? {
        string.map { share($0) }
    }

    /// The pooled copy of `map` (added when new and there is room).
    package mutating func share(_ map: [String: String]) -> [String: String] {
        if let index = maps.firstIndex(of: map) { return maps[index] }
        if maps.count < capacity { maps.insert(map) }
        return map
    }

    /// The number of strings held.
    package var count: Int { strings.count }

    /// The number of maps held.
    package var mapCount: Int { maps.count }
}

extension FluxObject {
    /// This object with its repeated strings shared: label and annotation keys, condition types, statuses and
    /// reasons, and kind names through `pool`; revisions equal to one another as one string. The values compare
    /// equal to the original's; only storage is shared.
    package func sharingStrings(with pool: inout StringPool) -> FluxObject {
        var object = self
        object.metadata.labels = metadata.labels.map { pool.share(Self.share(keysOf: $0, with: &pool)) }
        object.metadata.annotations = metadata.annotations.map { Self.share(keysOf: $0, with: &pool) }
        if var spec = object.spec {
            if var sourceRef = spec.sourceRef {
                sourceRef.kind = pool.share(sourceRef.kind)
                spec.sourceRef = sourceRef
            }
            object.spec = spec
        }
        if var status = object.status {
            status.conditions = status.conditions?.map { condition in
                var condition = condition
                condition.type = pool.share(condition.type)
                condition.status = pool.share(condition.status)
                condition.reason = pool.share(condition.reason)
                return condition
            }
            // lastAppliedRevision, lastAttemptedRevision and the artifact's revision are usually the same text.
            if let applied = status.lastAppliedRevision {
                if status.lastAttemptedRevision == applied { status.lastAttemptedRevision = applied }
                if status.artifact?.revision == applied { status.artifact?.revision = applied }
            }
            object.status = status
        }
        return object
    }

    /// This object as a watch cache keeps it: its strings shared through `pool` (``sharingStrings(with:)``) and,
    /// when it cannot fail (``mayFail`` is `false`), without what only a failing object's incident reads: the
    /// conditions' messages and transition times, the artifact's update time and the Helm history. Detection
    /// judges the result as it judges the object; a change of the object brings its full status back.
    package func cached(with pool: inout StringPool) -> FluxObject {
        var object = sharingStrings(with: &pool)
        guard !mayFail, var status = object.status else { return object }
        status.conditions = status.conditions?.map { condition in
            var condition = condition
            condition.message = nil
            condition.lastTransitionTime = nil
            return condition
        }
        status.artifact?.lastUpdateTime = nil
        status.helmHistory = nil
        object.status = status
        return object
    }

    private static func share(keysOf map: [String: String], with pool: inout StringPool) -> [String: String] {
        var shared: [String: String] = [:]
        shared.reserveCapacity(map.count)
        for (key, value) in map { shared[pool.share(key)] = value }
        return shared
    }
}
