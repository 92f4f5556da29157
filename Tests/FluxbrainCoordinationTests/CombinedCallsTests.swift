import FluxbrainCoordination
import FluxbrainCore
import FluxbrainRedis
import FluxbrainTestSupport
import Foundation
import Testing

/// The combined calls (a verdict's write with the notification claim; deliveries recorded with the ack and the next
/// claim): the shared conformance on the in-memory ports and on Redis, plus what only Redis has: one round trip,
/// `NOSCRIPT` recovery inside the pipeline, and a step failing between the others.
@Suite struct CombinedCallsTests {
    typealias Fixture = WorkQueueConformance

    /// The Redis ports of one installation on `client`.
    static func ports(_ coordination: RedisCoordination, client: RedisClient) -> CombinedCallsConformance.Ports {
        let prefix = coordination.keys.prefix
        return CombinedCallsConformance.Ports(
            queue: coordination,
            notifications: RedisNotificationStore(client: client, keyPrefix: prefix, logger: RedisFixture.quietLogger),
            analysis: RedisAnalysisStore(client: client, keyPrefix: prefix, logger: RedisFixture.quietLogger),
            advance: { try await Task.sleep(for: $0) }
        )
    }

    @Test(arguments: CombinedCallsConformance.checks)
    func inMemory(_ check: String) async throws {
        try await CombinedCallsConformance.run(check, on: .inMemory(), unit: .seconds(1))
    }

    @Test(arguments: CombinedCallsConformance.checks)
    func redis(_ check: String) async throws {
        try await retryingMissedWindows {
            try await RedisFixture.with { coordination, client in
                let ports = Self.ports(coordination, client: client)
                try await CombinedCallsConformance.run(check, on: ports, unit: .seconds(1))
            }
        }
    }

    /// The analysis of an item that opens its incident (``WorkItem/opensIncident``) reads nothing from Redis before it
    /// asks Errorbrain; the same incident without the mark reads once (the lookup's `GET` and `HMGET` together).
    @Test func anOpeningItemsAnalysisMakesNoRoundTripBeforeErrorbrain() async throws {
        struct Fixed: AnalysisService {
            let result: AnalysisResult
            func analyze(_ incident: Incident) async throws -> AnalysisResult { result }
        }
        try await RedisServerProcess.with { server in
            let configuration = try RedisConfiguration(url: server.url)
            try await withRedisClient(configuration: configuration, logger: RedisFixture.quietLogger) { client in
                let store = RedisAnalysisStore(client: client, keyPrefix: "opening", logger: RedisFixture.quietLogger)
                let analyzer = Analyzer(
                    service: Fixed(result: AnalysisStoreConformance.sampleResult(verdictID: "v")),
                    store: store,
                    logger: RedisFixture.quietLogger
                )
                let incident = Redactor().redacted(Fixture.item(1).incident)
                // Each count includes the `INFO` that reads it.
                var before = try await Self.reads(client)
                let opening = try await analyzer.analyze(incident, deferringWrite: true, nothingStored: true)
                #expect(try await Self.reads(client) - before == 1)
                #expect(opening.write != nil)
                before = try await Self.reads(client)
                let unmarked = try await analyzer.analyze(incident, deferringWrite: true)
                #expect(try await Self.reads(client) - before == 2)
                #expect(unmarked.write != nil)
            }
        }
    }

    /// `total_reads_processed` of the server: one per request batch the server read, i.e. per round trip.
    static func reads(_ client: RedisClient) async throws -> Int {
        let info = try #require(try await client.send("INFO", "stats").string)
        let line = try #require(info.split(separator: "\r\n").first { $0.hasPrefix("total_reads_processed:") })
        return try #require(Int(line.dropFirst("total_reads_processed:".count)))
    }

    /// On a private server (nothing else talks to it): each combined call is one round trip once its scripts are
    /// loaded, and it still works after `SCRIPT FLUSH` (the script is reloaded and run again).
    @Test func eachCombinedCallIsOneRoundTripAndSurvivesAScriptFlush() async throws {
        try await RedisServerProcess.with { server in
            let configuration = try RedisConfiguration(url: server.url)
            try await withRedisClient(configuration: configuration, logger: RedisFixture.quietLogger) { client in
                let coordination = RedisFixture.make(client: client)
                let ports = Self.ports(coordination, client: client)
                let lease = try #require(try await coordination.acquire(replicaID: "a", ttl: .seconds(60)))
                for n in 1...4 { _ = try await coordination.enqueue(Fixture.item(n), lease: lease) }
                let settings = NotificationSettings()
                var current = try #require(try await coordination.claim(worker: "w", lease: .seconds(60)))
                for round in 0..<3 {
                    let fingerprint = current.item.incident.fingerprint
                    let result = AnalysisStoreConformance.sampleResult(verdictID: "v\(round)")
                    let write = PendingAnalysisWrite(store: ports.analysis, result: result, fingerprint: fingerprint)
                    // Round 0 loads the scripts; round 1 counts round trips; round 2 runs after a flush.
                    if round == 2 { try await client.send("SCRIPT", "FLUSH") }
                    let before = try await Self.reads(client)
                    let claim = try await ports.notifications.claim(
                        fingerprint: fingerprint,
                        channel: .webhook,
                        status: .firing,
                        token: "t\(round)",
                        settings: settings,
                        after: write
                    )
                    let afterClaim = try await Self.reads(client)
                    #expect(claim.decision == .send(.firing, sequence: 1), "round \(round)")
                    #expect(try await ports.analysis.cachedResult(for: fingerprint) == result, "round \(round)")
                    if round == 2 { try await client.send("SCRIPT", "FLUSH") }
                    let delivery = PendingDelivery(
                        store: ports.notifications,
                        fingerprint: fingerprint,
                        channel: .webhook,
                        token: "t\(round)",
                        status: .firing,
                        reference: nil,
                        sendLease: settings.sendLease
                    )
                    let beforeAck = try await Self.reads(client)
                    let done = try await coordination.ack(
                        current,
                        recording: [delivery],
                        thenClaimFor: "w",
                        lease: .seconds(60)
                    )
                    let afterAck = try await Self.reads(client)
                    if round == 1 {
                        // One read for the call, one for the INFO that measures it.
                        #expect(afterClaim - before == 2, "write + claim took \(afterClaim - before - 1) round trips")
                        #expect(
                            afterAck - beforeAck == 2,
                            "record + ack + claim took \(afterAck - beforeAck - 1) round trips"
                        )
                    }
                    #expect(done.acked && done.unrecorded.isEmpty && done.late.isEmpty, "round \(round)")
                    let state = try await ports.notifications.state(fingerprint: fingerprint, channel: .webhook)
                    #expect(state?.notifyCount == 1 && state?.claim == nil, "round \(round)")
                    current = try #require(done.next, "round \(round)")
                }
                #expect(current.item == Fixture.item(4))
            }
        }
    }

    /// The claim step fails (its key holds a string): the verdict written before it in the same round trip stays
    /// cached, and the call throws; once the key is fixed the claim goes through.
    @Test func aFailingClaimAfterTheWriteKeepsTheVerdictAndThrows() async throws {
        try await RedisFixture.with { coordination, client in
            let ports = Self.ports(coordination, client: client)
            let notifications = try #require(ports.notifications as? RedisNotificationStore)
            let fingerprint = Fixture.item(1).incident.fingerprint
            let result = AnalysisStoreConformance.sampleResult(verdictID: "v")
            let write = PendingAnalysisWrite(store: ports.analysis, result: result, fingerprint: fingerprint)
            let key = notifications.key(fingerprint: fingerprint, channel: .webhook)
            try await client.send("SET", key, "not a hash")
            await #expect(throws: CoreError.self) {
                try await notifications.claim(
                    fingerprint: fingerprint,
                    channel: .webhook,
                    status: .firing,
                    token: "t",
                    settings: NotificationSettings(),
                    after: write
                )
            }
            #expect(try await ports.analysis.cachedResult(for: fingerprint) == result)
            try await client.send("DEL", key)
            let claim = try await notifications.claim(
                fingerprint: fingerprint,
                channel: .webhook,
                status: .firing,
                token: "t",
                settings: NotificationSettings(),
                after: write
            )
            #expect(claim.decision == .send(.firing, sequence: 1))
        }
    }

    /// The delivery's step fails (its key holds a string): the ack and the next claim after it in the same round
    /// trip still apply, and the delivery comes back as unrecorded for the caller to record again.
    @Test func aFailingDeliveryRecordBeforeTheAckComesBackUnrecorded() async throws {
        try await RedisFixture.with { coordination, client in
            let ports = Self.ports(coordination, client: client)
            let notifications = try #require(ports.notifications as? RedisNotificationStore)
            let lease = try #require(try await coordination.acquire(replicaID: "a", ttl: .seconds(60)))
            for n in 1...2 { _ = try await coordination.enqueue(Fixture.item(n), lease: lease) }
            let claimed = try #require(try await coordination.claim(worker: "w", lease: .seconds(60)))
            let fingerprint = claimed.item.incident.fingerprint
            let key = notifications.key(fingerprint: fingerprint, channel: .webhook)
            try await client.send("SET", key, "not a hash")
            let delivery = PendingDelivery(
                store: notifications,
                fingerprint: fingerprint,
                channel: .webhook,
                token: "t",
                status: .firing,
                reference: nil,
                sendLease: .seconds(60)
            )
            let done = try await coordination.ack(
                claimed,
                recording: [delivery],
                thenClaimFor: "w",
                lease: .seconds(60)
            )
            #expect(done.acked)
            #expect(done.unrecorded.map(\.token) == ["t"])
            #expect(done.late.isEmpty)
            #expect(done.next?.item == Fixture.item(2))
            #expect(try await !coordination.isPending(key: Fixture.item(1).key))
        }
    }
}
