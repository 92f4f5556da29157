import FluxbrainCore

/// What the scheduler must do after one look at a cluster: the pure part of the leader loop.
package struct SchedulePlan: Sendable, Equatable {
    /// Items to enqueue.
    package var enqueue: [WorkItem] = []
    /// Incidents to record as open (new, or replacing an older fingerprint of the same object).
    package var open: [Incident] = []
    /// Open incidents to forget, with why.
    package var close: [(incident: Incident, why: CloseReason)] = []

    /// Why an open incident is forgotten.
    package enum CloseReason: String, Sendable, Equatable {
        /// The object is Ready again: a resolved item is enqueued.
        case resolved
        /// The object fails with another fingerprint (a new revision or reason): a new incident replaces it.
        case superseded
    }

    package static func == (lhs: SchedulePlan, rhs: SchedulePlan) -> Bool {
        lhs.enqueue == rhs.enqueue && lhs.open == rhs.open
            && lhs.close.map { [$0.incident.fingerprint.hex, $0.why.rawValue] }
                == rhs.close.map { [$0.incident.fingerprint.hex, $0.why.rawValue] }
    }
}

/// Compares what a cluster looks like now with the incidents the scheduler remembers as open.
///
/// - an incident not open yet (or with a new fingerprint for its object) → open it and enqueue `firing`, marked as
///   opening the incident (``WorkItem/opensIncident``);
/// - an open incident seen again → enqueue `firing` only on a full resync (`includeReminders`): the notification
///   store decides whether a reminder is due, and the queue's dedup absorbs repeats;
/// - an open incident whose object is healthy again → enqueue `resolved` and close it;
/// - an open incident whose object fails with another fingerprint → close it as superseded (no message: the new
///   incident's notification says what fails now);
/// - an open incident whose object is progressing, suspended or absent → left open (no decision yet).
package struct SchedulePlanner: Sendable {
    package init() {}

    package func plan(assessment: Assessment, open: [Incident], includeReminders: Bool) -> SchedulePlan {
        plan(
            assessment: assessment,
            open: Dictionary(open.map { ($0.object, $0) }, uniquingKeysWith: { first, _ in first }),
            includeReminders: includeReminders
        )
    }

    /// The same, with the open incidents keyed by object (as ``OpenIncidentMemo`` keeps them): a pass costs what the
    /// assessment holds plus one look at each open incident, without copying or sorting them.
    package func plan(
        assessment: Assessment,
        open openByObject: [ObjectReference: Incident],
        includeReminders: Bool
    ) -> SchedulePlan {
        var plan = SchedulePlan()
        var failingObjects = Set<ObjectReference>(minimumCapacity: assessment.incidents.count)
        for incident in assessment.incidents {
            failingObjects.insert(incident.object)
            if let previous = openByObject[incident.object] {
                if previous.fingerprint == incident.fingerprint {
                    if includeReminders { plan.enqueue.append(WorkItem(transition: .firing, incident: incident)) }
                    continue
                }
                plan.close.append((previous, .superseded))
            }
            plan.open.append(incident)
            plan.enqueue.append(WorkItem(transition: .firing, incident: incident, opensIncident: true))
        }
        // Resolved ones in object order, so a pass's output does not depend on the dictionary's.
        var resolvedObjects: [ObjectReference] = []
        for object in openByObject.keys where !failingObjects.contains(object) && assessment.healthy.contains(object) {
            resolvedObjects.append(object)
        }
        for object in resolvedObjects.sorted() {
            let incident = openByObject[object]!
            plan.enqueue.append(WorkItem(transition: .resolved, incident: incident))
            plan.close.append((incident, .resolved))
        }
        return plan
    }
}
