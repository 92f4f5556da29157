import FluxbrainCore

// The webhook body written by hand (``JSONWritable``): one per delivered notification. The same bytes as its
// `Encodable` conformance under `StableJSON` (every v1 key, `null` when unknown, keys sorted), which stays as the
// reference of the differential tests (Tests/FluxbrainIntegrationsTests/DirectJSONWritingTests.swift).

extension WebhookPayload: JSONWritable {
    package func write(to writer: inout JSONWriter) throws {
        writer.beginObject()
        try writer.member("affected", affected)
        try writer.member("analysis", orNull: analysis)
        try writer.member("analysisError", orNull: analysisError)
        try writer.member("analysisStatus", analysisStatus)
        try writer.member("cause", orNull: cause)
        try writer.member("changes", orNull: changes)
        try writer.member("cluster", cluster)
        try writer.member("detectedAt", detectedAt)
        try writer.member("events", events)
        try writer.member("fingerprint", fingerprint)
        try writer.member("idempotencyKey", idempotencyKey)
        try writer.member("kind", kind)
        try writer.member("lastAppliedRevision", orNull: lastAppliedRevision)
        try writer.member("message", message)
        try writer.member("notifiedAt", notifiedAt)
        try writer.member("object", object)
        try writer.member("reason", reason)
        try writer.member("remediation", orNull: remediation)
        try writer.member("retrySafety", retrySafety)
        try writer.member("revision", orNull: revision)
        try writer.member("sequence", sequence)
        try writer.member("since", orNull: since)
        try writer.member("source", orNull: source)
        try writer.member("state", state)
        try writer.member("status", status)
        try writer.member("version", Self.version)
        writer.endObject()
    }
}

extension WebhookPayload.Object: JSONWritable {
    package func write(to writer: inout JSONWriter) throws {
        writer.beginObject()
        try writer.member("apiVersion", apiVersion)
        try writer.member("kind", kind)
        try writer.member("name", name)
        try writer.member("namespace", namespace)
        writer.endObject()
    }
}

extension WebhookPayload.Action: JSONWritable {
    package func write(to writer: inout JSONWriter) throws {
        writer.beginObject()
        try writer.member("description", description)
        try writer.member("title", title)
        try writer.member("urgency", urgency)
        writer.endObject()
    }
}

extension WebhookPayload.Analysis: JSONWritable {
    package func write(to writer: inout JSONWriter) throws {
        writer.beginObject()
        try writer.member("actions", actions)
        try writer.member("affectedComponents", affectedComponents)
        try writer.member("confidence", confidence)
        try writer.member("createdAt", orNull: createdAt)
        try writer.member("description", description)
        try writer.member("eventID", eventID)
        try writer.member("evidenceRefs", evidenceRefs)
        try writer.member("severity", severity)
        try writer.member("title", title)
        try writer.member("verdictID", verdictID)
        writer.endObject()
    }
}

extension WebhookPayload.RetrySafetyValue: JSONWritable {
    package func write(to writer: inout JSONWriter) throws {
        writer.beginObject()
        try writer.member("basis", basis)
        try writer.member("fluxRetries", fluxRetries)
        try writer.member("summary", summary)
        writer.endObject()
    }
}

extension WebhookPayload.Event: JSONWritable {
    package func write(to writer: inout JSONWriter) throws {
        writer.beginObject()
        try writer.member("count", orNull: count)
        try writer.member("lastTimestamp", orNull: lastTimestamp)
        try writer.member("message", message)
        try writer.member("reason", reason)
        try writer.member("type", type)
        writer.endObject()
    }
}
