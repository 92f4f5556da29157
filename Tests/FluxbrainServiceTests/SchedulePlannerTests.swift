import FluxbrainCore
import Foundation
import Testing

@testable import FluxbrainService

/// What the leader does after one look at a cluster, one table row per situation.
@Suite struct SchedulePlannerTests {
    static let detectedAt = Date(timeIntervalSince1970: 1_800_000_000)

    static func object(_ name: String) -> ObjectReference {
        ObjectReference(cluster: "prod", kind: .kustomization, namespace: "flux-system", name: name)
    }

    static func incident(_ name: String, revision: String = "main@sha1:1") -> Incident {
        Incident(
            object: object(name),
            state: .retrying,
            reason: "BuildFailed",
            message: "kustomize build failed",
            revision: revision,
            detectedAt: detectedAt
        )
    }

    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        var failing: [Incident] = []
        var healthy: [String] = []
        var undecided: [String] = []
        var open: [Incident] = []
        var reminders = false
        /// `firing:<name>@<revision>` / `resolved:<name>@<revision>`.
        var enqueue: [String] = []
        var opened: [String] = []
        /// `<name>@<revision>:<why>`.
        var closed: [String] = []

        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row(name: "nothing failing, nothing open: nothing to do"),
        Row(
            name: "a new failure is opened and fired, its item marked as opening it",
            failing: [incident("apps")],
            enqueue: ["firing:apps@main@sha1:1 opens"],
            opened: ["apps@main@sha1:1"]
        ),
        Row(
            name: "an open incident seen again between resyncs: nothing",
            failing: [incident("apps")],
            open: [incident("apps")]
        ),
        Row(
            name: "an open incident seen again on a full resync: fired again for the reminder check",
            failing: [incident("apps")],
            open: [incident("apps")],
            reminders: true,
            enqueue: ["firing:apps@main@sha1:1"]
        ),
        Row(
            name: "the object fails with another fingerprint: the old one is superseded, the new one opened",
            failing: [incident("apps", revision: "main@sha1:2")],
            open: [incident("apps")],
            enqueue: ["firing:apps@main@sha1:2 opens"],
            opened: ["apps@main@sha1:2"],
            closed: ["apps@main@sha1:1:superseded"]
        ),
        Row(
            name: "an open incident whose object is ready again is resolved",
            healthy: ["apps"],
            open: [incident("apps")],
            enqueue: ["resolved:apps@main@sha1:1"],
            closed: ["apps@main@sha1:1:resolved"]
        ),
        Row(
            name: "an open incident whose object progresses or is suspended stays open",
            undecided: ["apps"],
            open: [incident("apps")]
        ),
        Row(name: "an open incident whose object is gone stays open", open: [incident("apps")]),
        Row(
            name: "several objects are planned independently",
            failing: [incident("a"), incident("b")],
            healthy: ["c"],
            open: [incident("b"), incident("c")],
            enqueue: ["firing:a@main@sha1:1 opens", "resolved:c@main@sha1:1"],
            opened: ["a@main@sha1:1"],
            closed: ["c@main@sha1:1:resolved"]
        ),
        Row(
            name: "resolved incidents come out in object order, whatever order they were open in",
            healthy: ["a", "b", "c", "d", "e", "f"],
            open: [incident("f"), incident("d"), incident("b"), incident("e"), incident("a"), incident("c")],
            enqueue: ["a", "b", "c", "d", "e", "f"].map { "resolved:\($0)@main@sha1:1" },
            closed: ["a", "b", "c", "d", "e", "f"].map { "\($0)@main@sha1:1:resolved" }
        ),
    ]

    @Test(arguments: rows)
    func plan(_ row: Row) {
        let assessment = Assessment(
            incidents: row.failing,
            healthy: Set(row.healthy.map(Self.object)),
            undecided: Set(row.undecided.map(Self.object))
        )
        let plan = SchedulePlanner().plan(assessment: assessment, open: row.open, includeReminders: row.reminders)
        func label(_ incident: Incident) -> String { "\(incident.object.name)@\(incident.revision ?? "")" }
        #expect(
            plan.enqueue.map {
                "\($0.transition.rawValue):\(label($0.incident))" + ($0.opensIncident ? " opens" : "")
            } == row.enqueue
        )
        #expect(plan.open.map(label) == row.opened)
        #expect(plan.close.map { "\(label($0.incident)):\($0.why.rawValue)" } == row.closed)
    }
}
