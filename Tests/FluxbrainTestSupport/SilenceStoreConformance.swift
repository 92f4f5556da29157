import FluxbrainCore
import Foundation

/// The semantics every `SilenceStore` must have, as one reusable suite: `InMemorySilenceStore` runs it in
/// `FluxbrainCoreTests`, `RedisSilenceStore` runs the same against a real server.
///
/// Time is injected: every check passes its own `now` to the store, as offsets from `base`; nothing sleeps. A Redis
/// store removes silences by Redis' clock once they ended more than its retention ago, so `base` must be close to
/// the real time for it (the checks reach at most 3 h after `base`; silences end at most 4 h after it). Every check
/// works with fresh random ids and looks only at its own silences, so one store can serve the whole suite.
package enum SilenceStoreConformance {
    /// The checks, by name.
    package static let checks: [String] = [
        "activeFromStartUntilEnd", "activeIsOrderedByEndThenID", "expireEndsAnActiveSilence",
        "expireOfUnknownOrEndedIsFalse", "expireBeforeStartIsFalse", "everyFieldRoundTrips", "sameIDReplaces",
        "invalidSilencesAreRefused",
    ]

    /// `base` rounded down to whole seconds (stores may keep milliseconds only).
    package static func base(_ date: Date = Date()) -> Date {
        Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down))
    }

    /// Runs every check; throws the first `ConformanceFailure`.
    package static func run(store: any SilenceStore, base: Date = base()) async throws {
        for check in checks { try await run(check, store: store, base: base) }
    }

    /// A silence of `minutes` from `base + startMinutes` on `namespace=<random>`.
    package static func silence(
        id: String = UUID().uuidString.lowercased(),
        base: Date,
        startMinutes: Double = 0,
        minutes: Double,
        matchers: IncidentSelector? = nil
    ) -> Silence {
        Silence(
            id: id,
            matchers: matchers ?? IncidentSelector(namespaces: [Glob(UUID().uuidString)]),
            startsAt: base.addingTimeInterval(startMinutes * 60),
            endsAt: base.addingTimeInterval((startMinutes + minutes) * 60),
            createdBy: "tester",
            comment: "conformance"
        )
    }

    /// Runs one check by name.
    package static func run(_ check: String, store: any SilenceStore, base: Date = base()) async throws {
        func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
            if !condition { throw ConformanceFailure(check: check, message: message()) }
        }
        func activeIDs(at minutes: Double, among ids: Set<String>) async throws -> [String] {
            try await store.active(at: base.addingTimeInterval(minutes * 60)).map(\.id).filter(ids.contains)
        }
        func at(_ minutes: Double) -> Date { base.addingTimeInterval(minutes * 60) }

        switch check {
        case "activeFromStartUntilEnd":
            // Starts 10 min after base, lasts 2 h: active on [start, end), not before, not at or after the end.
            let s = silence(base: base, startMinutes: 10, minutes: 120)
            try await store.add(s)
            let ids: Set = [s.id]
            try expect(try await activeIDs(at: 9, among: ids).isEmpty, "active before it starts")
            try expect(try await activeIDs(at: 10, among: ids) == [s.id], "not active at its start")
            try expect(try await activeIDs(at: 129.99, among: ids) == [s.id], "not active just before its end")
            try expect(try await activeIDs(at: 130, among: ids).isEmpty, "still active at its end")
            try expect(try await activeIDs(at: 180, among: ids).isEmpty, "still active after its end")

        case "activeIsOrderedByEndThenID":
            let late = silence(base: base, minutes: 180)
            let early = silence(base: base, minutes: 30)
            let tieA = silence(id: "a-" + UUID().uuidString.lowercased(), base: base, minutes: 60)
            let tieB = silence(id: "b-" + UUID().uuidString.lowercased(), base: base, minutes: 60)
            for s in [late, tieB, early, tieA] { try await store.add(s) }
            let ids: Set = [late.id, early.id, tieA.id, tieB.id]
            let order = try await activeIDs(at: 1, among: ids)
            try expect(order == [early.id, tieA.id, tieB.id, late.id], "wrong order: \(order)")
            try expect(
                try await activeIDs(at: 45, among: ids) == [tieA.id, tieB.id, late.id],
                "the early one should have ended"
            )

        case "expireEndsAnActiveSilence":
            let s = silence(base: base, minutes: 120)
            let other = silence(base: base, minutes: 120)
            try await store.add(s)
            try await store.add(other)
            try expect(try await store.expire(id: s.id, at: at(5)), "expire of an active silence returned false")
            try expect(
                try await activeIDs(at: 5, among: [s.id, other.id]) == [other.id],
                "expired silence still active, or the other one gone"
            )
            try expect(!(try await store.expire(id: s.id, at: at(6))), "a second expire returned true")

        case "expireOfUnknownOrEndedIsFalse":
            try expect(!(try await store.expire(id: UUID().uuidString, at: base)), "expire of an unknown id")
            let s = silence(base: base, minutes: 30)
            try await store.add(s)
            try expect(!(try await store.expire(id: s.id, at: at(30))), "expire at its end returned true")
            try expect(!(try await store.expire(id: s.id, at: at(45))), "expire after its end returned true")

        case "expireBeforeStartIsFalse":
            let s = silence(base: base, startMinutes: 60, minutes: 60)
            try await store.add(s)
            try expect(!(try await store.expire(id: s.id, at: base)), "expire before its start returned true")
            try expect(try await activeIDs(at: 61, among: [s.id]) == [s.id], "the pending silence was removed")

        case "everyFieldRoundTrips":
            let matchers = IncidentSelector(
                clusters: [Glob("prod-*")],
                kinds: [Glob("HelmRelease"), Glob("Kustomization")],
                namespaces: [Glob("apps")],
                names: [Glob("podinfo*"), Glob("web-?")],
                labels: ["team": Glob("payments"), "app.kubernetes.io/part-of": Glob("*shop*")],
                states: [.stalled, .stuck]
            )
            var s = silence(base: base, minutes: 90, matchers: matchers)
            s.createdBy = "Zoë O'Brien"
            s.comment = "upgrading podinfo, \"carefully\" — ticket #42\nsecond line"
            try await store.add(s)
            let stored = try await store.active(at: at(1)).first { $0.id == s.id }
            try expect(stored == s, "stored \(String(describing: stored)), added \(s)")

        case "sameIDReplaces":
            let id = UUID().uuidString.lowercased()
            try await store.add(silence(id: id, base: base, minutes: 30))
            var replacement = silence(id: id, base: base, minutes: 120)
            replacement.comment = "extended"
            try await store.add(replacement)
            let found = try await store.active(at: at(60)).filter { $0.id == id }
            try expect(found == [replacement], "replacement not found at +60 min: \(found)")
            try expect(
                try await store.active(at: at(1)).filter { $0.id == id }.count == 1,
                "the id is listed more than once"
            )

        case "invalidSilencesAreRefused":
            let backwards = silence(base: base, startMinutes: 10, minutes: -5)
            let empty = silence(base: base, minutes: 30, matchers: IncidentSelector())
            let noID = silence(id: "", base: base, minutes: 30)
            for invalid in [backwards, empty, noID] {
                do {
                    try await store.add(invalid)
                    throw ConformanceFailure(check: check, message: "accepted \(invalid)")
                } catch let error as CoreError {
                    try expect(error.code == .invalidInput, "refused with \(error)")
                }
            }
            try expect(
                try await store.active(at: at(12)).allSatisfy { ![backwards.id, empty.id].contains($0.id) },
                "an invalid silence is active"
            )

        default:
            throw ConformanceFailure(check: check, message: "no such check")
        }
    }
}
