import FluxbrainCore
import Foundation

/// The generic webhook's JSON body, version `fluxbrain.webhook/v1` (docs/webhook-payload.md,
/// docs/webhook-payload.v1.schema.json).
///
/// Compatibility: within v1 fields are only added, never removed or changed in meaning; receivers must ignore
/// unknown fields. Optional values are written as `null`, never omitted, so every v1 key is always present.
package struct WebhookPayload: Sendable, Hashable, Encodable {
    /// `fluxbrain.webhook/v1`.
    package static let version = "fluxbrain.webhook/v1"

    package struct Object: Sendable, Hashable, Encodable {
        package var kind: String
        package var namespace: String
        package var name: String
        package var apiVersion: String
    }

    package struct Action: Sendable, Hashable, Encodable {
        package var title: String
        package var description: String
        package var urgency: String
    }

    package struct Analysis: Sendable, Hashable, Encodable {
        package var title: String
        package var description: String
        package var confidence: Double
        package var severity: String
        package var actions: [Action]
        package var affectedComponents: [String]
        package var evidenceRefs: [String]
        package var verdictID: String
        package var eventID: String
        package var createdAt: Date?
    }

    package struct RetrySafetyValue: Sendable, Hashable, Encodable {
        package var fluxRetries: Bool
        package var summary: String
        /// `errorbrain` or `fluxState`.
        package var basis: String
    }

    package struct Event: Sendable, Hashable, Encodable {
        package var type: String
        package var reason: String
        package var message: String
        package var count: Int64?
        package var lastTimestamp: Date?
    }

    package var kind: String
    package var status: String
    package var state: String
    package var sequence: Int
    package var fingerprint: String
    package var cluster: String
    package var object: Object
    package var reason: String
    package var message: String
    /// The innermost error of `message`, when it says more in fewer words.
    package var cause: String?
    /// How helm-controller remediated a failed release (`{reason, message, summary}`).
    package var remediation: Remediation?
    /// What changed; ``IncidentChanges`` writes every key, `null` when unknown.
    package var changes: IncidentChanges?
    package var revision: String?
    package var lastAppliedRevision: String?
    package var source: Object?
    package var affected: [Object]
    /// `analyzed`, `unavailable` or `notConfigured`.
    package var analysisStatus: String
    /// Why there is no analysis, when `analysisStatus` is `unavailable`.
    package var analysisError: String?
    package var analysis: Analysis?
    package var retrySafety: RetrySafetyValue
    package var events: [Event]
    package var since: Date?
    package var detectedAt: Date
    package var notifiedAt: Date
    package var idempotencyKey: String

    /// The payload for `notification`, with at most `maxEvents` events.
    package init(_ notification: IncidentNotification, maxEvents: Int = 10) {
        let incident = notification.incident
        func object(_ reference: ObjectReference) -> Object {
            Object(
                kind: reference.kind.name,
                namespace: reference.namespace,
                name: reference.name,
                apiVersion: reference.kind.apiVersion
            )
        }
        kind = notification.kind.rawValue
        status = notification.kind.status.rawValue
        state = incident.state.rawValue
        sequence = notification.sequence
        fingerprint = incident.fingerprint.hex
        cluster = incident.object.cluster
        self.object = object(incident.object)
        reason = incident.reason
        message = incident.message
        cause = incident.cause
        remediation = incident.remediation
        changes = incident.changes
        revision = incident.revision
        lastAppliedRevision = incident.lastAppliedRevision
        source = incident.source.map(object)
        affected = incident.affected.map(object)
        switch notification.analysis {
        case .analyzed(let result):
            analysisStatus = "analyzed"
            analysisError = nil
            analysis = Analysis(
                title: result.title,
                description: result.description,
                confidence: result.confidence,
                severity: result.severity.rawValue,
                actions: result.actions.map {
                    Action(title: $0.title, description: $0.description, urgency: $0.urgency.rawValue)
                },
                affectedComponents: result.affectedComponents,
                evidenceRefs: result.evidenceRefs,
                verdictID: result.verdictID,
                eventID: result.eventID,
                createdAt: result.createdAt
            )
        case .unavailable(let reason, let attempts):
            analysisStatus = "unavailable"
            analysisError = "\(reason) (after \(attempts) attempt\(attempts == 1 ? "" : "s"))"
            analysis = nil
        case .notConfigured:
            analysisStatus = "notConfigured"
            analysisError = nil
            analysis = nil
        }
        let safety = notification.retrySafety
        retrySafety = RetrySafetyValue(
            fluxRetries: safety.fluxRetries,
            summary: safety.summary,
            basis: safety.basis.rawValue
        )
        events = incident.events.prefix(maxEvents).map {
            Event(
                type: $0.type,
                reason: $0.reason,
                message: $0.message,
                count: $0.count,
                lastTimestamp: $0.lastTimestamp
            )
        }
        since = incident.since
        detectedAt = incident.detectedAt
        notifiedAt = notification.notifiedAt
        idempotencyKey = notification.idempotencyKey
    }

    private enum CodingKeys: String, CodingKey {
        case version, kind, status, state, sequence, fingerprint, cluster, object, reason, message, revision
        case lastAppliedRevision, source, affected, analysisStatus, analysisError, analysis, retrySafety, events
        case since, detectedAt, notifiedAt, idempotencyKey, cause, remediation, changes
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Self.version, forKey: .version)
        try container.encode(kind, forKey: .kind)
        try container.encode(status, forKey: .status)
        try container.encode(state, forKey: .state)
        try container.encode(sequence, forKey: .sequence)
        try container.encode(fingerprint, forKey: .fingerprint)
        try container.encode(cluster, forKey: .cluster)
        try container.encode(object, forKey: .object)
        try container.encode(reason, forKey: .reason)
        try container.encode(message, forKey: .message)
        try container.encode(cause, forKey: .cause)
        try container.encode(remediation, forKey: .remediation)
        try container.encode(changes, forKey: .changes)
        try container.encode(revision, forKey: .revision)
        try container.encode(lastAppliedRevision, forKey: .lastAppliedRevision)
        try container.encode(source, forKey: .source)
        try container.encode(affected, forKey: .affected)
        try container.encode(analysisStatus, forKey: .analysisStatus)
        try container.encode(analysisError, forKey: .analysisError)
        try container.encode(analysis, forKey: .analysis)
        try container.encode(retrySafety, forKey: .retrySafety)
        try container.encode(events, forKey: .events)
        try container.encode(since, forKey: .since)
        try container.encode(detectedAt, forKey: .detectedAt)
        try container.encode(notifiedAt, forKey: .notifiedAt)
        try container.encode(idempotencyKey, forKey: .idempotencyKey)
    }
}

extension WebhookPayload.Analysis {
    private enum CodingKeys: String, CodingKey {
        case title, description, confidence, severity, actions, affectedComponents, evidenceRefs, verdictID, eventID
        case createdAt
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(title, forKey: .title)
        try container.encode(description, forKey: .description)
        try container.encode(confidence, forKey: .confidence)
        try container.encode(severity, forKey: .severity)
        try container.encode(actions, forKey: .actions)
        try container.encode(affectedComponents, forKey: .affectedComponents)
        try container.encode(evidenceRefs, forKey: .evidenceRefs)
        try container.encode(verdictID, forKey: .verdictID)
        try container.encode(eventID, forKey: .eventID)
        try container.encode(createdAt, forKey: .createdAt)
    }
}

extension WebhookPayload.Event {
    private enum CodingKeys: String, CodingKey { case type, reason, message, count, lastTimestamp }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(type, forKey: .type)
        try container.encode(reason, forKey: .reason)
        try container.encode(message, forKey: .message)
        try container.encode(count, forKey: .count)
        try container.encode(lastTimestamp, forKey: .lastTimestamp)
    }
}
