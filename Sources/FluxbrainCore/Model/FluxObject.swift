import Foundation

/// A Flux object as the Kubernetes API serves it, decoded tolerantly: unknown fields are ignored and every field
/// Fluxbrain reads is optional, so one odd object never breaks a list.
package struct FluxObject: Sendable, Equatable {
    package var apiVersion: String?
    package var kind: String
    package var metadata: ObjectMeta
    package var spec: Spec?
    package var status: Status?
    /// The object's `status` exactly as served, kept as evidence. `ObjectList(json:)` (the Kubernetes list path)
    /// leaves it `nil` for objects that cannot fail (`Ready=True`, no `Stalled`/`Reconciling`); every other path
    /// keeps it.
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

    /// Kubernetes object metadata, the part Fluxbrain reads.
    package struct ObjectMeta: Sendable, Codable, Hashable {
        package var name: String
        package var namespace: String?
        package var uid: String?
        package var generation: Int64?
        package var resourceVersion: String?
        package var labels: [String: String]?
        package var annotations: [String: String]?
        package var creationTimestamp: String?
        package var deletionTimestamp: String?

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

    /// The fields of `spec` Fluxbrain reads.
    package struct Spec: Sendable, Decodable, Equatable {
        package var suspend: Bool?
        package var interval: String?
        package var retryInterval: String?
        package var timeout: String?
        package var path: String?
        package var url: String?
        package var sourceRef: SourceReference?
        package var chartRef: SourceReference?
        package var chart: ChartTemplate?
        package var dependsOn: [Dependency]?
        package var releaseName: String?
        package var targetNamespace: String?
        /// An ImagePolicy's ImageRepository (`{name, namespace?}`, no kind).
        package var imageRepositoryRef: NamedReference?

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

    /// A source artifact.
    package struct Artifact: Sendable, Codable, Hashable {
        package var revision: String?
        package var digest: String?
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

    /// The fields of `status` Fluxbrain reads.
    package struct Status: Sendable, Decodable, Equatable {
        package var observedGeneration: Int64?
        package var conditions: [Condition]?
        package var lastAppliedRevision: String?
        package var lastAttemptedRevision: String?
        package var artifact: Artifact?
        package var lastAttemptedReleaseAction: String?
        package var helmChart: String?
        package var failures: Int64?
        package var installFailures: Int64?
        package var upgradeFailures: Int64?
        /// HelmRelease history; Kustomization history has another shape and is only kept in `rawStatus`.
        package var helmHistory: [HelmSnapshot]?

        private enum CodingKeys: String, CodingKey {
            case observedGeneration, conditions, lastAppliedRevision, lastAttemptedRevision, artifact
            case lastAttemptedReleaseAction, helmChart, failures, installFailures, upgradeFailures, history
        }

        package init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            observedGeneration = try container.decodeIfPresent(Int64.self, forKey: .observedGeneration)
            conditions = try container.decodeIfPresent([Condition].self, forKey: .conditions)
            lastAppliedRevision = try container.decodeIfPresent(String.self, forKey: .lastAppliedRevision)
            lastAttemptedRevision = try container.decodeIfPresent(String.self, forKey: .lastAttemptedRevision)
            artifact = try container.decodeIfPresent(Artifact.self, forKey: .artifact)
            lastAttemptedReleaseAction = try container.decodeIfPresent(String.self, forKey: .lastAttemptedReleaseAction)
            helmChart = try container.decodeIfPresent(String.self, forKey: .helmChart)
            failures = try container.decodeIfPresent(Int64.self, forKey: .failures)
            installFailures = try container.decodeIfPresent(Int64.self, forKey: .installFailures)
            upgradeFailures = try container.decodeIfPresent(Int64.self, forKey: .upgradeFailures)
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
