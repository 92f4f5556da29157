import FluxbrainCore
import FluxbrainTestSupport
import Foundation
import Testing

/// `StableJSON.encode` (its own encoder) writes exactly the bytes `JSONEncoder` with the stable settings writes
/// (`StableJSON.makeEncoder()`, kept as the reference): over incidents, work items, analysis results, generated
/// Flux statuses and a value that exercises every primitive, escape and container kind.
@Suite struct StableJSONEncoderTests {
    static func reference<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try StableJSON.makeEncoder().encode(value), as: UTF8.self)
    }

    static func fast<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try StableJSON.encode(value), as: UTF8.self)
    }

    static let controlCharacters = String(String.UnicodeScalarView((0..<0x21).compactMap(Unicode.Scalar.init)))

    static func incident(status: JSONValue?) -> Incident {
        Incident(
            object: ObjectReference(cluster: "prod", kind: .kustomization, namespace: "flux-system", name: "apps"),
            state: .retrying,
            reason: "BuildFailed",
            message: "kustomize build failed: <html> & \"quotes\" / slash \u{2028} é \u{7F}" + controlCharacters,
            revision: "main@sha1:abc",
            lastAppliedRevision: "main@sha1:def",
            retryInterval: "2m0s",
            events: [
                EventRecord(
                    type: "Warning",
                    reason: "ReconciliationFailed",
                    message: "apply failed\nline two\ttab",
                    count: 3,
                    lastTimestamp: Date(timeIntervalSince1970: 1_795_000_123.456)
                )
            ],
            status: status,
            detectedAt: Date(timeIntervalSince1970: 1_795_000_000)
        )
    }

    @Test func incidentsAndWorkItemsMatchJSONEncoder() throws {
        var generator = FluxMessageGenerator(seed: 11)
        for index in 0..<200 {
            let incident = Self.incident(status: index == 0 ? nil : generator.status())
            #expect(try Self.fast(incident) == Self.reference(incident))
            let item = WorkItem(transition: index % 2 == 0 ? .firing : .resolved, incident: incident)
            #expect(try Self.fast(item) == Self.reference(item))
        }
    }

    @Test func analysisResultsMatchJSONEncoder() throws {
        let incident = Self.incident(status: nil)
        var result = AnalysisFixtures.result(for: incident)
        result.affectedComponents.append("source-controller")
        result.createdAt = Date(timeIntervalSince1970: 1_795_000_000.5)
        #expect(try Self.fast(result) == Self.reference(result))
    }

    struct Everything: Encodable {
        var doubles: [String: Double] = [
            "b": 1.0, "a": 0.1, "é": 1e20, "z": 1e-7, "Z": 123_456_789.125, "y": -0.0, "x": 1e16, "w": 2.5e15,
            "v": .leastNonzeroMagnitude, "u": .greatestFiniteMagnitude, "t": -3.75,
        ]
        var float: Float = 0.1
        var integers: [Int64] = [0, -1, .max, .min]
        var small: [Int8] = [-128, 127]
        var unsigned: [UInt64] = [0, .max]
        var text = StableJSONEncoderTests.controlCharacters + "\u{7F}\u{2028}é/\"\\ \u{1F600}"
        var url = URL(string: "https://example.com/a%20b?c=d&e=/f")!
        var data = Data([0, 1, 2, 250, 251, 252])
        var decimal = Decimal(string: "1.5")!
        var date = Date(timeIntervalSince1970: 1_795_000_000.999)
        var missing: String? = nil
        var optionals: [String?] = ["a", nil]
        var unicodeKeys: [String: Int] = ["ä": 1, "b": 2, "B": 3, "a\u{301}": 4, "": 5]
        var intKeys: [Int: String] = [10: "ten", 2: "two"]
        var nested: [[String: [Bool]]] = [["k": [true, false]], [:]]
        var empty: [String] = []
        var json: JSONValue = .object(["b": .array([.null, .bool(true), .int(-3), .double(2.5)]), "a": .string("x")])

        enum Extra: String, CodingKey { case deep, list, parent, single }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(doubles, forKey: .doubles)
            try container.encode(float, forKey: .float)
            try container.encode(integers, forKey: .integers)
            try container.encode(small, forKey: .small)
            try container.encode(unsigned, forKey: .unsigned)
            try container.encode(text, forKey: .text)
            try container.encode(url, forKey: .url)
            try container.encode(data, forKey: .data)
            try container.encode(decimal, forKey: .decimal)
            try container.encode(date, forKey: .date)
            try container.encodeIfPresent(missing, forKey: .missing)
            try container.encode(optionals, forKey: .optionals)
            try container.encode(unicodeKeys, forKey: .unicodeKeys)
            try container.encode(intKeys, forKey: .intKeys)
            try container.encode(nested, forKey: .nested)
            try container.encode(empty, forKey: .empty)
            try container.encode(json, forKey: .json)
            // The same key twice: the last value wins.
            try container.encode("first", forKey: .text)
            try container.encode("second", forKey: .text)
            var extra = encoder.container(keyedBy: Extra.self)
            var deep = extra.nestedContainer(keyedBy: Extra.self, forKey: .deep)
            try deep.encodeNil(forKey: .single)
            var list = deep.nestedUnkeyedContainer(forKey: .list)
            try list.encode(1.5)
            try list.encodeNil()
            var inner = list.nestedContainer(keyedBy: Extra.self)
            try inner.encode(true, forKey: .single)
            let parent = extra.superEncoder(forKey: .parent)
            var single = parent.singleValueContainer()
            try single.encode("from the super encoder")
        }

        enum CodingKeys: String, CodingKey {
            case doubles, float, integers, small, unsigned, text, url, data, decimal, date, missing, optionals
            case unicodeKeys, intKeys, nested, empty, json
        }
    }

    @Test func everyPrimitiveEscapeAndContainerMatchesJSONEncoder() throws {
        let value = Everything()
        #expect(try Self.fast(value) == Self.reference(value))
        #expect(try Self.fast([value]) == Self.reference([value]))
        #expect(try Self.fast("top-level /string") == Self.reference("top-level /string"))
        #expect(try Self.fast(42) == Self.reference(42))
        #expect(try Self.fast(Optional<Int>.none) == Self.reference(Optional<Int>.none))
    }

    @Test(arguments: [Double.nan, .infinity, -.infinity])
    func nonFiniteNumbersAreRefused(number: Double) {
        #expect(throws: EncodingError.self) { try StableJSON.encode(["x": number]) }
    }

    @Test func prettyOutputStillComesFromJSONEncoder() throws {
        let incident = Self.incident(status: nil)
        let pretty = try StableJSON.string(incident, pretty: true)
        #expect(pretty == String(decoding: try StableJSON.makeEncoder(pretty: true).encode(incident), as: UTF8.self))
        #expect(pretty.contains("\n"))
    }
}

/// `StableJSON.decode` (FastJSON and its own decoder) gives the values `JSONDecoder` with the stable settings gives
/// (`StableJSON.makeDecoder()`, the reference), and refuses what it refuses.
@Suite struct StableJSONDecoderTests {
    static func reference<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try StableJSON.makeDecoder().decode(type, from: Data(text.utf8))
    }

    static func fast<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try StableJSON.decode(type, from: Array(text.utf8))
    }

    @Test func incidentsAndWorkItemsMatchJSONDecoder() throws {
        var generator = FluxMessageGenerator(seed: 23)
        for index in 0..<200 {
            let incident = StableJSONEncoderTests.incident(status: index == 0 ? nil : generator.status())
            let item = WorkItem(transition: index % 2 == 0 ? .firing : .resolved, incident: incident)
            let text = try StableJSON.string(item)
            let decoded = try Self.fast(WorkItem.self, text)
            #expect(decoded == (try Self.reference(WorkItem.self, text)))
            // Dates are written to the second, so compare with the item re-read, not with `item` itself.
            #expect(decoded.key == item.key && decoded.incident.status == item.incident.status)
        }
    }

    @Test func analysisResultsMatchJSONDecoder() throws {
        let incident = StableJSONEncoderTests.incident(status: nil)
        let result = AnalysisFixtures.result(for: incident)
        let text = try StableJSON.string(result)
        #expect(try Self.fast(AnalysisResult.self, text) == Self.reference(AnalysisResult.self, text))
    }

    struct Numbers: Codable, Equatable {
        var int: Int
        var small: Int8
        var unsigned: UInt64
        var double: Double
        var float: Float
        var optional: String?
        var list: [Int?]
        var date: Date
        var url: URL
        var data: Data
        var json: JSONValue
        var map: [String: Double]
    }

    @Test func numbersDatesAndJSONValuesMatchJSONDecoder() throws {
        let text = #"""
            {"int": 1.0, "small": -128, "unsigned": 9223372036854775807, "double": 3, "float": 0.1,
             "optional": null, "list": [1, null, 2e2], "date": "2026-11-28T20:26:05.093Z",
             "url": "https://example.com/a%20b", "data": "AAEC+vv8",
             "json": {"a": [1, 1.0, 1.5, 1e2, -0, 1e300, 18446744073709551615, "x\u00e9\n", true, null, {}]},
             "map": {"b": 1, "a": -2.5}}
            """#
        #expect(try Self.fast(Numbers.self, text) == Self.reference(Numbers.self, text))
    }

    @Test(arguments: [
        #"{"int": 1.5, "small": 0, "unsigned": 0, "double": 0, "float": 0, "list": [], "date": "2026-11-28T20:26:05Z", "url": "x", "data": "", "json": 1, "map": {}}"#,
        #"{"int": 1, "small": 300, "unsigned": 0, "double": 0, "float": 0, "list": [], "date": "2026-11-28T20:26:05Z", "url": "x", "data": "", "json": 1, "map": {}}"#,
        #"{"int": 1, "small": 0, "unsigned": -1, "double": 0, "float": 0, "list": [], "date": "2026-11-28T20:26:05Z", "url": "x", "data": "", "json": 1, "map": {}}"#,
        #"{"int": "1", "small": 0, "unsigned": 0, "double": 0, "float": 0, "list": [], "date": "2026-11-28T20:26:05Z", "url": "x", "data": "", "json": 1, "map": {}}"#,
        #"{"int": null, "small": 0, "unsigned": 0, "double": 0, "float": 0, "list": [], "date": "2026-11-28T20:26:05Z", "url": "x", "data": "", "json": 1, "map": {}}"#,
        #"{"small": 0, "unsigned": 0, "double": 0, "float": 0, "list": [], "date": "2026-11-28T20:26:05Z", "url": "x", "data": "", "json": 1, "map": {}}"#,
        #"{"int": 1, "small": 0, "unsigned": 0, "double": 0, "float": 0, "list": [], "date": "yesterday", "url": "x", "data": "", "json": 1, "map": {}}"#,
        #"{"int": 1, "small": 0, "unsigned": 0, "double": 0, "float": 0, "list": [], "date": "2026-11-28T20:26:05Z", "url": "x", "data": "", "json": 1, "map": {}"#,
        #"[1, 2]"#,
    ])
    func refusesWhatJSONDecoderRefuses(text: String) {
        #expect(throws: DecodingError.self) { try Self.reference(Numbers.self, text) }
        #expect(throws: DecodingError.self) { try Self.fast(Numbers.self, text) }
    }
}
