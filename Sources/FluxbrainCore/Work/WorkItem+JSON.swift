import Foundation

// The work item's JSON written and read by hand (``JSONWritable``, ``JSONReadable``): every item is written once on
// enqueue and read on every claim. The same bytes as its `Codable` conformance under `StableJSON`, which stays as
// the reference of the differential tests (Tests/FluxbrainCoreTests/DirectJSONTests.swift).

extension WorkItem: JSONWritable, JSONReadable {
    package func write(to writer: inout JSONWriter) throws {
        writer.beginObject()
        try writer.member("incident", incident)
        if opensIncident { try writer.member("opensIncident", true) }
        try writer.member("transition", transition)
        writer.endObject()
    }

    package init(reading scanner: inout JSONScanner) throws {
        var transition: Transition?
        var incident: Incident?
        var opensIncident = false
        try scanner.object { scanner, key in
            switch key {
            case "incident": incident = try scanner.require(Incident.self)
            case "opensIncident": opensIncident = try scanner.read(Bool.self) ?? false
            case "transition": transition = try scanner.require(Transition.self)
            default: try scanner.skip()
            }
        }
        self.init(
            transition: try scanner.required(transition, "transition"),
            incident: try scanner.required(incident, "incident"),
            opensIncident: opensIncident
        )
    }
}

extension WorkItem.Transition: JSONWritable, JSONReadable {}
