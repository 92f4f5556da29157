import FluxbrainCore
import Foundation
import Testing

@Suite struct StableJSONTests {
    static let incident = Incident(
        object: ObjectReference(cluster: "prod", kind: .kustomization, namespace: "flux-system", name: "apps"),
        state: .retrying,
        reason: "BuildFailed",
        message: "kustomize build failed: <html> & \"quotes\" / slash",
        revision: "main@sha1:abc",
        lastAppliedRevision: "main@sha1:def",
        retryInterval: "2m0s",
        detectedAt: Date(timeIntervalSince1970: 1_795_000_000)
    )

    @Test func encodingIsDeterministicWithSortedKeysAndNoHTMLEscaping() throws {
        let first = try Self.incident.stableJSON()
        let second = try Self.incident.stableJSON()
        #expect(first == second)
        #expect(first.contains("<html> & \\\"quotes\\\" / slash"))
        #expect(!first.contains("\\u003c"))
        #expect(!first.contains("\\/"))
        // Keys in sorted order.
        let keys = ["\"affected\"", "\"controller\"", "\"dependsOn\"", "\"detectedAt\"", "\"fingerprint\""]
        let positions = keys.compactMap { first.range(of: $0)?.lowerBound }
        #expect(positions.count == keys.count)
        #expect(positions == positions.sorted())
        #expect(first.contains("\"detectedAt\":\"2026-11-18T"))
    }

    @Test func roundTrips() throws {
        let data = try StableJSON.encode(Self.incident)
        let decoded = try StableJSON.makeDecoder().decode(Incident.self, from: data)
        #expect(decoded == Self.incident)
    }

    @Test(arguments: [
        ("2026-11-28T20:26:05Z", 1_795_897_565.0),
        ("2026-11-28T20:26:05.093Z", 1_795_897_565.093),
        ("2026-11-28T20:26:05.093734", 1_795_897_565.093),
        ("2026-11-28T20:26:05", 1_795_897_565.0),
    ])
    func parsesTimestampsWithAndWithoutZone(text: String, seconds: Double) throws {
        let date = try #require(RFC3339.date(from: text))
        #expect(abs(date.timeIntervalSince1970 - seconds) < 0.002)
    }

    @Test(arguments: [
        ("30s", 30.0), ("5m", 300.0), ("1h", 3600.0), ("1h30m", 5400.0), ("250ms", 0.25), ("1.5h", 5400.0), ("0", 0),
    ])
    func parsesDurations(text: String, seconds: Double) throws {
        let duration = try #require(DurationParser.parse(text))
        #expect(abs(duration.timeInterval - seconds) < 0.0001)
    }

    @Test(arguments: ["", "5", "m", "5 minutes", "-5m", "1x", "h1"])
    func rejectsBadDurations(text: String) {
        #expect(DurationParser.parse(text) == nil)
    }

    @Test func formatsDurationsCompactly() {
        #expect(DurationParser.format(.seconds(5400)) == "1h30m")
        #expect(DurationParser.format(.seconds(30)) == "30s")
        #expect(DurationParser.format(.milliseconds(250)) == "250ms")
    }
}

/// `RFC3339.string(from:)` and `stringWithFraction(from:)` write by hand what `Date.ISO8601FormatStyle` writes.
@Suite struct RFC3339FormattingTests {
    @Test func formatsAsTheISO8601FormatStyleDoes() {
        let plain = Date.ISO8601FormatStyle(timeZone: .gmt)
        let fractional = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)
        var intervals: [Double] = [
            0, -1, -0.0005, 0.9995, 0.9999, 1_795_000_000.999, 1_795_000_123.456, 951_782_400, 946_684_799.5,
            4_102_444_800, -2_208_988_800.25, 1e9 + 0.0015, -11_676_096_000, 253_402_300_799.999,
            // Outside 1600…9999 the format style's answer is used as it is.
            -62_135_596_800, -16_379_206_357.79, 253_402_300_800,
        ]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<20_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            intervals.append(Double(state >> 11) / Double(1 << 53) * 265_000_000_000 - 11_700_000_000)
        }
        for interval in intervals {
            let date = Date(timeIntervalSince1970: interval)
            #expect(RFC3339.string(from: date) == date.formatted(plain), "\(interval)")
            #expect(RFC3339.stringWithFraction(from: date) == date.formatted(fractional), "\(interval)")
        }
    }
}
