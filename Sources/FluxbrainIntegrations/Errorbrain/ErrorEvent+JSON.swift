import FluxbrainCore

// The Errorbrain event's body written by hand (``JSONWritable``): one per analysed item. The same bytes as its
// `Codable` conformance under `StableJSON` (spec/v1 field names, keys sorted, `nil` left out), which stays as the
// reference of the differential tests (Tests/FluxbrainIntegrationsTests/DirectJSONWritingTests.swift).

extension ErrorEvent: JSONWritable {
    package func write(to writer: inout JSONWriter) throws {
        writer.beginObject()
        try writer.member("error_type", ifPresent: errorType)
        try writer.member("evidence", ifPresent: evidence)
        try writer.member("id", id)
        try writer.member("message", message)
        try writer.member("metadata", ifPresent: metadata)
        try writer.member("severity", ifPresent: severity)
        try writer.member("source", source)
        try writer.member("stack_trace", ifPresent: stackTrace)
        try writer.member("timestamp", timestamp)
        writer.endObject()
    }
}

extension ErrorEvent.Severity: JSONWritable {}

extension ErrorEvent.Environment: JSONWritable {}

extension ErrorEvent.EvidenceType: JSONWritable {}

extension ErrorEvent.Source: JSONWritable {
    package func write(to writer: inout JSONWriter) throws {
        writer.beginObject()
        try writer.member("environment", ifPresent: environment)
        try writer.member("hostname", ifPresent: hostname)
        try writer.member("language", language)
        try writer.member("name", name)
        try writer.member("tags", ifPresent: tags)
        try writer.member("version", ifPresent: version)
        writer.endObject()
    }
}

extension ErrorEvent.Evidence: JSONWritable {
    package func write(to writer: inout JSONWriter) throws {
        writer.beginObject()
        try writer.member("data", data)
        try writer.member("timestamp", ifPresent: timestamp)
        try writer.member("type", type)
        writer.endObject()
    }
}
