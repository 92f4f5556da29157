import FluxbrainCore
import FluxbrainTestSupport
import Foundation
import Testing

/// `RFC3339.date(from:)` reads the common layouts by hand and gives, for every text, exactly what the
/// `Date.ISO8601FormatStyle` path (`RFC3339.foundationDate(from:)`, what it did before) gives: the same `Date` to
/// the bit, and `nil` where that refuses.
@Suite struct RFC3339ParsingTests {
    static func same(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let fast = RFC3339.date(from: text)
        let reference = RFC3339.foundationDate(from: text)
        #expect(
            fast?.timeIntervalSinceReferenceDate.bitPattern == reference?.timeIntervalSinceReferenceDate.bitPattern,
            "\(text.debugDescription): \(String(describing: fast)) vs \(String(describing: reference))",
            sourceLocation: sourceLocation
        )
    }

    static func layout(_ text: String) -> Date? {
        text.utf8.withContiguousStorageIfAvailable { RFC3339.fixedLayoutDate($0) } ?? nil
    }

    /// Random dates in 1600–9999 written with 0 to 12 fraction digits and every zone form (Z, z, ±HH:MM, ±HHMM,
    /// ±HH, none); each also mutated (a character replaced, dropped or added).
    @Test func generatedTimestampsParseAsFoundationParsesThem() {
        var generator = IncidentGenerator(seed: 31)
        let zones = [
            "Z", "Z", "", "", "+00:00", "-00:00", "+05:30", "-08:00", "+14:00", "-14:00", "+13:59", "z", "+0100",
            "+01", "+14:01", "+15:00", "-23:59", "+24:00", "+01:60", " Z", "Zjunk",
        ]
        let alphabet = Array("0123456789-:T.Z+ zt")
        var handled = 0
        for index in 0..<10_000 {
            let seconds = Double(-11_676_096_000 + generator.next(265_078_204_800))
            var text = RFC3339.string(from: Date(timeIntervalSince1970: seconds))
            text.removeLast()
            let digits = generator.next(13)
            if digits > 0 || generator.next(20) == 0 { text += "." }
            for _ in 0..<digits { text += String(generator.next(10)) }
            text += zones[generator.next(zones.count)]
            Self.same(text)
            if Self.layout(text) != nil { handled += 1 }
            var mutated = Array(text)
            let position = generator.next(mutated.count)
            switch index % 3 {
            case 0: mutated[position] = alphabet[generator.next(alphabet.count)]
            case 1: mutated.remove(at: position)
            default: mutated.insert(alphabet[generator.next(alphabet.count)], at: position)
            }
            Self.same(String(mutated))
        }
        // Most of them took the fast path.
        #expect(handled > 3_000)
    }

    @Test(arguments: [
        // Out of range: Foundation rolls some over (Feb 30, 24:00, :60) and refuses others; either way, the same.
        "2026-02-29T00:00:00Z", "2024-02-29T00:00:00Z", "2026-02-30T20:26:05Z", "2026-04-31T00:00:00Z",
        "2026-11-28T24:00:00Z", "2026-11-28T20:60:05Z", "2026-11-28T20:26:60Z", "2026-13-28T20:26:05Z",
        "2026-00-10T00:00:00Z", "2026-01-00T00:00:00Z", "1600-01-01T00:00:00Z", "1599-12-31T23:59:59Z",
        "9999-12-31T23:59:59.999999999Z", "0000-01-01T00:00:00Z", "1582-10-10T00:00:00Z", "12026-11-28T20:26:05Z",
        // Fractions: up to nine digits with a zone, any number without one (cut to milliseconds).
        "2026-11-28T20:26:05.1Z", "2026-11-28T20:26:05.123456789Z", "2026-11-28T20:26:05.1234567891Z",
        "2026-11-28T20:26:05.093734", "2026-11-28T20:26:05.0937341234567890123456", "2026-11-28T20:26:05.9",
        "2026-11-28T20:26:05.", "2026-11-28T20:26:05.Z", "2026-11-28T20:26:05.093xyz", "2026-11-28T20:26:05,093Z",
        "2026-11-28T20:26:05.5-01:00", "2026-11-28T20:26:05.999999999+14:00",
        // Other layouts.
        "2026-11-28T20:26:05", "2026-11-28t20:26:05Z", "2026-11-28 20:26:05Z", "2026-11-28T20:26:05Zabc",
        " 2026-11-28T20:26:05Z", "2026-1-28T20:26:05Z", "2026-11-28T20:26Z", "20261128T202605Z", "",
        "2026-11-28T20:26:05+01:00:00", "2026-11-28T20:26:05+1:00", "2026-11-28T20:26:05+01:00Z",
        "2026-11-28T20:26:05GMT", "2026-11-28T20:26:05\u{0}", "２026-11-28T20:26:05Z", "-2026-11-28T20:26:05Z",
        "2026-11-28T20:26:05+99:59", "2026-11-28T20:26:05+00:99", "2026-11-28T20:26:05−01:00",
    ])
    func edgeCasesParseAsFoundationParsesThem(text: String) {
        Self.same(text)
    }

    @Test func theCommonLayoutsTakeTheFastPath() throws {
        for text in [
            "2026-11-28T20:26:05Z", "2026-11-28T20:26:05.093Z", "2026-11-28T20:26:05.093734",
            "2026-11-28T20:26:05", "2026-11-28T20:26:05+01:00", "2026-11-28T20:26:05.123456789-05:30",
        ] {
            let date = try #require(Self.layout(text), "\(text)")
            #expect(date == RFC3339.foundationDate(from: text), "\(text)")
        }
        #expect(Self.layout("2026-02-30T20:26:05Z") == nil)
        #expect(Self.layout("2026-11-28T20:26:05Zabc") == nil)
    }
}
