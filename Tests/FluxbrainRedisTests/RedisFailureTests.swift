import FluxbrainRedis
import FluxbrainTestSupport
import Testing

/// Lost connections, stalls, restarts and configuration errors, against real redis-server processes.
@Suite struct RedisFailureTests {
    @Test func reconnectsWithItsSelectedDatabaseAfterClientKill() async throws {
        try await PlainRedis.with { redis in
            let metrics = CapturedMetrics()
            let configuration = try redis.configuration(database: 3, commandTimeout: .seconds(120), poolSize: 1)
            #expect(configuration.redactedURL.hasSuffix("/3"))
            try await withRedisClient(
                configuration: configuration,
                logger: CapturedLogs().logger(),
                metricsFactory: metrics
            ) { client in
                try await withRedisClient(configuration: redis.configuration(), logger: CapturedLogs().logger()) {
                    killer in
                    let key = redis.key("db3")
                    try await client.send("SET", key, "in-db-3")
                    #expect(try await killer.send("EXISTS", key) == .integer(0))  // it is not in db 0

                    // A command in flight when the connection dies fails: its outcome is unknown, so no silent
                    // retry. (`WAIT 1 100000` waits for a replica this server does not have: it is still in flight
                    // when the connection is killed, whatever the machine's speed.)
                    let id = try #require(try await client.send("CLIENT", "ID").integer)
                    async let lost = redisError { try await client.send("WAIT", 1, 100_000) }
                    let waiting = try await eventually(timeout: .seconds(30), poll: .milliseconds(5)) {
                        let list = try await killer.send("CLIENT", "LIST").string ?? ""
                        return list.contains("id=\(id) ") && list.contains(" cmd=wait ")
                    }
                    #expect(waiting)
                    #expect(try await killer.send("CLIENT", "KILL", "ID", id) == .integer(1))
                    #expect(await lost?.code == .io)
                    // The next one reconnects, re-applies SELECT 3 and finds the key.
                    #expect(try await client.send("GET", key) == .bulk(Array("in-db-3".utf8)))
                    let info = try await client.send("CLIENT", "INFO").string ?? ""
                    #expect(info.contains(" db=3 "))
                    #expect(metrics.value("fluxbrain_redis_reconnects_total") == 1)
                    #expect(metrics.value("fluxbrain_redis_errors_total", [("kind", "io")]) == 1)

                    // A command marked idempotent is re-sent once on a fresh connection instead.
                    let newID = try #require(try await client.send("CLIENT", "ID").integer)
                    #expect(newID != id)
                    #expect(try await killer.send("CLIENT", "KILL", "ID", newID) == .integer(1))
                    #expect(
                        try await client.send(RedisCommand("GET", key).idempotent()) == .bulk(Array("in-db-3".utf8))
                    )
                    #expect(metrics.value("fluxbrain_redis_reconnects_total") == 2)
                    try await client.send("DEL", key)
                }
            }
        }
    }

    @Test func pausedServerTimesOutWithinTheCommandTimeoutAndRecovers() async throws {
        try await RedisServerProcess.with { server in
            let timeout = Duration.milliseconds(500)
            let metrics = CapturedMetrics()
            let configuration = try RedisConfiguration(url: server.url, commandTimeout: timeout, poolSize: 1)
            try await withRedisClient(
                configuration: configuration,
                logger: CapturedLogs().logger(),
                metricsFactory: metrics
            ) { client in
                try await client.send("PING")
                server.pause()
                // A paused server never answers: only the command timeout can end the call (no hang), and the error
                // says so, naming the server.
                let error = await redisError { try await client.send("SET", "k", "v") }
                #expect(error?.code == .timeout)
                #expect(error?.message.contains("127.0.0.1:\(server.port)") == true)
                #expect(metrics.value("fluxbrain_redis_errors_total", [("kind", "timeout")]) == 1)

                // A fresh connection also succeeds at TCP level (listen backlog) and then times out on the command.
                try await withRedisClient(configuration: configuration, logger: CapturedLogs().logger()) { fresh in
                    let freshError = await redisError { try await fresh.send("PING") }
                    #expect(freshError?.code == .timeout)
                }

                server.resume()
                #expect(try await client.send("PING") == .status("PONG"))
                // The timed-out SET may or may not have been applied (ambiguous outcome); either is fine here.
                let value = try await client.send("GET", "k")
                #expect(value == .null || value == .bulk(Array("v".utf8)))
            }
        }
    }

    @Test func wrongPasswordGivesAClearAuthenticationError() async throws {
        try await RedisServerProcess.with(.init(password: "right-pass")) { server in
            let logs = CapturedLogs()
            let wrong = try RedisConfiguration(url: "redis://:wrong-pass@127.0.0.1:\(server.port)/0")
            try await withRedisClient(configuration: wrong, logger: logs.logger()) { client in
                let error = await redisError { try await client.send("PING") }
                #expect(error?.code == .authenticationFailed)
                #expect(
                    error?.message.hasPrefix(
                        "Redis at 127.0.0.1:\(server.port) refused the credentials (AUTH: WRONGPASS"
                    ) == true
                )
                #expect(error?.description.contains("wrong-pass") == false)
            }
            let withUser = try RedisConfiguration(url: "redis://default:wrong-pass@127.0.0.1:\(server.port)")
            try await withRedisClient(configuration: withUser, logger: logs.logger()) { client in
                let error = await redisError { try await client.send("PING") }
                #expect(error?.code == .authenticationFailed)
            }
            #expect(!logs.all.isEmpty)
            #expect(!logs.all.contains { $0.contains("wrong-pass") })

            let right = try RedisConfiguration(url: "redis://default:right-pass@127.0.0.1:\(server.port)/2")
            let pong = try await withRedisClient(configuration: right, logger: logs.logger()) { client in
                try await client.send("PING")
            }
            #expect(pong == .status("PONG"))
            let none = try RedisConfiguration(url: "redis://127.0.0.1:\(server.port)")
            try await withRedisClient(configuration: none, logger: logs.logger()) { client in
                let error = await redisError { try await client.send("PING") }
                #expect(error?.code == .server)
                #expect(error?.message.hasPrefix("NOAUTH") == true)
            }
            #expect(!logs.all.contains { $0.contains("right-pass") })
        }
    }

    @Test func passwordForAServerWithoutOneIsAnAuthenticationError() async throws {
        try await PlainRedis.with { redis in
            guard redis.base.password == nil else { return }
            var configuration = try redis.configuration()
            configuration.password = "unneeded"
            try await withRedisClient(configuration: configuration, logger: CapturedLogs().logger()) { client in
                let error = await redisError { try await client.send("PING") }
                #expect(error?.code == .authenticationFailed)
                #expect(error?.message.contains("without any password configured") == true)
            }
        }
    }

    @Test func refusedConnectionNamesHostAndPort() async throws {
        let port = try RedisServerProcess.freePort()
        let configuration = try RedisConfiguration(url: "redis://127.0.0.1:\(port)/0")
        try await withRedisClient(configuration: configuration, logger: CapturedLogs().logger()) { client in
            let error = await redisError { try await client.send("PING") }
            #expect(error?.code == .connectionRefused)
            #expect(error?.message == "cannot reach Redis at 127.0.0.1:\(port) (connection refused)")
        }
    }

    @Test func serverProcessStopsOnSIGTERMAndRestartsOnTheSamePort() async throws {
        try await RedisServerProcess.with { server in
            let port = server.port
            #expect(server.url == "redis://127.0.0.1:\(port)/0")
            // SIGTERM must reach the server (a child inheriting a blocked signal mask would ignore it, and `stop`
            // would end it with SIGKILL): it shuts down by itself and exits with status 0.
            await server.stop(removingDirectory: false)
            #expect(server.pid == nil)
            #expect(server.lastWaitStatus == 0, "wait status \(String(describing: server.lastWaitStatus))")
            #expect(server.logTail().contains("Received SIGTERM"), "\(server.logTail())")
            try await server.restart()
            #expect(server.port == port)
            let configuration = try RedisConfiguration(url: server.url)
            let pong = try await withRedisClient(configuration: configuration, logger: CapturedLogs().logger()) {
                try await $0.send("PING")
            }
            #expect(pong == .status("PONG"))
        }
    }

    @Test func survivesKillAndRestartWithAOFAndReloadsScripts() async throws {
        try await RedisServerProcess.with(.init(appendOnly: true)) { server in
            let configuration = try RedisConfiguration(url: server.url(database: 1), poolSize: 1)
            try await withRedisClient(configuration: configuration, logger: CapturedLogs().logger()) { client in
                let script = RedisScript(name: "get", source: "return redis.call('GET', KEYS[1])")
                try await client.send("SET", "durable", "yes")
                #expect(try await client.evalSHA(script, keys: ["durable"]) == .bulk(Array("yes".utf8)))
                let firstPID = server.pid

                await server.kill9()
                #expect(server.pid == nil)
                // The event-loop connection sees the server close it, so the next command reconnects and is
                // refused; a command that reaches the dead connection before that fails with `io` instead (its
                // outcome unknown), and the one after it is refused.
                var lost = await redisError { try await client.send("PING") }
                if lost?.code == .io { lost = await redisError { try await client.send("PING") } }
                #expect(lost?.code == .connectionRefused)

                try await server.restart()
                #expect(server.pid != nil && server.pid != firstPID)
                // Cached SHA → NOSCRIPT on the restarted server → SCRIPT LOAD and one retry.
                #expect(try await client.evalSHA(script, keys: ["durable"]) == .bulk(Array("yes".utf8)))
                #expect(try await client.send("GET", "durable") == .bulk(Array("yes".utf8)))
            }
        }
    }
}
