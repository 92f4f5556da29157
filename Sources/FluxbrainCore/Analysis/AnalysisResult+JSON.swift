import Foundation

// The analysis result's JSON written and read by hand (``JSONWritable``, ``JSONReadable``): stored in Redis once
// per analysed item and read back on every cache hit. The same bytes as its `Codable` conformance under
// `StableJSON`, which stays as the reference of the differential tests
// (Tests/FluxbrainCoreTests/DirectJSONTests.swift).

extension AnalysisResult: JSONWritable, JSONReadable {
    package func write(to writer: inout JSONWriter) throws {
        writer.beginObject()
        try writer.member("actions", actions)
        try writer.member("affectedComponents", affectedComponents)
        try writer.member("confidence", confidence)
        try writer.member("createdAt", ifPresent: createdAt)
        try writer.member("description", description)
        try writer.member("eventID", eventID)
        try writer.member("evidenceRefs", evidenceRefs)
        try writer.member("retrySafety", retrySafety)
        try writer.member("severity", severity)
        try writer.member("title", title)
        try writer.member("verdictID", verdictID)
        writer.endObject()
    }

    package init(reading scanner: inout JSONScanner) throws {
        var verdictID: String?
        var eventID: String?
        var title: String?
        var description: String?
        var confidence: Double?
        var severity: Severity?
        var affectedComponents: [String]?
        var actions: [Action]?
        var evidenceRefs: [String]?
        var createdAt: Date?
        var retrySafety: RetrySafety?
        try scanner.object { scanner, key in
            switch key {
            case "actions": actions = try scanner.require([Action].self)
            case "affectedComponents": affectedComponents = try scanner.require([String].self)
            case "confidence": confidence = try scanner.require(Double.self)
            case "createdAt": createdAt = try scanner.read(Date.self)
            case "description": description = try scanner.require(String.self)
            case "eventID": eventID = try scanner.require(String.self)
            case "evidenceRefs": evidenceRefs = try scanner.require([String].self)
            case "retrySafety": retrySafety = try scanner.require(RetrySafety.self)
            case "severity": severity = try scanner.require(Severity.self)
            case "title": title = try scanner.require(String.self)
            case "verdictID": verdictID = try scanner.require(String.self)
            default: try scanner.skip()
            }
        }
        self.init(
            verdictID: try scanner.required(verdictID, "verdictID"),
            eventID: try scanner.required(eventID, "eventID"),
            title: try scanner.required(title, "title"),
            description: try scanner.required(description, "description"),
            confidence: try scanner.required(confidence, "confidence"),
            severity: try scanner.required(severity, "severity"),
            affectedComponents: try scanner.required(affectedComponents, "affectedComponents"),
            actions: try scanner.required(actions, "actions"),
            evidenceRefs: try scanner.required(evidenceRefs, "evidenceRefs"),
            createdAt: createdAt,
            retrySafety: try scanner.required(retrySafety, "retrySafety")
        )
    }
}

extension AnalysisResult.Severity: JSONWritable, JSONReadable {}

extension AnalysisResult.Action: JSONWritable, JSONReadable {
    package func write(to writer: inout JSONWriter) throws {
        writer.beginObject()
        try writer.member("description", description)
        try writer.member("title", title)
        try writer.member("urgency", urgency)
        writer.endObject()
    }

    package init(reading scanner: inout JSONScanner) throws {
        var title: String?
        var description: String?
        var urgency: Urgency?
        try scanner.object { scanner, key in
            switch key {
            case "description": description = try scanner.require(String.self)
            case "title": title = try scanner.require(String.self)
            case "urgency": urgency = try scanner.require(Urgency.self)
            default: try scanner.skip()
            }
        }
        self.init(
            title: try scanner.required(title, "title"),
            description: try scanner.required(description, "description"),
            urgency: try scanner.required(urgency, "urgency")
        )
    }
}

extension AnalysisResult.Action.Urgency: JSONWritable, JSONReadable {}

extension RetrySafety: JSONWritable, JSONReadable {
    package func write(to writer: inout JSONWriter) throws {
        writer.beginObject()
        try writer.member("basis", basis)
        try writer.member("fluxRetries", fluxRetries)
        try writer.member("summary", summary)
        writer.endObject()
    }

    package init(reading scanner: inout JSONScanner) throws {
        var fluxRetries: Bool?
        var summary: String?
        var basis: Basis?
        try scanner.object { scanner, key in
            switch key {
            case "basis": basis = try scanner.require(Basis.self)
            case "fluxRetries": fluxRetries = try scanner.require(Bool.self)
            case "summary": summary = try scanner.require(String.self)
            default: try scanner.skip()
            }
        }
        self.init(
            fluxRetries: try scanner.required(fluxRetries, "fluxRetries"),
            summary: try scanner.required(summary, "summary"),
            basis: try scanner.required(basis, "basis")
        )
    }
}

extension RetrySafety.Basis: JSONWritable, JSONReadable {}
