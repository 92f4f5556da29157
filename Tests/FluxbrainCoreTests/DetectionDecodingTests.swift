import FluxbrainCore
import Foundation
import Testing

/// The fast list path (FastJSON + the hand-written mapping) decodes what `JSONDecoder` would.
@Suite struct DetectionDecodingTests {
    @Test func parsesEveryJSONShape() throws {
        let text =
            #" {"s":"a\"b\\c\/d\n\u00e9\ud83d\ude00","i":-42,"big":12345678901234567890,"d":1.5e3,"t":true,"f":false,"n":null,"a":[1,[2,{}],[]],"o":{}} "#
        let value = try FastJSON.parse(Array(text.utf8))
        #expect(value["s"] == .string("a\"b\\c/d\né😀"))
        #expect(value["i"] == .int(-42))
        #expect(value["big"] == .double(12_345_678_901_234_567_890))
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
        let text =
            #"{"keep":{"a":1,"b":{"deep":[1,2,"x\"y"]}},"drop":{"huge":[{"x":"y"}]},"list":[{"a":1,"z":2},{"a":3}]}"#
        let selection: FastJSON.Selection = .members(["keep": .members(["a": .all]), "list": .members(["a": .all])])
        let value = try Array(text.utf8).withUnsafeBytes { try FastJSON.parse($0, selecting: selection) }
        let first: JSONValue = .object(["a": .int(1)])
        let second: JSONValue = .object(["a": .int(3)])
        let expected: JSONValue = .object(["keep": first, "list": .array([first, second])])
        #expect(value == expected)
    }

    @Test func listFastPathMatchesTheFallbackMapping() throws {
        let failing = Fixture.json(
            kind: .helmRelease,
            name: "bad",
            generation: 5,
            observedGeneration: 5,
            conditions: [
                Fixture.condition(
                    "Stalled",
                    "True",
                    "RetriesExceeded",
                    "Failed to upgrade after 1 attempt(s)",
                    generation: 5
                ),
                Fixture.condition("Ready", "False", "UpgradeFailed", "Helm upgrade failed", generation: 5),
            ],
            statusExtra:
                #""helmChart":"flux-system/flux-system-bad","history":[{"version":2,"status":"failed"}],"inventory":{"entries":[]}"#
        )
        let healthy = Fixture.json(
            kind: .gitRepository,
            name: "ok",
            conditions: [Fixture.condition("Ready", "True", "Succeeded")]
        )
        let chart = Fixture.json(
            kind: .helmChart,
            name: "chart",
            conditions: [Fixture.condition("Ready", "False", "ChartPullError")]
        )
        let malformed = Fixture.json(kind: .kustomization, name: "odd", conditions: [], specExtra: #""suspend":"yes""#)
        let text =
            #"{"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":"77","continue":"abc"},"items":["#
            + [failing, healthy, chart, malformed].joined(separator: ",") + "]}"
        let fast = try ObjectList(json: Data(text.utf8))
        let fallback = try ScannerEquivalenceTests.mapEachItem(FastJSON.parse(Array(text.utf8)))
        #expect(fast.resourceVersion == "77" && fast.continueToken == "abc")
        #expect(fast.items.map(\.metadata.name) == ["bad", "ok", "chart"])
        #expect(fast.malformed.map(\.name) == ["odd"])
        #expect(fast.malformed.first?.reason == ".spec.suspend: expected Bool")
        #expect(fallback.malformed.map(\.name) == ["odd"])
        // Objects that may fail keep their whole status; healthy ones do not need it.
        #expect(fast.items[0].rawStatus == fallback.items[0].rawStatus)
        #expect(fast.items[0].rawStatus?["inventory"] != nil)
        #expect(fast.items[1].rawStatus == nil)
        #expect(fast.items[2].spec?.chart?.name == "podinfo")
        let detector = Detector()
        let fromFast = detector.assess(fast.items, cluster: "c", now: Fixture.now)
        let fromFallback = detector.assess(fallback.items, cluster: "c", now: Fixture.now)
        #expect(fromFast.incidents == fromFallback.incidents)
        #expect(fromFast.incidents.map(\.object.name) == ["chart", "bad"])
        #expect(fromFast.incidents.last?.helmHistory.map(\.version) == [2])
    }
}

/// The list fast path (`FluxObject.scan`, straight into structs) accepts, maps and refuses exactly what the
/// hand-written mapping over a full parse (`FluxObject.init(json:)`, the fallback) does, for every kind and for odd shapes.
@Suite struct ScannerEquivalenceTests {
    static let ready = Fixture.condition("Ready", "True", "Succeeded")
    static let failing = Fixture.condition("Ready", "False", "BuildFailed", "kustomize build failed: \"x\"\n\u{e9}")

    /// Items to decode both ways, each with a name for the report.
    static let variants: [(name: String, item: String)] = {
        var variants: [(String, String)] = []
        for kind in FluxKind.all {
            variants.append(("\(kind.name) ready", Fixture.json(kind: kind, name: "r", conditions: [ready])))
            variants.append(("\(kind.name) failing", Fixture.json(kind: kind, name: "f", conditions: [failing])))
        }
        let k = FluxKind.kustomization
        let h = FluxKind.helmRelease
        variants += [
            ("null status", #"{"kind":"Kustomization","metadata":{"name":"n"},"status":null,"spec":null}"#),
            ("empty status", #"{"kind":"Kustomization","metadata":{"name":"n"},"status":{}}"#),
            ("integral double generation", #"{"kind":"Kustomization","metadata":{"name":"n","generation":3.0}}"#),
            ("fractional generation", #"{"kind":"Kustomization","metadata":{"name":"n","generation":3.5}}"#),
            ("escaped key", #"{"kind":"Kustomization","metadata":{"n\u0061me":"esc"}}"#),
            ("duplicate key, last wins", #"{"kind":"Kustomization","metadata":{"name":"a","name":"b"}}"#),
            (
                "bad first duplicate",
                #"{"kind":"Kustomization","spec":{"suspend":"x","suspend":true},"metadata":{"name":"d"}}"#
            ),
            ("missing name", #"{"kind":"Kustomization","metadata":{"namespace":"x"}}"#),
            ("missing kind", #"{"metadata":{"name":"x"}}"#),
            ("metadata null", #"{"kind":"Kustomization","metadata":null}"#),
            ("item not an object", #""just a string""#),
            ("label not a string", #"{"kind":"Kustomization","metadata":{"name":"l","labels":{"a":1}}}"#),
            ("labels null", #"{"kind":"Kustomization","metadata":{"name":"l","labels":null}}"#),
            (
                "condition without status",
                #"{"kind":"Kustomization","metadata":{"name":"c"},"status":{"conditions":[{"type":"Ready"}]}}"#
            ),
            ("condition null", #"{"kind":"Kustomization","metadata":{"name":"c"},"status":{"conditions":[null]}}"#),
            (
                "conditions not an array",
                #"{"kind":"Kustomization","metadata":{"name":"c"},"status":{"conditions":{}}}"#
            ),
            (
                "dependsOn without name",
                #"{"kind":"Kustomization","metadata":{"name":"d"},"spec":{"dependsOn":[{"namespace":"x"}]}}"#
            ),
            (
                "sourceRef without kind",
                #"{"kind":"Kustomization","metadata":{"name":"s"},"spec":{"sourceRef":{"name":"x"}}}"#
            ),
            ("chart as number", #"{"kind":"HelmRelease","metadata":{"name":"c"},"spec":{"chart":5}}"#),
            ("chart null", #"{"kind":"HelmRelease","metadata":{"name":"c"},"spec":{"chart":null}}"#),
            ("chart spec null", #"{"kind":"HelmRelease","metadata":{"name":"c"},"spec":{"chart":{"spec":null}}}"#),
            ("artifact wrong type", #"{"kind":"GitRepository","metadata":{"name":"a"},"status":{"artifact":[]}}"#),
            (
                "helm history odd entries",
                #"{"kind":"HelmRelease","metadata":{"name":"h"},"status":{"history":[{"version":1,"status":7},{"status":"x"},{"version":"2"},{"version":3,"chartName":"c"}]}}"#
            ),
            ("history not objects", #"{"kind":"HelmRelease","metadata":{"name":"h"},"status":{"history":[1,2]}}"#),
            ("history an object", #"{"kind":"HelmRelease","metadata":{"name":"h"},"status":{"history":{"a":1}}}"#),
            (
                "kustomization history",
                Fixture.json(
                    kind: k,
                    name: "kh",
                    conditions: [failing],
                    statusExtra: #""history":[{"digest":"sha256:1","totalReconciliations":3}]"#
                )
            ),
            (
                "helm history",
                Fixture.json(
                    kind: h,
                    name: "hh",
                    conditions: [failing],
                    statusExtra: #""history":[{"version":4,"status":"failed","chartVersion":"6.9.3"}]"#
                )
            ),
            (
                "unknown nested fields",
                #"{"kind":"Kustomization","metadata":{"name":"u","managedFields":[{"f:spec":{"f:x":{}}}]},"spec":{"values":{"a":[1,{"b":null}]}},"extra":[true,false,null,-1.5e3]}"#
            ),
        ]
        return variants
    }()

    /// The fallback alone: every item of a parsed list through `FluxObject.init(json:)`.
    static func mapEachItem(_ value: JSONValue) throws -> ObjectList {
        var list = ObjectList(items: [])
        guard case .array(let elements)? = value["items"] else { return list }
        for (index, element) in elements.enumerated() {
            do {
                list.items.append(try FluxObject(json: element))
            } catch {
                list.malformed.append(
                    ObjectList.MalformedItem(
                        index: index,
                        name: element["metadata"]?["name"]?.stringValue,
                        reason: ObjectList.describe(error)
                    )
                )
            }
        }
        return list
    }

    @Test(arguments: 0..<variants.count)
    func scannerAgreesWithTheMapping(index: Int) throws {
        let (name, item) = Self.variants[index]
        let healthy = Fixture.json(kind: .gitRepository, name: "neighbour", conditions: [Self.ready])
        let text =
            #"{"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":"9"},"items":["# + item + "," + healthy
            + "]}"
        let fast = try ObjectList(json: Data(text.utf8))
        var slow = try Self.mapEachItem(FastJSON.parse(Array(text.utf8)))
        // The full mapping keeps every status; the list path keeps it only for objects that may fail.
        for position in slow.items.indices where !slow.items[position].mayFail { slow.items[position].rawStatus = nil }
        #expect(fast.items == slow.items, "\(name)")
        #expect(fast.malformed == slow.malformed, "\(name)")
        #expect(fast.items.map(\.metadata.name).last == "neighbour", "\(name): the next item is still read")
        #expect(fast.items.count + fast.malformed.count == 2, "\(name)")
    }

    @Test func refusesTruncatedListsAsSyntaxErrors() throws {
        let item = Fixture.json(kind: .kustomization, name: "x", conditions: [Self.failing])
        let text = #"{"items":["# + item + "]}"
        for cut in stride(from: 1, to: text.utf8.count - 1, by: 37) {
            let prefix = Data(text.utf8.prefix(cut))
            #expect(throws: FastJSON.SyntaxError.self) { _ = try ObjectList(json: prefix) }
        }
        #expect(throws: DecodingError.self) { _ = try ObjectList(json: Data("[1,2]".utf8)) }
    }
}
