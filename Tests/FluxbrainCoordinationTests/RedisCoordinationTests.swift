import FluxbrainCoordination
import FluxbrainCore
import FluxbrainRedis
import FluxbrainTestSupport
import Foundation
import Synchronization
import Testing

/// Behaviour only the Redis implementation has: scripts, key prefixes, concurrency across connections, damaged data.
@Suite struct RedisCoordinationTests {
    typealias Fixture = WorkQueueConformance

    /// On a private server: a `SCRIPT FLUSH` on the shared one would race other tests' reloads.
    @Test func reloadsScriptsTransparentlyAfterScriptFlush() async throws {
        try await RedisServerProcess.with { server in
            let configuration = try RedisConfiguration(url: server.url)
            try await withRedisClient(configuration: configuration, logger: RedisFixture.quietLogger) { client in
                let queue = RedisFixture.make(client: client)
                let lease = try #require(try await queue.acquire(replicaID: "a", ttl: .seconds(30)))
                #expect(try await queue.enqueue(Fixture.item(1), lease: lease) == .enqueued)
                try await client.send("SCRIPT", "FLUSH")
                #expect(try await queue.enqueue(Fixture.item(1), lease: lease) == .duplicate)
                let claim = try #require(try await queue.claim(worker: "w", lease: .seconds(30)))
                try await client.send("SCRIPT", "FLUSH")
                #expect(try await queue.heartbeat(claim, lease: .seconds(30)))
                try await client.send("SCRIPT", "FLUSH")
                #expect(try await queue.ack(claim))
                #expect(try await queue.renew(lease, ttl: .seconds(30)))
            }
        }
    }

    @Test func keyPrefixesIsolateInstallations() async throws {
        try await RedisFixture.with { first, client in
            let second = RedisFixture.make(client: client)
            defer { _ = second }
            let leaseA = try #require(try await first.acquire(replicaID: "a", ttl: .seconds(30)))
            let leaseB = try #require(try await second.acquire(replicaID: "b", ttl: .seconds(30)))
            #expect(leaseA.epoch == 1 && leaseB.epoch == 1)
            #expect(try await first.enqueue(Fixture.item(1), lease: leaseA) == .enqueued)
            #expect(try await second.enqueue(Fixture.item(1), lease: leaseB) == .enqueued)
            await #expect(throws: FencedError.self) { try await second.enqueue(Fixture.item(2), lease: leaseA) }
            #expect(try await second.stats().pending == 1)
            let claim = try #require(try await second.claim(worker: "w", lease: .seconds(30)))
            #expect(try await first.stats() == QueueStats(ready: 1, delayed: 0, leased: 0, dead: 0, pending: 1))
            #expect(try await !first.ack(claim))
            #expect(try await second.ack(claim))
            try await second.open(Fixture.incident(1), lease: leaseB)
            #expect(try await first.openIncidents(cluster: "c1").isEmpty)
            try await RedisFixture.deleteKeys(prefix: second.keys.prefix, client: client)
        }
    }

    @Test func concurrentClaimsDeliverEachItemExactlyOnce() async throws {
        try await RedisFixture.with { queue, _ in
            let lease = try #require(try await queue.acquire(replicaID: "a", ttl: .seconds(60)))
            for n in 0..<200 { _ = try await queue.enqueue(Fixture.item(n), lease: lease) }
            let (keys, lostAcks) = try await withThrowingTaskGroup(of: ([String], Int).self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        var keys: [String] = []
                        var lost = 0
                        while let claim = try await queue.claim(worker: "w\(worker)", lease: .seconds(60)) {
                            keys.append(claim.item.key)
                            if try await !queue.ack(claim) { lost += 1 }
                        }
                        return (keys, lost)
                    }
                }
                var all: [String] = []
                var lost = 0
                for try await (keys, lostAcks) in group {
                    all += keys
                    lost += lostAcks
                }
                return (all, lost)
            }
            #expect(keys.count == 200)
            #expect(Set(keys).count == 200)
            #expect(Set(keys) == Set((0..<200).map { Fixture.item($0).key }))
            #expect(lostAcks == 0)
            #expect(try await queue.stats() == QueueStats(ready: 0, delayed: 0, leased: 0, dead: 0, pending: 0))
        }
    }

    @Test func deadLettersUndecodablePayloadsInsteadOfCrashing() async throws {
        try await RedisFixture.with { queue, client in
            let keys = queue.keys
            // Garbage, and a valid item stored under the wrong key.
            let wrongKey = "0000:firing"
            let foreign = Array(try StableJSON.encode(Fixture.item(5)))
            try await client.send(
                "HSET",
                keys.item("garbage"),
                "payload",
                "{not json",
                "attempts",
                "0",
                "state",
                "ready"
            )
            try await client.send("HSET", keys.item(wrongKey), "payload", foreign, "attempts", "0", "state", "ready")
            try await client.send("SADD", keys.pending, "garbage", wrongKey)
            try await client.send("RPUSH", keys.ready, "garbage", wrongKey)
            let lease = try #require(try await queue.acquire(replicaID: "a", ttl: .seconds(30)))
            _ = try await queue.enqueue(Fixture.item(1), lease: lease)

            let claim = try #require(try await queue.claim(worker: "w", lease: .seconds(30)))
            #expect(claim.item == Fixture.item(1))
            let letters = try await queue.deadLetters(limit: 10)
            #expect(letters.map(\.key) == ["garbage", wrongKey])
            #expect(letters.allSatisfy { $0.lastError == "undecodable payload" })
            #expect(letters.first?.item == nil)
            #expect(try await !queue.isPending(key: "garbage"))
            #expect(try await queue.stats() == QueueStats(ready: 0, delayed: 0, leased: 1, dead: 2, pending: 1))
            #expect(try await queue.claim(worker: "w", lease: .seconds(30)) == nil)
        }
    }

    @Test func claimSkipsReadyEntriesWhoseItemIsGone() async throws {
        try await RedisFixture.with { queue, client in
            try await client.send("SADD", queue.keys.pending, "ghost")
            try await client.send("RPUSH", queue.keys.ready, "ghost")
            #expect(try await queue.claim(worker: "w", lease: .seconds(30)) == nil)
            #expect(try await !queue.isPending(key: "ghost"))
        }
    }

    @Test func enqueueRepairsAPendingKeyWithoutItsItem() async throws {
        try await RedisFixture.with { queue, client in
            try await client.send("SADD", queue.keys.pending, Fixture.item(1).key)
            let lease = try #require(try await queue.acquire(replicaID: "a", ttl: .seconds(30)))
            #expect(try await queue.enqueue(Fixture.item(1), lease: lease) == .enqueued)
            #expect(try await queue.claim(worker: "w", lease: .seconds(30))?.item == Fixture.item(1))
        }
    }

    @Test func storesStableJSONAndStampsTheEpoch() async throws {
        try await RedisFixture.with { queue, client in
            let lease = try #require(try await queue.acquire(replicaID: "replica-7", ttl: .seconds(30)))
            _ = try await queue.enqueue(Fixture.item(1), lease: lease)
            let item = queue.keys.item(Fixture.item(1).key)
            let payload = try await client.send("HGET", item, "payload").string
            #expect(payload == (try StableJSON.string(Fixture.item(1))))
            #expect(try await client.send("HGET", item, "epoch").integer == lease.epoch)
            #expect(try await client.send("HGET", item, "state").string == "ready")
            #expect(try await client.send("GET", queue.keys.lock).string == "\(lease.epoch):replica-7")
            #expect(queue.keys.ready.contains("{fbq}"))
        }
    }

    @Test func waitForWorkBlocksUntilTheTimeoutOrAnEnqueue() async throws {
        try await PlainRedis.with { redis in
            let name = "doorbell-\(UUID().uuidString.prefix(8))"
            var configuration = try redis.configuration()
            configuration.clientName = name
            try await withRedisClient(configuration: configuration, logger: RedisFixture.quietLogger) { client in
                let queue = RedisFixture.make(client: client)
                // With nothing queued it returns by itself when its timeout ends.
                try await queue.waitForWork(timeout: .milliseconds(300))

                let lease = try #require(try await queue.acquire(replicaID: "a", ttl: .seconds(30)))
                let returned = ReturnedFlag()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    // Its timeout is far beyond the guards below: only the enqueue can end this wait in time.
                    group.addTask {
                        try await queue.waitForWork(timeout: .seconds(120))
                        returned.set()
                    }
                    // It blocks: a BLPOP on the doorbell is parked on the server and the call has not returned.
                    let parked = try await eventually(timeout: .seconds(30)) {
                        let list = try await client.send("CLIENT", "LIST").string ?? ""
                        return list.split(separator: "\n").contains {
                            $0.contains(" name=\(name) ") && $0.contains(" cmd=blpop ")
                        }
                    }
                    #expect(parked)
                    #expect(!returned.value)
                    _ = try await queue.enqueue(Fixture.item(1), lease: lease)
                    let woken = await eventually(timeout: .seconds(60)) { returned.value }
                    #expect(woken, "the enqueue did not wake the waiter")
                    if !woken { try await client.send("RPUSH", queue.keys.doorbell, "1") }
                    try await group.waitForAll()
                }
                try await RedisFixture.deleteKeys(prefix: queue.keys.prefix, client: client)
            }
        }
    }

    @Test func reapWorksThroughMoreExpiredLeasesThanOneBatch() async throws {
        try await PlainRedis.with { redis in
            try await withRedisClient(configuration: try redis.configuration(), logger: RedisFixture.quietLogger) {
                client in
                let queue = RedisCoordination(
                    client: client,
                    configuration: .init(keyPrefix: "fbtest:\(UUID().uuidString.prefix(8))", reapBatchSize: 7),
                    logger: RedisFixture.quietLogger
                )
                let lease = try #require(try await queue.acquire(replicaID: "a", ttl: .seconds(30)))
                for n in 0..<30 { _ = try await queue.enqueue(Fixture.item(n), lease: lease) }
                for _ in 0..<30 { _ = try await queue.claim(worker: "w", lease: .milliseconds(50)) }
                try await Task.sleep(for: .milliseconds(150))
                #expect(try await queue.reap() == ReapResult(requeued: 30, deadLettered: 0))
                #expect(try await queue.stats() == QueueStats(ready: 30, delayed: 0, leased: 0, dead: 0, pending: 30))
                try await RedisFixture.deleteKeys(prefix: queue.keys.prefix, client: client)
            }
        }
    }

    @Test func countsDeadLettersAndMalformedItems() async throws {
        try await PlainRedis.with { redis in
            try await withRedisClient(configuration: try redis.configuration(), logger: RedisFixture.quietLogger) {
                client in
                let metrics = RecordingMetrics()
                let queue = RedisCoordination(
                    client: client,
                    configuration: .init(keyPrefix: "fbtest:\(UUID().uuidString.prefix(8))", maxAttempts: 1),
                    logger: RedisFixture.quietLogger,
                    metricsFactory: metrics
                )
                let lease = try #require(try await queue.acquire(replicaID: "a", ttl: .seconds(30)))
                try await client.send("HSET", queue.keys.item("junk"), "payload", "[]", "state", "ready")
                try await client.send("SADD", queue.keys.pending, "junk")
                try await client.send("RPUSH", queue.keys.ready, "junk")
                _ = try await queue.enqueue(Fixture.item(1), lease: lease)
                _ = try await queue.enqueue(Fixture.item(2), lease: lease)
                let claim = try #require(try await queue.claim(worker: "w", lease: .seconds(30)))
                #expect(try await queue.nack(claim, delay: .zero, error: "boom"))
                _ = try await queue.claim(worker: "w", lease: .seconds(30))
                #expect(metrics.value("fluxbrain_queue_malformed_total") == 1)
                #expect(metrics.value("fluxbrain_queue_dead_letters_total") == 2)
                #expect(try await queue.stats() == QueueStats(ready: 0, delayed: 0, leased: 1, dead: 2, pending: 1))
                try await RedisFixture.deleteKeys(prefix: queue.keys.prefix, client: client)
            }
        }
    }

    @Test func parsesLockValues() {
        #expect(RedisCoordination.parseLockValue("12:replica-a") == LeaderLease(replicaID: "replica-a", epoch: 12))
        #expect(
            RedisCoordination.parseLockValue("3:host:with:colons")
                == LeaderLease(replicaID: "host:with:colons", epoch: 3)
        )
        #expect(RedisCoordination.parseLockValue("x:replica") == nil)
        #expect(RedisCoordination.parseLockValue("4:") == nil)
        #expect(RedisCoordination.parseLockValue("garbage") == nil)
    }
}

/// Kill and restart with AOF: the data and the epoch survive, the script cache does not (NOSCRIPT → reload).
@Suite struct RedisCoordinationRestartTests {
    @Test func survivesARestartWithAppendOnlyAndKeepsEpochsMonotonic() async throws {
        try await retryingMissedWindows { try await restartKeepsDataAndEpochs() }
    }

    private func restartKeepsDataAndEpochs() async throws {
        try await RedisServerProcess.with(.init(appendOnly: true)) { server in
            let configuration = try RedisConfiguration(url: server.url, commandTimeout: .seconds(2))
            try await withRedisClient(configuration: configuration, logger: RedisFixture.quietLogger) { client in
                let queue = RedisFixture.make(client: client, prefix: "fluxbrain")
                // Lock and claim expire after 10 s, waited for below by polling, never by assuming how long anything
                // took. The enqueues and the claim must come before that: if a stalled machine made them miss it
                // (`MissedWindow`), the test runs again on a new server.
                let started = ContinuousClock.now
                let ttl = Duration.seconds(10)
                let lease = try #require(try await queue.acquire(replicaID: "a", ttl: ttl))
                let enqueued = [
                    try? await queue.enqueue(WorkQueueConformance.item(1), lease: lease),
                    try? await queue.enqueue(WorkQueueConformance.item(2), lease: lease),
                ]
                let claimed = try await queue.claim(worker: "w", lease: ttl)
                try requireInside(ttl, since: started, "the enqueues and the claim before the restart")
                #expect(enqueued == [.enqueued, .enqueued])
                _ = try #require(claimed)

                await server.kill9()
                try await server.restart()

                // The first command on each old connection may fail (the connection died); then it reconnects.
                var stats: QueueStats?
                for _ in 0..<10 where stats == nil {
                    stats = try? await queue.stats()
                }
                #expect(stats == QueueStats(ready: 1, delayed: 0, leased: 1, dead: 0, pending: 2))
                // Once the claim's lease has expired (Redis time, which the restart kept), one reap requeues it.
                var reaped: ReapResult?
                let requeued = await eventually(timeout: .seconds(30), poll: .milliseconds(100)) {
                    reaped = try? await queue.reap()
                    return reaped != nil && reaped != ReapResult(requeued: 0, deadLettered: 0)
                }
                #expect(requeued)
                #expect(reaped == ReapResult(requeued: 1, deadLettered: 0))
                var acquired: LeaderLease?
                _ = await eventually(timeout: .seconds(30), poll: .milliseconds(100)) {
                    acquired = try? await queue.acquire(replicaID: "b", ttl: .seconds(30))
                    return acquired != nil
                }
                let next = try #require(acquired)
                #expect(next.epoch > lease.epoch)
                let claim = try #require(try await queue.claim(worker: "w", lease: .seconds(30)))
                #expect(claim.item.key == WorkQueueConformance.item(1).key)
                #expect(claim.attempts == 2)
            }
        }
    }
}

/// Set once by a task when its call returned; read by the test.
private final class ReturnedFlag: Sendable {
    private let state = Mutex(false)
    var value: Bool { state.withLock { $0 } }
    func set() { state.withLock { $0 = true } }
}
