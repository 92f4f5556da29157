import FluxbrainCoordination
import FluxbrainCore
import FluxbrainRedis
import FluxbrainTestSupport
import Foundation
import Logging
import Testing

/// Process-level fault injection (issue: Redis-coordinated replicas). A real `redis-server`, three `fluxbrain run`
/// processes, a snapshot directory as the cluster, a fake Errorbrain and a webhook sink that counts deliveries.
/// Short TTLs make each scenario end in seconds; signals go only to PIDs the test started.
///
/// `.serialized`: each test runs three replicas, a redis-server and a fake Errorbrain with a 1.5 s lock TTL; several at
/// once would starve the replicas of CPU until their leases expire, the very fault these tests inject on purpose.
/// The suite still runs in parallel with the other suites.
@Suite(.serialized) struct ReplicaFaultTests {
    static let replicas = ["r1", "r2", "r3"]

    /// The queue's counters for the harness's installation.
    static func stats(_ harness: ReplicaHarness) async throws -> QueueStats {
        try await harness.withRedis { client in
            try await RedisCoordination(
                client: client,
                configuration: .init(keyPrefix: harness.prefix),
                logger: Logger(label: "inspect")
            ).stats()
        }
    }

    static func deadLetters(_ harness: ReplicaHarness) async throws -> [DeadLetter] {
        try await harness.withRedis { client in
            try await RedisCoordination(
                client: client,
                configuration: .init(keyPrefix: harness.prefix),
                logger: Logger(label: "inspect")
            ).deadLetters(limit: 100)
        }
    }

    static func holder(_ harness: ReplicaHarness) async throws -> LeaderLease? {
        try await harness.withRedis { client in
            try await RedisCoordination(
                client: client,
                configuration: .init(keyPrefix: harness.prefix),
                logger: Logger(label: "inspect")
            ).holder()
        }
    }

    /// Waits until every one of `indices` was delivered as `kind`, then checks none was delivered twice.
    static func expectDeliveredOnce(
        _ harness: ReplicaHarness,
        _ indices: Range<Int>,
        kind: String = "firing",
        timeout: Duration = .seconds(60),
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        // Polled every 100 ms while the replicas work: count in one pass, so the check does not eat the CPU they need.
        let fingerprints = indices.map { harness.fingerprint(of: $0) }
        let all = await eventually(timeout: timeout, poll: .milliseconds(100)) {
            let counts = harness.sink.deliveredCounts(kind: kind)
            return fingerprints.allSatisfy { counts[$0, default: 0] >= 1 }
        }
        let counts = harness.sink.deliveredCounts(kind: kind)
        let missing = indices.filter { counts[harness.fingerprint(of: $0), default: 0] == 0 }
        #expect(all, "not delivered: \(missing.prefix(10))", sourceLocation: sourceLocation)
        let duplicated = indices.filter { counts[harness.fingerprint(of: $0), default: 0] > 1 }
        #expect(
            duplicated.isEmpty,
            "delivered more than once: \(duplicated.prefix(10))",
            sourceLocation: sourceLocation
        )
    }

    static func expectDrained(_ harness: ReplicaHarness, sourceLocation: SourceLocation = #_sourceLocation) async throws
    {
        let drained = try await eventually(timeout: .seconds(20), poll: .milliseconds(100)) {
            let stats = try await Self.stats(harness)
            return stats.ready == 0 && stats.leased == 0 && stats.pending == 0 && stats.delayed == 0
        }
        let stats = try await Self.stats(harness)
        #expect(drained, "queue not drained: \(stats)", sourceLocation: sourceLocation)
    }

    @Test func fiveHundredIncidentsAreNotifiedExactlyOnceAcrossThreeReplicas() async throws {
        try await FakeErrorbrain.with(mode: .slow) { errorbrain in
            try errorbrain.setMode(.slow, slowSeconds: 0.1)
            try await ReplicaHarness.with(environment: ["FLUXBRAIN_ERRORBRAIN_URL": errorbrain.baseURL.absoluteString])
            {
                harness in
                try harness.writeFailing(count: 500)
                let start = ContinuousClock.now
                for id in Self.replicas { try harness.start(id) }
                try await Self.expectDeliveredOnce(harness, 0..<500, timeout: .seconds(120))
                let elapsed = ContinuousClock.now - start
                try await Self.expectDrained(harness)
                let leaders = Self.replicas.filter { !harness.leaderEpochs($0).isEmpty }
                #expect(leaders.count == 1, "leaders: \(leaders)")
                let rate = 500 / elapsed.timeInterval
                print(
                    "FIGURE throughput: 500 items in \(elapsed) = \(Int(rate)) items/s with 3 replicas × 4 workers against a 100 ms Errorbrain; ideal 12 / 0.1 s = 120 items/s (ratio \(String(format: "%.2f", rate / 120)))"
                )
                // The figure above includes starting three processes and the first collection pass; this one is
                // the steady state, first delivery to last.
                let times = harness.sink.records.map(\.receivedAt).sorted()
                if let first = times.first, let last = times.last, last > first {
                    let steady = Double(times.count - 1) / last.timeIntervalSince(first)
                    print(
                        "FIGURE throughput (steady, first to last delivery): \(times.count) deliveries in \(String(format: "%.2f", last.timeIntervalSince(first))) s = \(Int(steady)) items/s (ratio \(String(format: "%.2f", steady / 120)))"
                    )
                }
            }
        }
    }

    @Test func killedReplicaMidAnalysisHasItsItemsRedeliveredOnce() async throws {
        try await FakeErrorbrain.with(mode: .slow) { errorbrain in
            try errorbrain.setMode(.slow, slowSeconds: 1.5)
            try await ReplicaHarness.with(environment: ["FLUXBRAIN_ERRORBRAIN_URL": errorbrain.baseURL.absoluteString])
            {
                harness in
                try harness.writeFailing(count: 24)
                for id in Self.replicas { try harness.start(id) }
                // Let every replica claim items and sit in analysis, then kill one without warning.
                let claimed = try await eventually(timeout: .seconds(15), poll: .milliseconds(100)) {
                    try await Self.stats(harness).leased >= 8
                }
                #expect(claimed)
                harness.signal("r2", SIGKILL)
                try await Self.expectDeliveredOnce(harness, 0..<24, timeout: .seconds(60))
                try await Self.expectDrained(harness)
            }
        }
    }

    @Test func poisonItemIsDeadLetteredWhileOthersFlow() async throws {
        // No resync during the test: a leader's resync re-enqueues the still-open incident, which replaces its dead
        // letter (by design), and the checks below read that dead letter. Retries come from nacks, not resyncs.
        try await ReplicaHarness.with(environment: ["FLUXBRAIN_REQUEUE_INTERVAL": "10m"]) { harness in
            harness.sink.failAlways(fingerprint: harness.fingerprint(of: 7))
            try harness.writeFailing(count: 20)
            for id in Self.replicas { try harness.start(id) }
            try await Self.expectDeliveredOnce(harness, 0..<7)
            try await Self.expectDeliveredOnce(harness, 8..<20)
            let deadLettered = try await eventually(timeout: .seconds(60), poll: .milliseconds(100)) {
                try await Self.deadLetters(harness).contains { $0.key.hasPrefix(harness.fingerprint(of: 7)) }
            }
            #expect(deadLettered)
            let letter = try await Self.deadLetters(harness).first { $0.key.hasPrefix(harness.fingerprint(of: 7)) }
            #expect(letter?.attempts == 5)
            #expect(letter?.lastError?.contains("webhook") == true, "\(letter?.lastError ?? "-")")
            #expect(harness.sink.delivered(fingerprint: harness.fingerprint(of: 7), kind: "firing") == 0)
            // The operator's view and recovery, with the replicas stopped.
            await harness.stopAll()
            let env = ["FLUXBRAIN_REDIS_URL": harness.redisURL, "FLUXBRAIN_REDIS_PREFIX": harness.prefix]
            let dead = try await FluxbrainProcess.run(["queue", "dead", "--json"], environment: env)
            #expect(dead.status == 0, "\(dead.stderr)")
            #expect(dead.stdout.contains(harness.fingerprint(of: 7)))
            let stats = try await FluxbrainProcess.run(["queue", "stats"], environment: env)
            #expect(stats.status == 0, "\(stats.stderr)")
            #expect(stats.stdout.contains("dead"))
            let requeue = try await FluxbrainProcess.run(["queue", "requeue"], environment: env)
            #expect(requeue.status == 0, "\(requeue.stderr)")
            #expect(requeue.stdout.contains("1"))
        }
    }

    @Test func pausedLeaderIsReplacedWithAHigherEpochAndFenced() async throws {
        try await ReplicaHarness.with { harness in
            try harness.writeFailing(count: 10)
            for id in Self.replicas { try harness.start(id) }
            try await Self.expectDeliveredOnce(harness, 0..<10)
            let first = try #require(try await Self.holder(harness))
            harness.signal(first.replicaID, SIGSTOP)
            let paused = ContinuousClock.now
            let replaced = try await eventually(timeout: .seconds(30), poll: .milliseconds(100)) {
                guard let holder = try await Self.holder(harness) else { return false }
                return holder.replicaID != first.replicaID
            }
            #expect(replaced)
            let second = try #require(try await Self.holder(harness))
            print("FIGURE failover after a paused leader: \(ContinuousClock.now - paused) (lock TTL 1.5s)")
            #expect(second.epoch > first.epoch)
            // New failures while the old leader is frozen, then it wakes up.
            try harness.writeFailing(count: 20)
            try await Task.sleep(for: .seconds(1))
            harness.signal(first.replicaID, SIGCONT)
            try await Self.expectDeliveredOnce(harness, 0..<20)
            try await Task.sleep(for: .seconds(2))
            try await Self.expectDeliveredOnce(harness, 0..<20)
            try await Self.expectDrained(harness)
            let log = harness.log(first.replicaID)
            #expect(log.contains("stepped down as scheduler leader") || log.contains("enqueue fenced"))
        }
    }

    @Test func pausedRedisNeitherHangsNorDuplicates() async throws {
        try await ReplicaHarness.with(environment: ["FLUXBRAIN_REDIS_TIMEOUT": "1s"]) { harness in
            try harness.writeFailing(count: 20)
            for id in Self.replicas { try harness.start(id) }
            try await Self.expectDeliveredOnce(harness, 0..<20)
            harness.redis.pause()
            try harness.writeFailing(count: 40)
            try await Task.sleep(for: .seconds(5))
            harness.redis.resume()
            try await Self.expectDeliveredOnce(harness, 0..<40)
            try await Self.expectDrained(harness)
            for id in Self.replicas {
                #expect(harness.process(id)?.isRunning == true, "\(id) exited")
            }
        }
    }

    @Test func redisKilledAndRestartedWithAOFLosesNothing() async throws {
        try await ReplicaHarness.with(environment: ["FLUXBRAIN_REDIS_TIMEOUT": "1s"]) { harness in
            try harness.writeFailing(count: 20)
            for id in Self.replicas { try harness.start(id) }
            try await Self.expectDeliveredOnce(harness, 0..<20)
            try await harness.redis.kill9()
            try harness.writeFailing(count: 40)
            try await Task.sleep(for: .seconds(2))
            try await harness.redis.restart()
            try await Self.expectDeliveredOnce(harness, 0..<40)
            try await Self.expectDrained(harness)
        }
    }

    @Test func terminatedLeaderDrainsReleasesAndIsReplaced() async throws {
        try await ReplicaHarness.with { harness in
            try harness.writeFailing(count: 10)
            for id in Self.replicas { try harness.start(id) }
            try await Self.expectDeliveredOnce(harness, 0..<10)
            let first = try #require(try await Self.holder(harness))
            let start = ContinuousClock.now
            harness.signal(first.replicaID, SIGTERM)
            let status = await harness.waitForExit(first.replicaID, timeout: .seconds(25))
            let exited = ContinuousClock.now
            #expect(
                status == 0,
                "exit status \(String(describing: status))\n\(harness.log(first.replicaID).suffix(2000))"
            )
            #expect(harness.log(first.replicaID).contains("released the scheduler lock"))
            // Released, not left to expire: the exited leader no longer holds the lock (whatever the TTL would say).
            #expect(try await Self.holder(harness)?.replicaID != first.replicaID)
            let replaced = try await eventually(timeout: .seconds(30), poll: .milliseconds(100)) {
                guard let holder = try await Self.holder(harness) else { return false }
                return holder.replicaID != first.replicaID
            }
            #expect(replaced)
            print(
                "FIGURE failover after SIGTERM on the leader: \(ContinuousClock.now - start) from the signal, \(ContinuousClock.now - exited) after it exited (lock TTL 1.5s)"
            )
            try harness.writeFailing(count: 15)
            try await Self.expectDeliveredOnce(harness, 0..<15)
        }
    }

    @Test func recoveredObjectGetsExactlyOneResolvedNotification() async throws {
        try await ReplicaHarness.with { harness in
            try harness.writeFailing(count: 10)
            for id in Self.replicas { try harness.start(id) }
            try await Self.expectDeliveredOnce(harness, 0..<10)
            try harness.writeFailing(count: 10, healthy: [3])
            try await Self.expectDeliveredOnce(harness, 3..<4, kind: "resolved", timeout: .seconds(20))
            try await Task.sleep(for: .seconds(3))
            try await Self.expectDeliveredOnce(harness, 3..<4, kind: "resolved")
            #expect(harness.sink.delivered(fingerprint: harness.fingerprint(of: 4), kind: "resolved") == 0)
            try await Self.expectDrained(harness)
        }
    }
}
