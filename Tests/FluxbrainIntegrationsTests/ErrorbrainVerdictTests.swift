import FluxbrainCore
import FluxbrainIntegrations
import Foundation
import Testing

@Suite struct ErrorbrainVerdictTests {
    /// The verdict the real server returned for docs scenario 01 (reference §7), created_at as it emits it.
    static let realVerdict = """
        {"id":"CF53E6BA-77DE-4D2A-820E-8AE3B6F3C0DE","event_id":"550e8400-e29b-41d4-a716-446655440001",
         "hypothesis":{"title":"Issue observed in flux-controller","description":"Reconciliation failed","confidence":0.85},
         "impact":{"severity":"critical","affected_components":["flux-controller","flux-kustomization"]},
         "recommended_actions":[
          {"title":"Inspect recent error","description":"Review the error message.","urgency":"high"},
          {"title":"Mitigate impact","description":"Consider rolling back.","urgency":"high"}],
         "evidence_refs":["550e8400-e29b-41d4-a716-446655440001#e0"],
         "created_at":"2026-11-28T20:26:05.093734"}
        """

    @Test func decodesWhatTheRealServerEmits() throws {
        let verdict = try Verdict.decode(Array(Self.realVerdict.utf8))
        #expect(verdict.id == "cf53e6ba-77de-4d2a-820e-8ae3b6f3c0de")
        #expect(verdict.confidence == 0.85)
        #expect(verdict.severity == .critical)
        #expect(verdict.actions.map(\.urgency) == [.high, .high])
        #expect(verdict.retryable == nil)
        let expected = try #require(RFC3339.date(from: "2026-11-28T20:26:05.093Z"))
        #expect(abs(verdict.createdAt.timeIntervalSince(expected)) < 0.001)
    }

    @Test(arguments: [
        (#""confidence":0.85"#, #""confidence":7"#, "the verdict's hypothesis.confidence is 7.0, outside 0…1"),
        (#""confidence":0.85"#, #""confidence":-0.1"#, "the verdict's hypothesis.confidence is -0.1, outside 0…1"),
        (#""confidence":0.85"#, #""confidence":"high""#, "the verdict's hypothesis.confidence is not a number"),
        (#","confidence":0.85"#, "", "the verdict is missing hypothesis.confidence"),
        (
            #""severity":"critical""#, #""severity":"fatal""#,
            #"the verdict's impact.severity "fatal" is not info, warning or critical"#
        ),
        (
            #""urgency":"high"}]"#, #""urgency":"now"}]"#,
            #"the verdict's recommended_actions[1].urgency "now" is not low, medium or high"#
        ),
        (#""evidence_refs":["550e8400-e29b-41d4-a716-446655440001#e0"],"#, "", "the verdict is missing evidence_refs"),
        (
            #""created_at":"2026-11-28T20:26:05.093734""#, #""created_at":"yesterday""#,
            #"the verdict's created_at "yesterday" is not a date"#
        ),
        (#"{"id":"#, #"["#, "the verdict is not valid JSON"),
    ])
    func rejectsBrokenVerdictsWithClearErrors(replace: String, with replacement: String, message: String) {
        let body = Self.realVerdict.replacingOccurrences(of: replace, with: replacement)
        #expect(body != Self.realVerdict)
        do {
            _ = try Verdict.decode(Array(body.utf8))
            Issue.record("accepted: \(body)")
        } catch {
            #expect(error.code == .invalidVerdict)
            #expect(error.message == message)
        }
    }

    @Test func acceptsAnIntegerConfidenceOfOne() throws {
        let body = Self.realVerdict.replacingOccurrences(of: #""confidence":0.85"#, with: #""confidence":1"#)
        #expect(try Verdict.decode(Array(body.utf8)).confidence == 1)
    }

    @Test func retryJudgementExtensionIsReadLeniently() throws {
        let body = Self.realVerdict.replacingOccurrences(
            of: #""confidence":0.85"#,
            with: #""confidence":0.85,"retryable":true"#
        )
        let verdict = try Verdict.decode(Array(body.utf8))
        #expect(verdict.retryable == true)
        let incident = ErrorbrainFixtures.incident(state: .stalled)
        let result = verdict.analysisResult(for: incident)
        #expect(result.retrySafety.basis == .errorbrain)
        #expect(result.retrySafety.fluxRetries)
    }

    @Test func withoutJudgementRetrySafetyComesFromFluxState() throws {
        let verdict = try Verdict.decode(Array(Self.realVerdict.utf8))
        let result = verdict.analysisResult(for: ErrorbrainFixtures.incident(state: .stalled))
        #expect(result.retrySafety == RetrySafety.derived(from: ErrorbrainFixtures.incident(state: .stalled)))
    }
}
