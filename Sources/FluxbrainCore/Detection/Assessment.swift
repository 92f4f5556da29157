import Foundation

/// The result of looking at every Flux object of one cluster at one moment.
package struct Assessment: Sendable {
    /// Failures to report, one per root cause, in a stable order.
    package var incidents: [Incident]
    /// Objects that are `Ready=True` for their current generation (incidents about them are resolved).
    package var healthy: Set<ObjectReference>
    /// Objects that are suspended or progressing: neither failing nor resolved.
    package var undecided: Set<ObjectReference>
    /// Failing objects whose incident was folded into an upstream object's incident: downstream → root.
    package var folded: [ObjectReference: ObjectReference]

    package init(
        incidents: [Incident] = [],
        healthy: Set<ObjectReference> = [],
        undecided: Set<ObjectReference> = [],
        folded: [ObjectReference: ObjectReference] = [:]
    ) {
        self.incidents = incidents
        self.healthy = healthy
        self.undecided = undecided
        self.folded = folded
    }
}

extension Detector {
    /// `Ready` reasons that say an object fails because its source or a `dependsOn` object is not ready. Only
    /// failures with one of these reasons are folded into a failing upstream object's incident; any other reason is
    /// the object's own failure and is reported on its own even when its upstream fails too.
    package static let upstreamReasons: Set<String> = [
        "DependencyNotReady",  // Kustomization, HelmRelease, ImagePolicy: a dependsOn / input object is not ready
        "ArtifactFailed",  // Kustomization, HelmRelease: the source artifact is missing
        "SourceNotReady",  // HelmRelease: its HelmChart or chartRef source is not ready
        "NoSourceArtifact",  // HelmChart: its HelmRepository, GitRepository or Bucket has no artifact
    ]

    /// Assesses every object of `cluster`; one implementation for snapshots and live clusters.
    ///
    /// Failing objects become incidents, then root-cause folding runs: an incident whose reason is one of
    /// ``upstreamReasons`` and whose source or `dependsOn` object is failing too is dropped, and the object is
    /// listed in `affected` of the incident at the end of the chain (the root). Chains are followed to the end;
    /// a missing upstream object ends the chain; in a cycle of objects all waiting on each other, the smallest
    /// reference in the cycle is the root.
    package func assess(_ objects: some Collection<FluxObject>, cluster: String, now: Date) -> Assessment {
        var assessment = Assessment()
        var incidents: [ObjectReference: Incident] = [:]
        incidents.reserveCapacity(64)
        // Failing objects whose Git or OCI source is needed for what changed.
        var awaitingSource: [(FluxObject, ObjectReference)] = []
        for object in objects {
            guard let reference = object.reference(cluster: cluster) else { continue }
            switch health(of: object, now: now) {
            case .healthy:
                assessment.healthy.insert(reference)
            case .failing(let state):
                let incident = makeIncident(
                    for: object,
                    reference: reference,
                    state: state,
                    cluster: cluster,
                    now: now
                )
                if let source = IncidentChanges.changeSource(of: object, cluster: cluster) {
                    awaitingSource.append((object, source))
                }
                incidents[reference] = incident
            case .progressing, .suspended, .unknown:
                assessment.undecided.insert(reference)
            }
        }
        if !awaitingSource.isEmpty {
            let wanted = Set(awaitingSource.map(\.1))
            var sources: [ObjectReference: FluxObject] = [:]
            for object in objects where object.fluxKind?.isSource == true {
                if let reference = object.reference(cluster: cluster), wanted.contains(reference) {
                    sources[reference] = object
                }
            }
            for (object, source) in awaitingSource {
                guard let found = sources[source], let reference = object.reference(cluster: cluster) else { continue }
                incidents[reference]?.changes = IncidentChanges.of(object, source: found, hosts: gitHosts)
            }
        }
        assessment.folded = Self.foldingRoots(of: incidents)
        var affected: [ObjectReference: Set<ObjectReference>] = [:]
        for (downstream, root) in assessment.folded {
            affected[root, default: []].insert(downstream)
        }
        for (reference, var incident) in incidents where assessment.folded[reference] == nil {
            if let downstream = affected[reference] {
                incident.affected = Array(Set(incident.affected).union(downstream)).sorted()
            }
            assessment.incidents.append(incident)
        }
        RoutingAnnotations.inherit(&assessment.incidents, objects: objects)
        assessment.incidents.sort { $0.object < $1.object }
        return assessment
    }

    /// For every incident that folds into an upstream one, the root it folds into.
    static func foldingRoots(of incidents: [ObjectReference: Incident]) -> [ObjectReference: ObjectReference] {
        /// The failing upstream object `reference` waits for, if its failure is about upstream trouble.
        func failingUpstream(of reference: ObjectReference) -> ObjectReference? {
            guard let incident = incidents[reference], upstreamReasons.contains(incident.reason) else { return nil }
            // DependencyNotReady names a dependsOn object; the artifact reasons name the source. Try the likely one
            // first, then the other, so a chain is followed whichever way the controller phrased it.
            let candidates: [ObjectReference] =
                incident.reason == "DependencyNotReady"
                ? incident.dependsOn + [incident.source].compactMap { $0 }
                : [incident.source].compactMap { $0 } + incident.dependsOn
            return candidates.first { $0 != reference && incidents[$0] != nil }
        }

        // Every visited object maps to its root; a root maps to itself.
        var roots: [ObjectReference: ObjectReference] = [:]
        for reference in incidents.keys.sorted() where roots[reference] == nil {
            var path: [ObjectReference] = [reference]
            var position: [ObjectReference: Int] = [reference: 0]
            var current = reference
            var root = reference
            while true {
                guard let upstream = failingUpstream(of: current) else {
                    root = current
                    break
                }
                if let known = roots[upstream] {
                    root = known
                    break
                }
                if let index = position[upstream] {
                    // A cycle: everything from `index` on waits on each other; the smallest one is the root.
                    root = path[index...].min()!
                    break
                }
                position[upstream] = path.count
                path.append(upstream)
                current = upstream
            }
            for member in path { roots[member] = root }
        }
        return roots.filter { $0.key != $0.value }
    }
}
