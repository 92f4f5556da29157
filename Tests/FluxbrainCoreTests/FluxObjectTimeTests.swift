import FluxbrainCore
import Foundation
import Testing

@Suite struct FluxObjectTimeTests {
    static let now = Fixture.now  // 2026-11-28T20:00:00Z

    static func object(_ name: String, at times: [String]) -> FluxObject {
        Fixture.object(
            kind: .kustomization,
            name: name,
            conditions: times.enumerated().map { index, time in
                Fixture.condition(index == 0 ? "Ready" : "Reconciling", "False", "Progressing", at: time)
            }
        )
    }

    @Test func takesTheNewestTransitionOfAnyConditionOfAnyObject() {
        let objects = [
            Self.object("a", at: ["2026-11-28T18:00:00Z", "2026-11-28T19:30:00Z"]),
            Self.object("b", at: ["2026-11-28T19:00:00Z"]),
        ]
        #expect(objects.takenAt(now: Self.now) == RFC3339.date(from: "2026-11-28T19:30:00Z"))
    }

    @Test func isNowWithoutObjectsOrConditions() {
        #expect([FluxObject]().takenAt(now: Self.now) == Self.now)
        #expect([Self.object("a", at: [])].takenAt(now: Self.now) == Self.now)
    }

    @Test func skipsTimestampsThatDoNotParse() {
        let objects = [Self.object("a", at: ["yesterday", "2026-11-28T19:00:00Z", "2026-13-40T99:00:00Z"])]
        #expect(objects.takenAt(now: Self.now) == RFC3339.date(from: "2026-11-28T19:00:00Z"))
        #expect([Self.object("b", at: ["yesterday"])].takenAt(now: Self.now) == Self.now)
    }

    @Test func readsFractionalSeconds() throws {
        let objects = [Self.object("a", at: ["2026-11-28T19:00:00Z", "2026-11-28T19:00:00.250Z"])]
        let expected = try #require(RFC3339.date(from: "2026-11-28T19:00:00Z")).addingTimeInterval(0.25)
        #expect(abs(objects.takenAt(now: Self.now).timeIntervalSince(expected)) < 0.001)
    }

    @Test func isNeverLaterThanNow() {
        let objects = [Self.object("a", at: ["2026-11-29T08:00:00Z"])]
        #expect(objects.takenAt(now: Self.now) == Self.now)
    }
}
