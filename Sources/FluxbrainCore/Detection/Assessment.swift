import Foundation

/// The result of looking at every Flux object of one cluster at one moment.
package struct Assessment: Sendable {
    /// Failures to report, one per root cause, in a stable order.
    package var incidents: [Incident]
    /// Objects that are `Ready=True` for their current generation (incidents about them are resolved).
    package var healthy: Set<ObjectReference>
    /// Objects that are suspended or progressing: neither failing nor resolved.
    package var undecided: Set<ObjectReference>

    package init(incidents: [Incident] = [], healthy: Set<ObjectReference> = [], undecided: Set<ObjectReference> = []) {
        self.incidents = incidents
        self.healthy = healthy
        self.undecided = undecided
    }
}

extension Detector {
    /// Assesses every object of `cluster`; one implementation for snapshots and live clusters.
    package func assess(_ objects: [FluxObject], cluster: String, now: Date) -> Assessment {
        var assessment = Assessment()
        for object in objects {
            guard let reference = object.reference(cluster: cluster) else { continue }
            switch health(of: object, now: now) {
            case .healthy:
                assessment.healthy.insert(reference)
            case .failing:
                if let incident = incident(for: object, cluster: cluster, now: now) {
                    assessment.incidents.append(incident)
                }
            case .progressing, .suspended, .unknown:
                assessment.undecided.insert(reference)
            }
        }
        assessment.incidents.sort { $0.object < $1.object }
        return assessment
    }
}
