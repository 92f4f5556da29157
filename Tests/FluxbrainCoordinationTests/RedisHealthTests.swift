import FluxbrainCoordination
import FluxbrainRedis
import FluxbrainTestSupport
import Testing

@Suite struct RedisHealthTests {
    @Test func pingAnswersForALiveServer() async throws {
        try await PlainRedis.with { redis in
            try await withRedisClient(configuration: try redis.configuration(), logger: RedisFixture.quietLogger) {
                client in
                let (ok, detail) = await RedisHealth(client: client).ping(timeout: .seconds(30))
                #expect(ok, "\(detail)")
                #expect(detail.hasPrefix("PONG in"))
            }
        }
    }

    @Test func pingGivesUpAtItsTimeoutWhenTheServerIsPaused() async throws {
        try await RedisServerProcess.with { server in
            let configuration = try RedisConfiguration(url: server.url, commandTimeout: .milliseconds(800))
            try await withRedisClient(configuration: configuration, logger: RedisFixture.quietLogger) { client in
                let health = RedisHealth(client: client)
                #expect(await health.ping(timeout: .seconds(30)).ok)
                server.pause()
                // A paused server never answers: only the command timeout can end the PING, and it reports so.
                let (ok, detail) = await health.ping(timeout: .milliseconds(300))
                server.resume()
                #expect(!ok)
                #expect(detail.hasPrefix("PING failed: timeout"), "\(detail)")
                #expect(await health.ping(timeout: .seconds(30)).ok, "the next PING reconnects")
            }
        }
    }

    @Test func pingReportsAnUnreachableServer() async throws {
        let port = try RedisServerProcess.freePort()
        let configuration = try RedisConfiguration(url: "redis://127.0.0.1:\(port)", connectTimeout: .seconds(1))
        try await withRedisClient(configuration: configuration, logger: RedisFixture.quietLogger) { client in
            let (ok, detail) = await RedisHealth(client: client).ping(timeout: .seconds(3))
            #expect(!ok)
            #expect(detail.contains("PING failed"))
        }
    }

    @Test func warnsWhenAppendOnlyIsOff() async throws {
        try await RedisServerProcess.with(.init(appendOnly: false)) { server in
            let warnings = try await warnings(server)
            #expect(warnings.count == 1)
            #expect(warnings.first?.contains("appendonly no") == true)
        }
    }

    @Test func warnsWhenEvictionIsOn() async throws {
        try await RedisServerProcess.with(
            .init(appendOnly: true, extraArguments: ["--maxmemory-policy", "allkeys-lru"])
        ) { server in
            let warnings = try await warnings(server)
            #expect(warnings.count == 1)
            #expect(warnings.first?.contains("maxmemory-policy allkeys-lru") == true)
        }
    }

    @Test func hasNoWarningsForTheRecommendedSettings() async throws {
        try await RedisServerProcess.with(
            .init(appendOnly: true, extraArguments: ["--maxmemory-policy", "noeviction"])
        ) {
            server in
            let warnings = try await warnings(server)
            #expect(warnings == [])
        }
    }

    @Test func warnsOnceWhenConfigIsDisabled() async throws {
        try await RedisServerProcess.with(.init(extraArguments: ["--rename-command", "CONFIG", ""])) { server in
            let warnings = try await warnings(server)
            #expect(warnings.count == 1)
            #expect(warnings.first?.contains("could not check") == true)
        }
    }

    private func warnings(_ server: RedisServerProcess) async throws -> [String] {
        let configuration = try RedisConfiguration(url: server.url)
        return try await withRedisClient(configuration: configuration, logger: RedisFixture.quietLogger) { client in
            await RedisHealth(client: client).configurationWarnings()
        }
    }
}
