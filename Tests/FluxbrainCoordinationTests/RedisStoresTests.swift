import FluxbrainCoordination
import FluxbrainCore
import FluxbrainRedis
import FluxbrainTestSupport
import Foundation
import Testing

/// `RedisNotificationStore` and `RedisAnalysisStore`: the shared conformance suites on a real Redis (real `TIME`),
/// plus what only Redis has: replicas racing, damaged values, script flushes, TTLs.
/// Every test works under a random key prefix of its own (`RedisFixture`), deleted afterwards.
@Suite struct RedisStoresTests {
    static func notificationStore(_ client: RedisClient, prefix: String) -> RedisNotificationStore {
        RedisNotificationStore(client: client, keyPrefix: prefix, logger: RedisFixture.quietLogger)
    }

    static func analysisStore(_ client: RedisClient, prefix: String) -> RedisAnalysisStore {
        RedisAnalysisStore(client: client, keyPrefix: prefix, logger: RedisFixture.quietLogger)
    }

    static func fingerprint() -> Fingerprint {
        Fingerprint(
            cluster: "c1",
            kind: "Kustomization",
            namespace: "flux-system",
            name: UUID().uuidString,
            reason: "BuildFailed",
            revision: "main@sha1:abc"
        )
    }

    /// Real Redis time, so `advance` sleeps: units of 1 s, because a check reads the store one unit before a
    /// deadline and a busy machine (the whole suite runs in parallel on few cores) can stall a test for a second or
    /// two. Each check runs as a test case of its own, in parallel, so the long unit costs little wall time.
    @Test(arguments: NotificationStoreConformance.checks)
    func notificationStorePassesTheConformanceSuite(check: String) async throws {
        try await RedisFixture.with { coordination, client in
            let store = Self.notificationStore(client, prefix: coordination.keys.prefix)
            try await NotificationStoreConformance.run(check, store: store, unit: .seconds(1)) {
                try await Task.sleep(for: $0)
            }
        }
    }

    @Test func analysisStorePassesTheConformanceSuite() async throws {
        try await RedisFixture.with { coordination, client in
            // `now()` reads `TIME` on every call here (no anchor kept), so "lastFailureAt is the store's now()" holds to
            // the millisecond however long a round trip takes on a loaded machine; the anchored readings between
            // refreshes are RedisTimeTests' subject.
            let store = RedisAnalysisStore(
                client: client,
                keyPrefix: coordination.keys.prefix,
                logger: RedisFixture.quietLogger,
                time: RedisTime(client: client, refresh: .zero)
            )
            try await AnalysisStoreConformance.run(store)
        }
    }

    /// Two replicas (two stores, two clients), ten concurrent claims on one incident and channel: one send.
    @Test func replicasRacingClaimSendExactlyOnce() async throws {
        try await RedisFixture.with { coordination, client in
            try await withRedisClient(configuration: client.configuration, logger: RedisFixture.quietLogger) {
                other in
                let prefix = coordination.keys.prefix
                let replicas = [
                    Self.notificationStore(client, prefix: prefix), Self.notificationStore(other, prefix: prefix),
                ]
                let fingerprint = Self.fingerprint()
                let settings = NotificationSettings()
                let decisions = try await withThrowingTaskGroup(of: NotificationDecision.self) { group in
                    for index in 0..<10 {
                        group.addTask {
                            try await replicas[index % 2].claim(
                                fingerprint: fingerprint,
                                channel: .slack,
                                status: .firing,
                                token: "t\(index)",
                                settings: settings
                            ).decision
                        }
                    }
                    var decisions: [NotificationDecision] = []
                    for try await decision in group { decisions.append(decision) }
                    return decisions
                }
                #expect(decisions.filter { $0 == .send(.firing, sequence: 1) }.count == 1)
                #expect(decisions.filter { if case .skipInFlight = $0 { true } else { false } }.count == 9)
                let state = try #require(try await replicas[1].state(fingerprint: fingerprint, channel: .slack))
                let token = try #require(state.claim?.token)
                // Either replica may finish the send: the claim lives in Redis, not in the process that took it.
                #expect(
                    try await replicas[0].markSent(
                        fingerprint: fingerprint,
                        channel: .slack,
                        token: token,
                        status: .firing
                    )
                )
                let after = try await replicas[0].state(fingerprint: fingerprint, channel: .slack)
                #expect(after?.notifyCount == 1 && after?.claim == nil && after?.lastStatusNotified == .firing)
            }
        }
    }

    /// A cached value that is not an `AnalysisResult` is a miss, and is deleted; storing works again afterwards.
    @Test func undecodableCachedAnalysisIsAMissAndIsRemoved() async throws {
        try await RedisFixture.with { coordination, client in
            let store = Self.analysisStore(client, prefix: coordination.keys.prefix)
            let fingerprint = Self.fingerprint()
            let key = store.resultKey(fingerprint)
            for garbage in ["not json", "{\"verdictID\": 1}", ""] {
                try await client.send("SET", key, garbage)
                #expect(try await store.cachedResult(for: fingerprint) == nil)
                #expect(try await client.send("EXISTS", key).integer == 0, "\(garbage) was not removed")
            }
            let result = AnalysisStoreConformance.sampleResult(verdictID: "v")
            try await store.storeResult(result, for: fingerprint)
            #expect(try await store.cachedResult(for: fingerprint) == result)
        }
    }

    /// Stable JSON under `<prefix>:analysis:<fp>`, failures in a hash; every key expires.
    @Test func keysUseTheDocumentedLayoutAndExpire() async throws {
        try await RedisFixture.with { coordination, client in
            let prefix = coordination.keys.prefix
            let analysis = Self.analysisStore(client, prefix: prefix)
            let notifications = Self.notificationStore(client, prefix: prefix)
            let fingerprint = Self.fingerprint()
            let result = AnalysisStoreConformance.sampleResult(verdictID: "v")
            try await analysis.storeResult(result, for: fingerprint)
            _ = try await analysis.recordFailure(for: fingerprint, reason: "x", backoff: Backoff())
            let stored = try await client.send("GET", "\(prefix):analysis:\(fingerprint.hex)").string
            #expect(stored == (try StableJSON.string(result)))
            #expect(try await client.send("TYPE", "\(prefix):analysis-failures:\(fingerprint.hex)").string == "hash")
            let settings = NotificationSettings(repeatInterval: .seconds(8 * 24 * 3600))
            _ = try await notifications.claim(
                fingerprint: fingerprint,
                channel: .webhook,
                status: .firing,
                token: "t",
                settings: settings
            )
            let notifyKey = "\(prefix):notify:\(fingerprint.hex):webhook"
            #expect(try await client.send("TYPE", notifyKey).string == "hash")
            let week: Int64 = 7 * 24 * 3600 * 1000
            for key in ["\(prefix):analysis:\(fingerprint.hex)", "\(prefix):analysis-failures:\(fingerprint.hex)"] {
                let ttl = try #require(try await client.send("PTTL", key).integer)
                #expect(ttl > week - 60_000 && ttl <= week, "\(key) PTTL \(ttl)")
            }
            let notifyTTL = try #require(try await client.send("PTTL", notifyKey).integer)
            #expect(notifyTTL > 2 * 8 * 24 * 3600 * 1000 - 60_000, "notify PTTL \(notifyTTL)")
            #expect(
                try await notifications.markSent(
                    fingerprint: fingerprint,
                    channel: .webhook,
                    token: "t",
                    status: .firing
                )
            )
            #expect(try await client.send("PTTL", notifyKey).integer ?? 0 > 2 * 8 * 24 * 3600 * 1000 - 60_000)
            try await analysis.forget(fingerprint)
            #expect(try await client.send("EXISTS", "\(prefix):analysis:\(fingerprint.hex)").integer == 0)
        }
    }

    /// Differential: the same random operations against `InMemoryNotificationStore` and the Redis store give the same
    /// decisions and states (dates aside: one runs on a frozen manual clock, the other on Redis `TIME`). A zero
    /// backoff and a long lease keep the outcome independent of time passing.
    @Test(arguments: [1, 2, 3, 4])
    func notificationStoreMirrorsTheInMemoryStore(seed: UInt64) async throws {
        struct Generator: RandomNumberGenerator {
            var state: UInt64
            mutating func next() -> UInt64 {
                state &+= 0x9E37_79B9_7F4A_7C15
                var z = state
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                return z ^ (z >> 31)
            }
        }
        func undated(_ decision: NotificationDecision) -> String {
            switch decision {
            case .skipInFlight: "inFlight"
            case .skipBackoff: "backoff"
            case .skipNotDue: "notDue"
            default: "\(decision)"
            }
        }
        func undated(_ state: NotificationState?) -> String {
            guard let state else { return "nil" }
            return [
                "\(String(describing: state.lastStatusNotified))", "\(state.lastNotifiedAt != nil)",
                "\(state.failures)",
                "\(state.nextAttemptAt != nil)", "\(String(describing: state.claim?.token))",
                "\(String(describing: state.claim?.kind))", "\(state.notifyCount)",
                "\(String(describing: state.lastError))",
            ].joined(separator: "|")
        }
        try await RedisFixture.with { coordination, client in
            let redis = Self.notificationStore(client, prefix: coordination.keys.prefix)
            let memory = InMemoryNotificationStore(now: ManualClock().dateNow)
            var random = Generator(state: seed)
            let fingerprint = Self.fingerprint()
            var tokens = ["none"]
            for step in 0..<200 {
                let stores: [any NotificationStore] = [memory, redis]
                let settings = NotificationSettings(
                    repeatInterval: Bool.random(using: &random) ? .zero : .seconds(3600),
                    sendResolved: Bool.random(using: &random),
                    sendLease: .seconds(60),
                    backoffBase: .zero
                )
                let token = Bool.random(using: &random) ? tokens.last! : tokens.randomElement(using: &random)!
                var outcomes: [String] = []
                switch Int.random(in: 0..<4, using: &random) {
                case 0, 1:
                    let status: NotificationStatus = Bool.random(using: &random) ? .firing : .resolved
                    let fresh = "t\(step)"
                    tokens.append(fresh)
                    for store in stores {
                        let claim = try await store.claim(
                            fingerprint: fingerprint,
                            channel: .slack,
                            status: status,
                            token: fresh,
                            settings: settings
                        )
                        outcomes.append("claim \(status) \(undated(claim.decision)) prev=\(claim.previousFailures)")
                    }
                case 2:
                    let status: NotificationStatus = Bool.random(using: &random) ? .firing : .resolved
                    for store in stores {
                        let applied = try await store.markSent(
                            fingerprint: fingerprint,
                            channel: .slack,
                            token: token,
                            status: status
                        )
                        outcomes.append("sent \(token) \(applied)")
                    }
                default:
                    for store in stores {
                        let next = try await store.markFailed(
                            fingerprint: fingerprint,
                            channel: .slack,
                            token: token,
                            error: "e\(step)",
                            settings: settings
                        )
                        outcomes.append("failed \(token) \(next != nil)")
                    }
                }
                #expect(outcomes[0] == outcomes[1], "step \(step)")
                let states = [
                    undated(try await memory.state(fingerprint: fingerprint, channel: .slack)),
                    undated(try await redis.state(fingerprint: fingerprint, channel: .slack)),
                ]
                #expect(states[0] == states[1], "step \(step): \(outcomes[0])")
                if outcomes[0] != outcomes[1] || states[0] != states[1] { return }
            }
        }
    }

    /// On a private server: a `SCRIPT FLUSH` on the shared one would race other tests' reloads.
    @Test func scriptFlushBetweenCallsStillWorks() async throws {
        try await RedisServerProcess.with { server in
            let configuration = try RedisConfiguration(url: server.url)
            try await withRedisClient(configuration: configuration, logger: RedisFixture.quietLogger) { client in
                let prefix = "fbtest:\(UUID().uuidString.prefix(12).lowercased())"
                let notifications = Self.notificationStore(client, prefix: prefix)
                let analysis = Self.analysisStore(client, prefix: prefix)
                let fingerprint = Self.fingerprint()
                let settings = NotificationSettings()
                let flush = { _ = try await client.send("SCRIPT", "FLUSH") }
                let first = try await notifications.claim(
                    fingerprint: fingerprint,
                    channel: .slack,
                    status: .firing,
                    token: "a",
                    settings: settings
                )
                #expect(first.decision == .send(.firing, sequence: 1))
                try await flush()
                #expect(
                    try await notifications.markFailed(
                        fingerprint: fingerprint,
                        channel: .slack,
                        token: "a",
                        error: "boom",
                        settings: settings
                    ) != nil
                )
                try await flush()
                let blocked = try await notifications.claim(
                    fingerprint: fingerprint,
                    channel: .slack,
                    status: .firing,
                    token: "b",
                    settings: settings
                )
                guard case .skipBackoff = blocked.decision else {
                    Issue.record("expected skipBackoff, got \(blocked.decision)")
                    return
                }
                try await flush()
                #expect(
                    try await !notifications.markSent(
                        fingerprint: fingerprint,
                        channel: .slack,
                        token: "a",
                        status: .firing
                    )
                )
                try await flush()
                #expect(try await analysis.recordFailure(for: fingerprint, reason: "r", backoff: .init()).failures == 1)
                try await flush()
                #expect(try await analysis.recordFailure(for: fingerprint, reason: "r", backoff: .init()).failures == 2)
                try await client.send("SET", analysis.resultKey(fingerprint), "garbage")
                try await flush()
                #expect(try await analysis.cachedResult(for: fingerprint) == nil)
                #expect(try await client.send("EXISTS", analysis.resultKey(fingerprint)).integer == 0)
            }
        }
    }
}
