import FluxbrainCore
import Foundation

/// Incidents and results for the analysis and redaction tests.
enum AnalysisFixtures {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    static func incident(
        name: String = "infra",
        state: FailureState = .retrying,
        message: String = "kustomize build failed",
        events: [EventRecord] = [],
        logLines: [LogLine] = [],
        status: JSONValue? = nil
    ) -> Incident {
        Incident(
            object: ObjectReference(cluster: "prod-eu-1", kind: .kustomization, namespace: "flux-system", name: name),
            state: state,
            reason: "BuildFailed",
            message: message,
            revision: "main@sha1:4f6c1b2d9e0a7c3b5d8e1f2a3b4c5d6e7f8a9b0c",
            retryInterval: "2m0s",
            events: events,
            logLines: logLines,
            status: status,
            detectedAt: start
        )
    }

    static func result(for incident: Incident) -> AnalysisResult {
        AnalysisResult(
            verdictID: "b0db0859-bc14-4a43-94b4-0c949b27fb9b",
            eventID: "550e8400-e29b-41d4-a716-446655440001",
            title: "Issue observed in kustomize-controller",
            description: incident.message,
            confidence: 0.85,
            severity: .critical,
            affectedComponents: ["kustomize-controller"],
            actions: [.init(title: "Inspect recent error", description: "Review the error message", urgency: .high)],
            evidenceRefs: [],
            createdAt: start,
            retrySafety: RetrySafety.derived(from: incident)
        )
    }
}
