import FluxbrainCoordination
import FluxbrainCore
import FluxbrainRedis
import FluxbrainTestSupport
import Foundation
import Testing

/// `RedisTime` (the analysis store's `now()`) on a real redis-server: Redis `TIME` measured once, then advanced by an
/// injected monotonic clock (a `ManualClock`, which real time does not move) until the refresh is due.
@Suite struct RedisTimeTests {
    /// Redis `TIME` read directly, in milliseconds (as the scripts read it).
    static func redisTime(_ client: RedisClient) async throws -> Date {
        let reply = try await client.send("TIME")
        let parts = try #require(reply.array)
        let seconds = try #require(parts.first?.integer)
        let micros = try #require(parts.last?.integer)
        return Date(timeIntervalSince1970: Double(seconds * 1000 + micros / 1000) / 1000)
    }

    /// Whole milliseconds since 1970.
    static func ms(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }

    @Test func readingsComeFromTheAnchorUntilTheRefreshIsDue() async throws {
        try await RedisFixture.with { coordination, client in
            let clock = ManualClock()
            let store = RedisAnalysisStore(
                client: client,
                keyPrefix: coordination.keys.prefix,
                logger: RedisFixture.quietLogger,
                time: RedisTime(client: client, clock: clock, refresh: .seconds(5))
            )
            // The first reading measures the anchor: Redis time at some moment of the call.
            let before = try await Self.redisTime(client)
            let first = try await store.now()
            let after = try await Self.redisTime(client)
            #expect(first >= before && first <= after)

            // Real time passes but the injected clock stands still: no new TIME, the same reading.
            try await Task.sleep(for: .milliseconds(30))
            #expect(try await Self.redisTime(client) > first)
            #expect(try await store.now() == first)

            // The injected clock moves: the reading moves with it, still without asking Redis.
            clock.advance(by: .milliseconds(1500))
            #expect(Self.ms(try await store.now()) == Self.ms(first) + 1500)

            // Past the refresh, Redis is asked again: the reading is Redis time again, not the anchor moved by the
            // injected clock. The clock moves an hour, far more than real time does while the test runs (however
            // loaded the machine), so the two readings cannot coincide.
            clock.advance(by: .seconds(3600))
            let beforeRefresh = try await Self.redisTime(client)
            let refreshed = try await store.now()
            let afterRefresh = try await Self.redisTime(client)
            #expect(refreshed >= beforeRefresh && refreshed <= afterRefresh)
            #expect(refreshed < first.addingTimeInterval(3601.5))
        }
    }

    /// Routing asks the silences about the analysis store's `now()`: a silence stored with Redis-time bounds applies
    /// from its start to its end by that clock.
    @Test func silencesMatchAtRedisTime() async throws {
        try await RedisFixture.with { coordination, client in
            let clock = ManualClock()
            let prefix = coordination.keys.prefix
            let store = RedisAnalysisStore(
                client: client,
                keyPrefix: prefix,
                logger: RedisFixture.quietLogger,
                time: RedisTime(client: client, clock: clock, refresh: .seconds(120))
            )
            let silenceStore = RedisSilenceStore(client: client, keyPrefix: prefix, logger: RedisFixture.quietLogger)
            let silences = SilenceCache(store: silenceStore, maxAge: .zero)
            let redisNow = try await Self.redisTime(client)
            // One from a minute ago for 90 s, one from a minute ahead for a minute.
            let current = SilenceStoreConformance.silence(base: redisNow, startMinutes: -1, minutes: 1.5)
            let upcoming = SilenceStoreConformance.silence(base: redisNow, startMinutes: 1, minutes: 1)
            try await silenceStore.add(current)
            try await silenceStore.add(upcoming)

            #expect(try await silences.active(at: try await store.now()).map(\.id) == [current.id])
            // By the store's clock (the anchor advanced by the injected clock): 45 s on, the first has ended…
            clock.advance(by: .seconds(45))
            #expect(try await silences.active(at: try await store.now()).isEmpty)
            // …75 s on, the second applies.
            clock.advance(by: .seconds(30))
            #expect(try await silences.active(at: try await store.now()).map(\.id) == [upcoming.id])
            // Past the refresh the anchor is measured again: real Redis time, a moment after the start.
            clock.advance(by: .seconds(60))
            #expect(try await silences.active(at: try await store.now()).map(\.id) == [current.id])
        }
    }
}
