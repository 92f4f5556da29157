/// The annotations on a Flux object that steer its notifications.
///
/// - `fluxbrain.io/notify: "false"`: the object is tracked (incidents open and resolve, `/metrics` counts them) but
///   never notified.
/// - `fluxbrain.io/channels: "oncall,team-a"`: notify only these channels (names from the routes file), instead of
///   the channels the routes choose.
///
/// An object without them inherits each from the Kustomization that applied it (labels
/// `kustomize.toolkit.fluxcd.io/name` and `/namespace`) or the HelmRelease that generated it (a HelmChart, labels
/// `helm.toolkit.fluxcd.io/name` and `/namespace`), and so on up the chain: annotating a Kustomization steers every
/// Flux object it applies. An incident that folds other objects in (``Detector/assess(_:cluster:now:)``) is the
/// root's incident and carries the root's annotations.
package enum RoutingAnnotations {
    /// `fluxbrain.io/notify`: `"false"` opts the object out of notifications.
    package static let notify = "fluxbrain.io/notify"
    /// `fluxbrain.io/channels`: comma-separated channel names.
    package static let channels = "fluxbrain.io/channels"
    /// The prefix of the annotations an incident carries.
    package static let prefix = "fluxbrain.io/"

    /// The `fluxbrain.io/*` annotations of `annotations`, or `nil` when there are none.
    package static func carried(_ annotations: [String: String]?) -> [String: String]? {
        guard let annotations, !annotations.isEmpty else { return nil }
        let kept = annotations.filter { $0.key.hasPrefix(prefix) }
        return kept.isEmpty ? nil : kept
    }

    /// The owner labels of a Flux object: the Kustomization or HelmRelease that created it, as `Kind/ns/name`.
    static func owner(of labels: [String: String]?) -> String? {
        guard let labels else { return nil }
        if let name = labels["kustomize.toolkit.fluxcd.io/name"],
            let namespace = labels["kustomize.toolkit.fluxcd.io/namespace"]
        {
            return "Kustomization/\(namespace)/\(name)"
        }
        if let name = labels["helm.toolkit.fluxcd.io/name"], let namespace = labels["helm.toolkit.fluxcd.io/namespace"]
        {
            return "HelmRelease/\(namespace)/\(name)"
        }
        return nil
    }

    /// Fills in the annotations each incident inherits from its owners (``owner(of:)``), nearest first; an
    /// annotation on the object itself wins. Costs nothing when no Flux object carries a `fluxbrain.io/*`
    /// annotation.
    static func inherit(_ incidents: inout [Incident], objects: some Collection<FluxObject>) {
        // Every object's owner and own fluxbrain.io annotations, by `Kind/ns/name`; only built when needed.
        var annotated = false
        for object in objects where carried(object.metadata.annotations) != nil {
            annotated = true
            break
        }
        guard annotated else { return }
        var owners: [String: String] = [:]
        var own: [String: [String: String]] = [:]
        for object in objects {
            let key = "\(object.kind)/\(object.metadata.namespace ?? "default")/\(object.metadata.name)"
            if let owner = owner(of: object.metadata.labels) { owners[key] = owner }
            if let carried = carried(object.metadata.annotations) { own[key] = carried }
        }
        for index in incidents.indices {
            var current = owner(of: incidents[index].labels)
            var merged = incidents[index].annotations ?? [:]
            var depth = 0
            while let key = current, depth < 16 {
                for (name, value) in own[key] ?? [:] where merged[name] == nil { merged[name] = value }
                current = owners[key]
                depth += 1
            }
            if !merged.isEmpty { incidents[index].annotations = merged }
        }
    }
}
