/// Identifies one Flux object in one cluster: `cluster`, kind, namespace and name.
package struct ObjectReference: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    /// The cluster name Fluxbrain was configured with (`FLUXBRAIN_CLUSTER` or a `FLUXBRAIN_CLUSTERS` entry).
    package var cluster: String
    package var kind: FluxKind
    package var namespace: String
    package var name: String

    package init(cluster: String, kind: FluxKind, namespace: String, name: String) {
        self.cluster = cluster
        self.kind = kind
        self.namespace = namespace
        self.name = name
    }

    /// `Kind/namespace/name`, the way people name Flux objects in conversation.
    package var description: String { "\(kind.name)/\(namespace)/\(name)" }

    /// `namespace/name`.
    package var namespacedName: String { "\(namespace)/\(name)" }

    package static func < (lhs: ObjectReference, rhs: ObjectReference) -> Bool {
        (lhs.cluster, lhs.kind.name, lhs.namespace, lhs.name) < (rhs.cluster, rhs.kind.name, rhs.namespace, rhs.name)
    }
}
