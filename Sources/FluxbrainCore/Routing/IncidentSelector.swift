/// What routes and silences match an incident on: its object, the Flux object's labels, its state and message.
package struct RoutingSubject: Sendable, Hashable {
    package var cluster: String
    package var kind: String
    package var namespace: String
    package var name: String
    /// The Flux object's `metadata.labels`.
    package var labels: [String: String]
    package var state: FailureState
    /// The condition message, as notified.
    package var message: String

    package init(
        cluster: String,
        kind: String,
        namespace: String,
        name: String,
        labels: [String: String] = [:],
        state: FailureState,
        message: String = ""
    ) {
        self.cluster = cluster
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.labels = labels
        self.state = state
        self.message = message
    }
}

/// A set of field conditions on a ``RoutingSubject``: every given field must match; a field's list is "any of";
/// a field left `nil` matches everything. Labels: every given key must be present with a matching value.
///
/// The `match:` and `exclude:` blocks of a route, and the `--match` of a silence.
package struct IncidentSelector: Sendable, Hashable, Codable {
    package var clusters: [Glob]?
    package var kinds: [Glob]?
    package var namespaces: [Glob]?
    package var names: [Glob]?
    package var labels: [String: Glob]?
    package var states: [FailureState]?

    package init(
        clusters: [Glob]? = nil,
        kinds: [Glob]? = nil,
        namespaces: [Glob]? = nil,
        names: [Glob]? = nil,
        labels: [String: Glob]? = nil,
        states: [FailureState]? = nil
    ) {
        self.clusters = clusters
        self.kinds = kinds
        self.namespaces = namespaces
        self.names = names
        self.labels = labels
        self.states = states
    }

    /// `true` when no field is given (matches everything).
    package var isEmpty: Bool {
        clusters == nil && kinds == nil && namespaces == nil && names == nil && labels == nil && states == nil
    }

    /// `true` if every given field matches `subject`.
    package func matches(_ subject: RoutingSubject) -> Bool {
        if let clusters, !Glob.any(clusters, match: subject.cluster) { return false }
        if let kinds, !Glob.any(kinds, match: subject.kind) { return false }
        if let namespaces, !Glob.any(namespaces, match: subject.namespace) { return false }
        if let names, !Glob.any(names, match: subject.name) { return false }
        if let states, !states.contains(subject.state) { return false }
        if let labels {
            for (key, glob) in labels {
                guard let value = subject.labels[key], glob.matches(value) else { return false }
            }
        }
        return true
    }

    /// `true` if any one given field matches `subject` on its own (a label: any one given key present with a
    /// matching value). The `exclude:` block of a route: `{names: ["*-canary"], kinds: [Bucket]}` excludes canaries
    /// and Buckets.
    package func matchesAny(_ subject: RoutingSubject) -> Bool {
        if let clusters, Glob.any(clusters, match: subject.cluster) { return true }
        if let kinds, Glob.any(kinds, match: subject.kind) { return true }
        if let namespaces, Glob.any(namespaces, match: subject.namespace) { return true }
        if let names, Glob.any(names, match: subject.name) { return true }
        if let states, states.contains(subject.state) { return true }
        if let labels {
            for (key, glob) in labels {
                if let value = subject.labels[key], glob.matches(value) { return true }
            }
        }
        return false
    }
}

extension RoutingSubject {
    /// What routes and silences see of `incident`: its object, labels, state and message.
    package init(_ incident: Incident) {
        self.init(
            cluster: incident.object.cluster,
            kind: incident.object.kind.name,
            namespace: incident.object.namespace,
            name: incident.object.name,
            labels: incident.labels ?? [:],
            state: incident.state,
            message: incident.message
        )
    }
}
