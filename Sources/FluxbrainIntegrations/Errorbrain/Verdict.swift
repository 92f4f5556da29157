import FluxbrainCore
import Foundation

/// Errorbrain's answer to `POST /events`: spec/v1 `verdict.schema.json`, decoded the way the real server emits it.
///
/// Accepted quirks: `created_at` without a timezone and with microseconds (read as UTC), ids in any case
/// (lowercased), an integer `confidence`, and unknown extra keys. Rejected with `ErrorbrainError.invalidVerdict`:
/// anything that is not a JSON object, a missing required field, a wrong type, `confidence` outside 0…1, an
/// unknown `impact.severity` or `urgency`, an unparseable `created_at`.
///
/// Retry safety is not in the schema; if a future verdict carries a boolean `retry_safe` or `retryable` (top level or
/// in `hypothesis`, optionally with a `retry_reason` string), it is used as Errorbrain's judgement.
package struct Verdict: Sendable, Hashable {
    package var id: String
    package var eventID: String
    package var title: String
    package var description: String
    package var confidence: Double
    package var severity: AnalysisResult.Severity
    package var affectedComponents: [String]
    package var actions: [AnalysisResult.Action]
    package var evidenceRefs: [String]
    package var createdAt: Date
    /// Errorbrain's retry judgement, when the verdict carries one (none does today).
    package var retryable: Bool?
    package var retryReason: String?

    /// Decodes and validates a verdict body.
    package static func decode(_ body: some Sequence<UInt8>) throws(ErrorbrainError) -> Verdict {
        let value: JSONValue
        do {
            value = try FastJSON.parse(Array(body))
        } catch {
            throw ErrorbrainError(.invalidVerdict, "the verdict is not valid JSON")
        }
        guard case .object(let root) = value else {
            throw ErrorbrainError(.invalidVerdict, "the verdict is not a JSON object")
        }
        let hypothesis = try object(root, "hypothesis", path: "hypothesis")
        let impact = try object(root, "impact", path: "impact")
        let confidence = try number(hypothesis, "confidence", path: "hypothesis.confidence")
        guard confidence.isFinite, (0...1).contains(confidence) else {
            throw ErrorbrainError(
                .invalidVerdict,
                "the verdict's hypothesis.confidence is \(confidence), outside 0…1"
            )
        }
        let severityText = try string(impact, "severity", path: "impact.severity")
        guard let severity = AnalysisResult.Severity(rawValue: severityText.lowercased()) else {
            throw ErrorbrainError(
                .invalidVerdict,
                "the verdict's impact.severity \"\(severityText.prefix(40))\" is not info, warning or critical"
            )
        }
        var actions: [AnalysisResult.Action] = []
        for (index, item) in try array(root, "recommended_actions", path: "recommended_actions").enumerated() {
            let path = "recommended_actions[\(index)]"
            guard case .object(let action) = item else {
                throw ErrorbrainError(.invalidVerdict, "the verdict's \(path) is not an object")
            }
            let urgencyText = try string(action, "urgency", path: "\(path).urgency")
            guard let urgency = AnalysisResult.Action.Urgency(rawValue: urgencyText.lowercased()) else {
                throw ErrorbrainError(
                    .invalidVerdict,
                    "the verdict's \(path).urgency \"\(urgencyText.prefix(40))\" is not low, medium or high"
                )
            }
            actions.append(
                AnalysisResult.Action(
                    title: try string(action, "title", path: "\(path).title"),
                    description: try string(action, "description", path: "\(path).description"),
                    urgency: urgency
                )
            )
        }
        let createdText = try string(root, "created_at", path: "created_at")
        guard let createdAt = RFC3339.date(from: createdText) else {
            throw ErrorbrainError(
                .invalidVerdict,
                "the verdict's created_at \"\(createdText.prefix(40))\" is not a date"
            )
        }
        let retryable =
            bool(root, "retry_safe") ?? bool(root, "retryable") ?? bool(hypothesis, "retry_safe")
            ?? bool(hypothesis, "retryable")
        let retryReason = (root["retry_reason"] ?? hypothesis["retry_reason"])?.stringValue
        return Verdict(
            id: try string(root, "id", path: "id").lowercased(),
            eventID: try string(root, "event_id", path: "event_id").lowercased(),
            title: try string(hypothesis, "title", path: "hypothesis.title"),
            description: try string(hypothesis, "description", path: "hypothesis.description"),
            confidence: confidence,
            severity: severity,
            affectedComponents: try strings(impact, "affected_components", path: "impact.affected_components"),
            actions: actions,
            evidenceRefs: try strings(root, "evidence_refs", path: "evidence_refs"),
            createdAt: createdAt,
            retryable: retryable,
            retryReason: retryReason
        )
    }

    /// The verdict in Fluxbrain's terms for `incident`: Errorbrain's retry judgement if it gave one, else the one
    /// Flux's own state gives (`RetrySafety.derived(from:)`, basis `.fluxState`). Every text is redacted.
    package func analysisResult(for incident: Incident, redactor: Redactor = Redactor()) -> AnalysisResult {
        let retrySafety: RetrySafety
        if let retryable {
            let summary =
                retryReason.map { redactor.redact($0) }
                ?? (retryable
                    ? "Errorbrain judges that Flux's own retries can fix this"
                    : "Errorbrain judges that retrying will not help: a change is needed")
            retrySafety = RetrySafety(fluxRetries: retryable, summary: summary, basis: .errorbrain)
        } else {
            retrySafety = RetrySafety.derived(from: incident)
        }
        return AnalysisResult(
            verdictID: id,
            eventID: eventID,
            title: redactor.redact(title),
            description: redactor.redact(description),
            confidence: confidence,
            severity: severity,
            affectedComponents: affectedComponents.map(redactor.redact),
            actions: actions.map {
                AnalysisResult.Action(
                    title: redactor.redact($0.title),
                    description: redactor.redact($0.description),
                    urgency: $0.urgency
                )
            },
            evidenceRefs: evidenceRefs,
            createdAt: createdAt,
            retrySafety: retrySafety
        )
    }

    // MARK: Field access with clear errors

    private static func member(
        _ object: [String: JSONValue],
        _ key: String,
        path: String
    ) throws(ErrorbrainError)
        -> JSONValue
    {
        guard let value = object[key], value != .null else {
            throw ErrorbrainError(.invalidVerdict, "the verdict is missing \(path)")
        }
        return value
    }

    private static func object(
        _ object: [String: JSONValue],
        _ key: String,
        path: String
    ) throws(ErrorbrainError)
        -> [String: JSONValue]
    {
        guard case .object(let value) = try member(object, key, path: path) else {
            throw ErrorbrainError(.invalidVerdict, "the verdict's \(path) is not an object")
        }
        return value
    }

    private static func array(
        _ object: [String: JSONValue],
        _ key: String,
        path: String
    ) throws(ErrorbrainError)
        -> [JSONValue]
    {
        guard case .array(let value) = try member(object, key, path: path) else {
            throw ErrorbrainError(.invalidVerdict, "the verdict's \(path) is not an array")
        }
        return value
    }

    private static func string(
        _ object: [String: JSONValue],
        _ key: String,
        path: String
    ) throws(ErrorbrainError)
        -> String
    {
        guard case .string(let value) = try member(object, key, path: path) else {
            throw ErrorbrainError(.invalidVerdict, "the verdict's \(path) is not a string")
        }
        return value
    }

    private static func strings(
        _ object: [String: JSONValue],
        _ key: String,
        path: String
    ) throws(ErrorbrainError)
        -> [String]
    {
        var result: [String] = []
        for (index, item) in try array(object, key, path: path).enumerated() {
            guard case .string(let value) = item else {
                throw ErrorbrainError(.invalidVerdict, "the verdict's \(path)[\(index)] is not a string")
            }
            result.append(value)
        }
        return result
    }

    private static func number(
        _ object: [String: JSONValue],
        _ key: String,
        path: String
    ) throws(ErrorbrainError)
        -> Double
    {
        switch try member(object, key, path: path) {
        case .double(let value): return value
        case .int(let value): return Double(value)
        default: throw ErrorbrainError(.invalidVerdict, "the verdict's \(path) is not a number")
        }
    }

    private static func bool(_ object: [String: JSONValue], _ key: String) -> Bool? {
        if case .bool(let value) = object[key] { return value }
        return nil
    }
}
