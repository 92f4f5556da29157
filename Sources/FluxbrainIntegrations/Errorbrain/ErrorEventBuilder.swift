import FluxbrainCore
import Foundation

/// Size caps for one error event; every string is cut with an explicit `… [truncated N bytes]` marker.
package struct ErrorEventLimits: Sendable, Hashable {
    /// The condition message (`message`), in UTF-8 bytes.
    package var messageBytes: Int
    /// Any other string (metadata values, event messages, log lines, status fields), in UTF-8 bytes.
    package var fieldBytes: Int
    /// Items kept per JSON array inside evidence (e.g. a Kustomization's inventory); the rest is summarized.
    package var arrayItems: Int
    /// Kubernetes events sent as evidence (newest first).
    package var maxEvents: Int
    /// Controller log lines sent as evidence (newest first).
    package var maxLogLines: Int
    /// The whole encoded event; evidence is dropped from the end (oldest log lines, then oldest events, then the
    /// status) until it fits, and `metadata.evidence_omitted` says how many items were dropped.
    package var totalBytes: Int

    package init(
        messageBytes: Int = 8 * 1024,
        fieldBytes: Int = 2 * 1024,
        arrayItems: Int = 50,
        maxEvents: Int = 10,
        maxLogLines: Int = 20,
        totalBytes: Int = 64 * 1024
    ) {
        self.messageBytes = messageBytes
        self.fieldBytes = fieldBytes
        self.arrayItems = arrayItems
        self.maxEvents = maxEvents
        self.maxLogLines = maxLogLines
        self.totalBytes = totalBytes
    }
}

/// Turns an incident into Errorbrain's `error_event`: redacted, capped, and inside the schema's keys.
///
/// - `id`: a lowercase UUID derived from the fingerprint (the same incident always gets the same id, so
///   `GET /analysis/{id}` finds it from any replica); `timestamp`: when the failing condition changed, else when
///   Fluxbrain saw it (RFC 3339, UTC).
/// - `source`: `language` `other`, `name` the controller, `environment` from `FLUXBRAIN_ENVIRONMENT` when set,
///   `hostname` the controller pod when a log line names it, `tags` `["flux", <kind lowercased>, <cluster>]`.
/// - `message` the condition message, `error_type` the reason (for a remediated HelmRelease the failed action's,
///   not the rollback's), `severity` `error` for stalled and retrying incidents and `warning` for stuck ones.
/// - `metadata`: cluster, kind, namespace, name, revision(s), `source_ref`, `depends_on`, `affected`, `fingerprint`,
///   `state`, `retry_interval`, `since`, generations, `cause`, `remediation`/`remediation_reason`, `compare_url`,
///   `previous_chart`/`failing_chart`, `stale_revision`, and `component` (`Kind/namespace/name`, the only key
///   Errorbrain's rules read).
/// - `evidence`: the object's status as `custom`, then Kubernetes events as `event`, then controller log lines as
///   `log_line`.
package struct ErrorEventBuilder: Sendable {
    package var environment: ErrorEvent.Environment?
    package var redactor: Redactor
    package var limits: ErrorEventLimits

    package init(
        environment: ErrorEvent.Environment? = nil,
        redactor: Redactor = Redactor(),
        limits: ErrorEventLimits = ErrorEventLimits()
    ) {
        self.environment = environment
        self.redactor = redactor
        self.limits = limits
    }

    /// The event for `incident`.
    package func event(for incident: Incident) -> ErrorEvent {
        event(for: incident, redacted: false).event
    }

    /// The event for an incident the pipeline has already redacted: its message, status, event and log-line texts
    /// go in as they are (the other fields, which `Redactor.redacted(_:)` does not cover, are redacted here).
    package func event(for incident: RedactedIncident) -> ErrorEvent {
        event(for: incident.incident, redacted: true).event
    }

    /// ``event(for:)-(RedactedIncident)`` and its stable JSON, encoded once (the size check encodes it anyway):
    /// what the client posts. `body` is `nil` only if the event could not be encoded.
    package func eventAndBody(for incident: RedactedIncident) -> (event: ErrorEvent, body: Data?) {
        event(for: incident.incident, redacted: true)
    }

    /// The event and its encoding; with `redacted`, the texts a `RedactedIncident` covers are not redacted again.
    private func event(for incident: Incident, redacted: Bool) -> (event: ErrorEvent, body: Data?) {
        let object = incident.object
        let pod = incident.logLines.lazy.compactMap(\.pod).first
        let source = ErrorEvent.Source(
            name: incident.controller,
            environment: environment,
            hostname: pod.map(text),
            tags: ["flux", object.kind.name.lowercased(), object.cluster]
        )
        var event = ErrorEvent(
            id: Self.eventID(for: incident.fingerprint),
            timestamp: RFC3339.string(from: incident.since ?? incident.detectedAt),
            source: source,
            message: Redactor.truncate(
                redacted ? incident.message : redactor.redact(incident.message),
                limit: limits.messageBytes
            ),
            errorType: text(incident.reason),
            severity: Self.severity(for: incident.state),
            metadata: metadata(for: incident),
            evidence: nil
        )
        var evidence: [ErrorEvent.Evidence] = []
        if let status = incident.status {
            evidence.append(
                ErrorEvent.Evidence(
                    type: .custom,
                    data: [
                        "description": .string("status of \(object) as served by the Kubernetes API"),
                        "status": cap(redacted ? status : redactor.redact(status)),
                    ]
                )
            )
        }
        evidence += incident.events.prefix(limits.maxEvents).map {
            eventEvidence($0, object: object, redacted: redacted)
        }
        evidence += incident.logLines.prefix(limits.maxLogLines).map {
            logEvidence($0, controller: incident.controller, redacted: redacted)
        }
        event.evidence = evidence.isEmpty ? nil : evidence
        return fit(event)
    }

    /// The severity Errorbrain gets for a failure state: stalled and retrying are errors, stuck is a warning.
    package static func severity(for state: FailureState) -> ErrorEvent.Severity {
        switch state {
        case .stalled, .retrying: return .error
        case .stuck: return .warning
        }
    }

    /// A lowercase UUID derived from the fingerprint (version-8 layout over its first 128 bits).
    package static func eventID(for fingerprint: Fingerprint) -> String {
        let variants: StaticString = "89ab"
        return String(unsafeUninitializedCapacity: 36) { out in
            var index = 0
            // The fingerprint is 64 lowercase hex digits.
            for (position, digit) in fingerprint.hex.utf8.prefix(32).enumerated() {
                if position == 8 || position == 12 || position == 16 || position == 20 {
                    out[index] = UInt8(ascii: "-")
                    index += 1
                }
                switch position {
                case 12:
                    out[index] = UInt8(ascii: "8")
                case 16:
                    let value = digit >= UInt8(ascii: "a") ? digit - UInt8(ascii: "a") + 10 : digit - UInt8(ascii: "0")
                    out[index] = variants.utf8Start[Int(value & 3)]
                default:
                    out[index] = digit
                }
                index += 1
            }
            return index
        }
    }

    // MARK: Private

    private func text(_ value: String) -> String {
        Redactor.truncate(redactor.redact(value), limit: limits.fieldBytes)
    }

    private func metadata(for incident: Incident) -> [String: JSONValue] {
        let object = incident.object
        var metadata: [String: JSONValue] = [
            "cluster": .string(object.cluster),
            "kind": .string(object.kind.name),
            "namespace": .string(object.namespace),
            "name": .string(object.name),
            "fingerprint": .string(incident.fingerprint.hex),
            "component": .string(object.description),
            "state": .string(incident.state.rawValue),
            "controller": .string(incident.controller),
        ]
        metadata["revision"] = incident.revision.map { .string($0) }
        metadata["last_applied_revision"] = incident.lastAppliedRevision.map { .string($0) }
        metadata["last_attempted_revision"] = incident.lastAttemptedRevision.map { .string($0) }
        metadata["artifact_revision"] = incident.artifactRevision.map { .string($0) }
        metadata["source_ref"] = incident.source.map { .string($0.description) }
        if !incident.dependsOn.isEmpty {
            metadata["depends_on"] = .array(incident.dependsOn.map { .string($0.description) })
        }
        if !incident.affected.isEmpty {
            metadata["affected"] = .array(incident.affected.map { .string($0.description) })
        }
        metadata["retry_interval"] = incident.retryInterval.map { .string($0) }
        metadata["since"] = incident.since.map { .string(RFC3339.string(from: $0)) }
        metadata["generation"] = incident.generation.map { .int($0) }
        metadata["observed_generation"] = incident.observedGeneration.map { .int($0) }
        metadata["detected_at"] = .string(RFC3339.string(from: incident.detectedAt))
        metadata["cause"] = incident.cause.map { .string($0) }
        if let remediation = incident.remediation {
            metadata["remediation"] = .string(remediation.summary)
            metadata["remediation_reason"] = .string(remediation.reason)
        }
        if let changes = incident.changes {
            metadata["compare_url"] = changes.compareURL.map { .string($0) }
            metadata["previous_chart"] = changes.previousChart.map { .string($0) }
            metadata["failing_chart"] = changes.failingChart.map { .string($0) }
            metadata["stale_revision"] = changes.staleRevision.map { .string($0) }
        }
        return cap(redactor.redact(.object(metadata))).objectValue ?? [:]
    }

    private func eventEvidence(_ record: EventRecord, object: ObjectReference, redacted: Bool) -> ErrorEvent.Evidence {
        var data: [String: JSONValue] = [
            "type": .string(record.type),
            "involvedObject": .string(object.description),
        ]
        let texts: [String: JSONValue] = ["reason": .string(record.reason), "message": .string(record.message)]
        data["count"] = record.count.map { .int($0) }
        data["reportingComponent"] = record.reportingComponent.map { .string($0) }
        data["revision"] = record.revision.map { .string($0) }
        data["firstTimestamp"] = record.firstTimestamp.map { .string(RFC3339.string(from: $0)) }
        data["lastTimestamp"] = record.lastTimestamp.map { .string(RFC3339.string(from: $0)) }
        let when = record.lastTimestamp ?? record.firstTimestamp
        return ErrorEvent.Evidence(
            type: .event,
            data: cap(.object(redact(data, adding: texts, redacted: redacted))).objectValue ?? [:],
            timestamp: when.map { RFC3339.string(from: $0) }
        )
    }

    private func logEvidence(_ line: LogLine, controller: String, redacted: Bool) -> ErrorEvent.Evidence {
        var data: [String: JSONValue] = [
            "level": .string(Self.logLevel(line.level)),
            "logger": .string(controller),
        ]
        var texts: [String: JSONValue] = ["message": .string(line.message)]
        texts["error"] = line.error.map { .string($0) }
        data["pod"] = line.pod.map { .string($0) }
        data["reconcileID"] = line.reconcileID.map { .string($0) }
        return ErrorEvent.Evidence(
            type: .logLine,
            data: cap(.object(redact(data, adding: texts, redacted: redacted))).objectValue ?? [:],
            timestamp: line.timestamp.map { RFC3339.stringWithFraction(from: $0) }
        )
    }

    /// `fields` and `texts` redacted as one JSON object; with `redacted`, `texts` (already redacted by
    /// `Redactor.redacted(_:)`) are added after, unless one looks like embedded JSON, which gets the structural pass
    /// that only JSON redaction does.
    private func redact(
        _ fields: [String: JSONValue],
        adding texts: [String: JSONValue],
        redacted: Bool
    ) -> [String: JSONValue] {
        guard redacted else {
            return redactor.redact(.object(fields.merging(texts) { field, _ in field })).objectValue ?? [:]
        }
        var result = redactor.redact(.object(fields)).objectValue ?? [:]
        for (key, text) in texts {
            if case .string(let string) = text, Redactor.mayHoldJSONObject(string) {
                result[key] = redactor.redact(text)
            } else {
                result[key] = text
            }
        }
        return result
    }

    /// zap levels → the evidence schema's `log_evidence.level` enum.
    private static func logLevel(_ level: String) -> String {
        switch level.lowercased() {
        case "debug", "trace": return "debug"
        case "info": return "info"
        case "warn", "warning": return "warning"
        case "error": return "error"
        case "dpanic", "panic", "fatal", "critical": return "critical"
        default: return "info"
        }
    }

    /// Caps every string and array in `value`.
    private func cap(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string(let text):
            return .string(Redactor.truncate(text, limit: limits.fieldBytes))
        case .array(let items):
            var kept = items.prefix(limits.arrayItems).map(cap)
            if items.count > limits.arrayItems {
                kept.append(.string("… [truncated \(items.count - limits.arrayItems) items]"))
            }
            return .array(kept)
        case .object(let members):
            return .object(members.mapValues(cap))
        case .null, .bool, .int, .double:
            return value
        }
    }

    /// Drops evidence from the end until the encoded event fits `limits.totalBytes`; the event and its encoding.
    private func fit(_ event: ErrorEvent) -> (event: ErrorEvent, body: Data?) {
        var event = event
        var omitted = 0
        while true {
            guard let body = try? StableJSON.encode(event) else { return (event, nil) }
            guard body.count > limits.totalBytes, var evidence = event.evidence, !evidence.isEmpty else {
                return (event, body)
            }
            evidence.removeLast()
            omitted += 1
            event.evidence = evidence.isEmpty ? nil : evidence
            event.metadata?["evidence_omitted"] = .int(Int64(omitted))
        }
    }
}
