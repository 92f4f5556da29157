import FluxbrainCore
import Foundation
import Testing

/// The fast list path (FastJSON + the hand-written mapping) decodes what `JSONDecoder` would.
@Suite struct DetectionDecodingTests {
    @Test func parsesEveryJSONShape() throws {
        let text = #" {"s":"a\"b\\c\/d\n\u00e9\ud83d\ude00","i":-42,"big":12345678901234567890,"d":1.5e3,"t":true,"f":false,"n":null,"a":[1,[2,{}],[]],"o":{}} "#
        let value = try FastJSON.parse(Array(text.utf8))
        #expect(value["s"] == .string("a\"b\\c/d\né😀"))
        #expect(value["i"] == .int(-42))
        #expect(value["big"] == .double(12345678901234567890))
        #expect(value["d"] == .double(1500))
        #expect(value["t"] == .bool(true) && value["f"] == .bool(false) && value["n"] == .null)
        #expect(value["a"] == .array([.int(1), .array([.int(2), .object([:])]), .array([])]))
        #expect(value["o"] == .object([:]))
        let standard = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        #expect(value["s"] == standard["s"])
    }

    @Test(arguments: [#"{"a":1"#, #"{"a" 1}"#, #"[1,]"#, #"{"a":tru}"#, "\"unterminated", #"{"a":"x"} extra"#, ""])
    func refusesInvalidJSON(text: String) {
        #expect(throws: FastJSON.SyntaxError.self) { _ = try FastJSON.parse(Array(text.utf8)) }
    }

    @Test func refusesDeepNesting() {
        let text = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        #expect(throws: FastJSON.SyntaxError.self) { _ = try FastJSON.parse(Array(text.utf8)) }
    }

    @Test func selectionSkipsWhatIsNotRead() throws {
        let text = #"{"keep":{"a":1,"b":{"deep":[1,2,"x\"y"]}},"drop":{"huge":[{"x":"y"}]},"list":[{"a":1,"z":2},{"a":3}]}"#
        let selection: FastJSON.Selection = .members(["keep": .members(["a": .all]), "list": .members(["a": .all])])
        let value = try Array(text.utf8).withUnsafeBytes { try FastJSON.parse($0, selecting: selection) }
        let first: JSONValue = .object(["a": .int(1)])
        let second: JSONValue = .object(["a": .int(3)])
        let expected: JSONValue = .object(["keep": first, "list": .array([first, second])])
        #expect(value == expected)
    }

    @Test func listFastPathMatchesCodable() throws {
        let failing = Fixture.json(
            kind: .helmRelease, name: "bad", generation: 5, observedGeneration: 5,
            conditions: [
                Fixture.condition("Stalled", "True", "RetriesExceeded", "Failed to upgrade after 1 attempt(s)", generation: 5),
                Fixture.condition("Ready", "False", "UpgradeFailed", "Helm upgrade failed", generation: 5),
            ],
            statusExtra: #""helmChart":"flux-system/flux-system-bad","history":[{"version":2,"status":"failed"}],"inventory":{"entries":[]}"#)
        let healthy = Fixture.json(kind: .gitRepository, name: "ok", conditions: [Fixture.condition("Ready", "True", "Succeeded")])
        let chart = Fixture.json(kind: .helmChart, name: "chart", conditions: [Fixture.condition("Ready", "False", "ChartPullError")])
        let malformed = Fixture.json(kind: .kustomization, name: "odd", conditions: [], specExtra: #""suspend":"yes""#)
        let text = #"{"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":"77","continue":"abc"},"items":["#
            + [failing, healthy, chart, malformed].joined(separator: ",") + "]}"
        let fast = try ObjectList(json: Data(text.utf8))
        let codable = try JSONDecoder().decode(ObjectList.self, from: Data(text.utf8))
        #expect(fast.resourceVersion == "77" && fast.continueToken == "abc")
        #expect(fast.items.map(\.metadata.name) == ["bad", "ok", "chart"])
        #expect(codable.items.map(\.metadata.name) == ["bad", "ok", "chart"])
        #expect(fast.malformed.map(\.name) == ["odd"])
        #expect(fast.malformed.first?.reason == ".spec.suspend: expected Bool")
        #expect(codable.malformed.map(\.name) == ["odd"])
        // Objects that may fail keep their whole status; healthy ones do not need it.
        #expect(fast.items[0].rawStatus == codable.items[0].rawStatus)
        #expect(fast.items[0].rawStatus?["inventory"] != nil)
        #expect(fast.items[1].rawStatus == nil)
        #expect(fast.items[2].spec?.chart?.name == "podinfo")
        let detector = Detector()
        let fromFast = detector.assess(fast.items, cluster: "c", now: Fixture.now)
        let fromCodable = detector.assess(codable.items, cluster: "c", now: Fixture.now)
        #expect(fromFast.incidents == fromCodable.incidents)
        #expect(fromFast.incidents.map(\.object.name) == ["chart", "bad"])
        #expect(fromFast.incidents.last?.helmHistory.map(\.version) == [2])
    }
}
