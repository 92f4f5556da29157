import FluxbrainCoordination
import FluxbrainCore
import FluxbrainRedis
import FluxbrainTestSupport
import Foundation
import Testing

/// `RedisSilenceStore` on a real redis-server: the shared conformance suite (time injected as `now`, base = today),
/// plus what only Redis has: other replicas and restarts see the same silences, keys expire on their own.
@Suite struct RedisSilenceStoreTests {
    static func store(_ client: RedisClient, prefix: String) -> RedisSilenceStore {
        RedisSilenceStore(client: client, keyPrefix: prefix, logger: RedisFixture.quietLogger)
    }

    @Test(arguments: SilenceStoreConformance.checks)
    func passesTheConformanceCheck(_ check: String) async throws {
        try await RedisFixture.with { coordination, client in
            try await SilenceStoreConformance.run(check, store: Self.store(client, prefix: coordination.keys.prefix))
        }
    }

    /// A silence added through one client is seen by a store on another (another replica, or one that restarted:
    /// nothing is held in the process) and can be expired there.
    @Test func otherReplicasAndRestartsSeeTheSameSilences() async throws {
        try await RedisFixture.with { coordination, client in
            let prefix = coordination.keys.prefix
            let base = SilenceStoreConformance.base()
            let silence = SilenceStoreConformance.silence(base: base, minutes: 120)
            try await Self.store(client, prefix: prefix).add(silence)
            try await withRedisClient(configuration: client.configuration, logger: RedisFixture.quietLogger) {
                other in
                let restarted = Self.store(other, prefix: prefix)
                let seen = try await restarted.active(at: base)
                let expired = try await restarted.expire(id: silence.id, at: base)
                #expect(seen == [silence])
                #expect(expired)
            }
            #expect(try await Self.store(client, prefix: prefix).active(at: base).isEmpty)
        }
    }

    /// Both keys expire `retention` after the end, by Redis' own clock (checked with `PEXPIRETIME`, no waiting).
    @Test func keysExpireShortlyAfterTheSilenceEnds() async throws {
        try await RedisFixture.with { coordination, client in
            let store = Self.store(client, prefix: coordination.keys.prefix)
            let base = SilenceStoreConformance.base()
            let short = SilenceStoreConformance.silence(base: base, minutes: 30)
            let long = SilenceStoreConformance.silence(base: base, minutes: 90)
            try await store.add(long)
            try await store.add(short)
            let retention = RedisSilenceStore.defaultRetention.wholeMilliseconds
            func expiresAt(_ key: String) async throws -> Int64? {
                try await client.send("PEXPIRETIME", key).integer
            }
            let ms = { (date: Date) in Int64(date.timeIntervalSince1970 * 1000) }
            #expect(try await expiresAt(store.silenceKey(short.id)) == ms(short.endsAt) + retention)
            #expect(try await expiresAt(store.silenceKey(long.id)) == ms(long.endsAt) + retention)
            // The index lives as long as its latest silence.
            #expect(try await expiresAt(store.indexKey) == ms(long.endsAt) + retention)
        }
    }

    /// A silence that ended longer than the retention ago (by Redis' clock) leaves nothing behind: its hash is
    /// gone at once and its index entry with the next read.
    @Test func endedSilencesLeaveNothingBehind() async throws {
        try await RedisFixture.with { coordination, client in
            let store = Self.store(client, prefix: coordination.keys.prefix)
            let longAgo = SilenceStoreConformance.base().addingTimeInterval(-3 * 3600)
            let ended = SilenceStoreConformance.silence(base: longAgo, minutes: 60)
            let current = SilenceStoreConformance.silence(base: longAgo, minutes: 6 * 60)
            try await store.add(ended)
            try await store.add(current)
            #expect(try await client.send("EXISTS", store.silenceKey(ended.id)).integer == 0)
            // Read now: the ended entry is out of range, and still removed from the index.
            #expect(try await store.active(at: Date()).map(\.id) == [current.id])
            #expect(try await client.send("ZSCORE", store.indexKey, ended.id).isNull)
            #expect(!(try await client.send("ZSCORE", store.indexKey, current.id).isNull))
            #expect(try await client.send("ZCARD", store.indexKey).integer == 1)
            // Asked about a moment when both were active, the store no longer has the ended one either.
            let again = SilenceStoreConformance.silence(base: longAgo, minutes: 60)
            try await store.add(again)
            #expect(try await store.active(at: longAgo.addingTimeInterval(60)).map(\.id) == [current.id])
            #expect(try await client.send("ZCARD", store.indexKey).integer == 1)
        }
    }

    /// A damaged hash is skipped (and logged), the other silences still count.
    @Test func aDamagedSilenceDoesNotHideTheOthers() async throws {
        try await RedisFixture.with { coordination, client in
            let store = Self.store(client, prefix: coordination.keys.prefix)
            let base = SilenceStoreConformance.base()
            let good = SilenceStoreConformance.silence(base: base, minutes: 60)
            let damaged = SilenceStoreConformance.silence(base: base, minutes: 60)
            try await store.add(good)
            try await store.add(damaged)
            try await client.send("HSET", store.silenceKey(damaged.id), "matchers", "{not json")
            #expect(try await store.active(at: base) == [good])
        }
    }
}
