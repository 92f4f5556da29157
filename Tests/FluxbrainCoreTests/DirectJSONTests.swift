import FluxbrainTestSupport
import Foundation
import Testing

@testable import FluxbrainCore

/// The hand-written JSON of the per-item types (``JSONWritable``/``JSONReadable``: work items, incidents, analysis
/// results) against their `Codable` conformances, through `JSONEncoder`/`JSONDecoder` with the stable settings and
/// through `StableJSONDecoder` (what read them before): the same bytes, the same values, the same refusals.
@Suite struct DirectJSONTests {
    static func direct<T: JSONWritable>(_ value: T) throws -> String {
        var writer = JSONWriter()
        try value.write(to: &writer)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    static func reference<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try StableJSON.makeEncoder().encode(value), as: UTF8.self)
    }

    static func read<T: JSONReadable>(_ type: T.Type, _ text: String) throws -> T {
        try Array(text.utf8).withUnsafeBytes { try T.decodeJSON(from: $0) }
    }

    static func referenceRead<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try StableJSON.makeDecoder().decode(type, from: Data(text.utf8))
    }

    /// The `Codable` path `StableJSON.decode` took before (FastJSON and `StableJSONDecoder`); unlike `JSONDecoder`,
    /// it keeps the last of duplicate members.
    static func codableRead<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try Array(text.utf8).withUnsafeBytes { try StableJSONDecoder.decode(type, from: $0) }
    }

    // MARK: Writing

    @Test func workItemsAndIncidentsAreWrittenAsCodableWritesThem() throws {
        var generator = IncidentGenerator(seed: 7)
        for _ in 0..<400 {
            let item = generator.workItem()
            let text = try Self.direct(item)
            #expect(text == (try Self.reference(item)))
            #expect(try Self.direct(item.incident) == Self.reference(item.incident))
            // What the queue and the incident store call.
            #expect(try StableJSON.bytes(item) == Array(text.utf8))
        }
    }

    /// `opensIncident` is a member only when set, so items written before it existed read as not opening.
    @Test func anItemThatOpensItsIncidentSaysSoAndOthersDoNot() throws {
        let stored = try Self.read(WorkItem.self, Self.storedItem)
        #expect(!stored.opensIncident)
        #expect(!(try Self.direct(stored)).contains("opensIncident"))
        var opening = stored
        opening.opensIncident = true
        let text = try Self.direct(opening)
        #expect(text == (try Self.reference(opening)))
        #expect(text.contains(#""opensIncident":true"#))
        #expect(try Self.read(WorkItem.self, text) == opening)
        #expect(try Self.codableRead(WorkItem.self, text) == opening)
        #expect(try Self.referenceRead(WorkItem.self, text) == opening)
    }

    @Test func analysisResultsAreWrittenAsCodableWritesThem() throws {
        var generator = IncidentGenerator(seed: 8)
        for _ in 0..<300 {
            let result = generator.analysisResult()
            #expect(try Self.direct(result) == Self.reference(result))
            #expect(try StableJSON.bytes(result) == Array(try Self.reference(result).utf8))
        }
    }

    @Test func everyOptionalAbsentAndEveryCollectionEmpty() throws {
        let incident = Incident(
            object: ObjectReference(cluster: "", kind: .bucket, namespace: "", name: ""),
            state: .stuck,
            reason: "",
            message: "",
            revision: nil,
            detectedAt: Date(timeIntervalSince1970: 0)
        )
        #expect(try Self.direct(incident) == Self.reference(incident))
        var full = incident
        full.changes = IncidentChanges()
        full.status = .object([:])
        full.labels = [:]
        full.annotations = [:]
        #expect(try Self.direct(full) == Self.reference(full))
    }

    @Test(arguments: [Double.nan, .infinity, -.infinity])
    func nonFiniteConfidenceIsRefusedAsCodableRefusesIt(confidence: Double) {
        var generator = IncidentGenerator(seed: 1)
        var result = generator.analysisResult()
        result.confidence = confidence
        #expect(throws: EncodingError.self) { try Self.reference(result) }
        #expect(throws: EncodingError.self) { try Self.direct(result) }
    }

    @Test func jsonValuesSortKeysByTheirBytes() throws {
        let value: JSONValue = .object(
            Dictionary(uniqueKeysWithValues: IncidentGenerator.oddKeys.map { ($0, JSONValue.string($0)) })
        )
        #expect(try Self.direct(value) == Self.reference(value))
        // Through the Codable tree as a member of another value, too.
        #expect(try StableJSON.string(["v": value]) == Self.reference(["v": value]))
    }

    // MARK: Reading

    @Test func readsWhatCodableReadsFromWhatEitherWrites() throws {
        var generator = IncidentGenerator(seed: 9)
        for _ in 0..<400 {
            let item = generator.workItem()
            let text = try Self.reference(item)
            let direct = try Self.read(WorkItem.self, text)
            #expect(direct == (try Self.referenceRead(WorkItem.self, text)))
            #expect(direct == (try Self.codableRead(WorkItem.self, text)))
            // What the queue calls.
            #expect(try StableJSON.decode(WorkItem.self, from: Array(text.utf8)) == direct)
            #expect(try Self.read(Incident.self, Self.reference(item.incident)) == direct.incident)
        }
        for _ in 0..<200 {
            let result = generator.analysisResult()
            let text = try Self.reference(result)
            #expect(try Self.read(AnalysisResult.self, text) == Self.referenceRead(AnalysisResult.self, text))
            #expect(try Self.read(AnalysisResult.self, text) == Self.codableRead(AnalysisResult.self, text))
        }
    }

    /// A work item as the previous version stored it (pretty, so the diff stays readable; the bytes on the queue
    /// are the compact form), with every kind of member.
    static let storedItem = #"""
        {
          "incident" : {
            "affected" : [ { "cluster" : "prod", "kind" : "Kustomization", "name" : "apps", "namespace" : "flux-system" } ],
            "annotations" : { "fluxbrain.io/route" : "team-a" },
            "cause" : "accumulating resources: \"x\" not found",
            "changes" : { "commitURL" : null, "compareURL" : "https://github.com/o/r/compare/a...b", "failingChart" : null,
              "failingRevision" : "main@sha1:b", "pathURL" : null, "previousChart" : null, "previousRevision" : "main@sha1:a",
              "repositoryURL" : "https://github.com/o/r", "staleRevision" : null, "staleSince" : "2026-11-28T19:41:03Z" },
            "controller" : "kustomize-controller",
            "dependsOn" : [ ],
            "detectedAt" : "2026-11-28T19:48:30Z",
            "events" : [ { "count" : 5, "lastTimestamp" : "2026-11-28T19:47:11Z", "message" : "build failed\nagain",
              "reason" : "BuildFailed", "type" : "Warning" } ],
            "fingerprint" : "0f3b6c1d2e4a5b6c7d8e9f00112233445566778899aabbccddeeff0011223344",
            "generation" : 3,
            "helmHistory" : [ { "chartVersion" : "6.9.2", "status" : "failed", "version" : 7 } ],
            "labels" : { "app" : "podinfo" },
            "logLines" : [ { "level" : "error", "message" : "Reconciliation failed", "timestamp" : "2026-11-28T19:47:11Z" } ],
            "message" : "kustomize build failed: accumulating resources: \"x\" not found \u00e9 \/",
            "object" : { "cluster" : "prod", "kind" : "Kustomization", "name" : "infra", "namespace" : "flux-system" },
            "observedGeneration" : 2,
            "reason" : "BuildFailed",
            "remediation" : { "message" : "m", "reason" : "RollbackSucceeded", "summary" : "rolled back" },
            "retryInterval" : "2m0s",
            "revision" : "main@sha1:b",
            "since" : "2026-11-28T19:41:03Z",
            "source" : { "cluster" : "prod", "kind" : "GitRepository", "name" : "flux-system", "namespace" : "flux-system" },
            "state" : "retrying",
            "status" : { "conditions" : [ { "observedGeneration" : 2.0, "type" : "Ready" } ], "ratio" : 0.5 }
          },
          "transition" : "firing"
        }
        """#

    @Test func readsAnItemAsThePreviousVersionStoredIt() throws {
        let item = try Self.read(WorkItem.self, Self.storedItem)
        #expect(item == (try Self.referenceRead(WorkItem.self, Self.storedItem)))
        #expect(item == (try Self.codableRead(WorkItem.self, Self.storedItem)))
        #expect(item.incident.message.hasSuffix("\"x\" not found é /"))
        #expect(item.incident.changes?.staleSince == RFC3339.date(from: "2026-11-28T19:41:03Z"))
        // An integral number inside a JSONValue reads as an integer, as JSONDecoder reads it.
        #expect(item.incident.status?["conditions"]?.arrayValue?.first?["observedGeneration"] == .int(2))
        #expect(item.incident.helmHistory.first?.version == 7)
    }

    @Test func unknownMembersDuplicatesNullOptionalsAndIntegralNumbers() throws {
        var generator = IncidentGenerator(seed: 10)
        let result = generator.analysisResult()
        var text = try Self.reference(result)
        text.removeFirst()
        // An unknown member of every shape, the title twice (the last one counts, as before; JSONDecoder keeps the
        // first), a null optional, 1.0 for a number.
        text =
            #"{ "extra": {"a": [1, {"b": null}], "c": "\u00e9"}, "title": "first", "createdAt": null, "confidence": 1.0, "#
            + text.replacingOccurrences(of: #""confidence":"#, with: #""ignored":"#)
        let direct = try Self.read(AnalysisResult.self, text)
        #expect(direct == (try Self.codableRead(AnalysisResult.self, text)))
        #expect(direct.title == result.title && direct.confidence == 1 && direct.createdAt == result.createdAt)
    }

    // MARK: Refusals

    /// Every prefix of a stored item is refused with a `DecodingError` (never a crash), as `JSONDecoder` refuses it.
    @Test func truncatedItemsAreRefused() throws {
        var generator = IncidentGenerator(seed: 12)
        let text = try Self.reference(generator.workItem())
        let bytes = Array(text.utf8)
        for end in 0..<bytes.count {
            let prefix = String(decoding: bytes[..<end], as: UTF8.self)
            #expect(throws: DecodingError.self) { try StableJSON.decode(WorkItem.self, from: Array(bytes[..<end])) }
            #expect(throws: DecodingError.self) { try Self.referenceRead(WorkItem.self, prefix) }
        }
    }

    @Test(arguments: [
        // A required member missing, null, or of the wrong type; a bad enum, fingerprint, kind, date or number.
        (#""transition":"firing""#, #""transition2":"firing""#, "keyNotFound"),
        (#""transition":"firing""#, #""transition":null"#, "valueNotFound"),
        (#""transition":"firing""#, #""transition":"burning""#, "dataCorrupted"),
        (#""transition":"firing""#, #""transition":1"#, "typeMismatch"),
        (#""reason":"BuildFailed""#, #""reason":["BuildFailed"]"#, "typeMismatch"),
        (#""state":"retrying""#, #""state":"RETRYING""#, "dataCorrupted"),
        (#""kind":"Kustomization""#, #""kind":"Deployment""#, "dataCorrupted"),
        (#""detectedAt":"2026-11-28T19:48:30Z""#, #""detectedAt":"yesterday""#, "dataCorrupted"),
        (#""generation":3"#, #""generation":3.5"#, "dataCorrupted"),
        (#""generation":3"#, #""generation":"3""#, "typeMismatch"),
        (#""generation":3"#, #""generation":1e19"#, "dataCorrupted"),
        (#""dependsOn":[]"#, #""dependsOn":[null]"#, "valueNotFound"),
        (#""dependsOn":[]"#, #""dependsOn":{}"#, "typeMismatch"),
        (#""labels":{"app":"podinfo"}"#, #""labels":{"app":1}"#, "typeMismatch"),
        (#""count":5"#, #""count":true"#, "typeMismatch"),
    ])
    func refusesWhatCodableRefuses(original: String, replacement: String, kind: String) throws {
        let compact = try StableJSON.string(try Self.read(WorkItem.self, Self.storedItem))
        #expect(compact.contains(original))
        let text = compact.replacingOccurrences(of: original, with: replacement)
        let error = try #require(throws: DecodingError.self) { try Self.read(WorkItem.self, text) }
        #expect(throws: DecodingError.self) { try Self.referenceRead(WorkItem.self, text) }
        #expect(throws: DecodingError.self) { try Self.codableRead(WorkItem.self, text) }
        switch error {
        case .keyNotFound: #expect(kind == "keyNotFound", "\(error)")
        case .valueNotFound: #expect(kind == "valueNotFound", "\(error)")
        case .typeMismatch: #expect(kind == "typeMismatch", "\(error)")
        case .dataCorrupted: #expect(kind == "dataCorrupted", "\(error)")
        @unknown default: Issue.record("\(error)")
        }
    }

    /// The error says where: the coding path of a bad value deep inside the item.
    @Test func errorsCarryTheCodingPath() throws {
        let compact = try StableJSON.string(try Self.read(WorkItem.self, Self.storedItem))
        let text = compact.replacingOccurrences(of: #""count":5"#, with: #""count":"five""#)
        let error = try #require(throws: DecodingError.self) { try Self.read(WorkItem.self, text) }
        guard case .typeMismatch(_, let context) = error else {
            Issue.record("\(error)")
            return
        }
        #expect(context.codingPath.map(\.stringValue) == ["incident", "events", "Index 0", "count"])
    }

    @Test(arguments: ["", " ", "null", "[]", "{", "{}x", "\"firing\"", "{\"incident\":", "\u{FF}"])
    func documentsThatAreNotItemsAreRefused(text: String) {
        #expect(throws: DecodingError.self) { try StableJSON.decode(WorkItem.self, from: Array(text.utf8)) }
        #expect(throws: DecodingError.self) { try Self.referenceRead(WorkItem.self, text) }
    }
}
