import FluxbrainRedis
import FluxbrainTestSupport
import Testing

/// Commands and replies against a real redis-server (the shared CI one when `FLUXBRAIN_TEST_REDIS_URL` is set).
@Suite struct RedisCommandTests {
    @Test func decodesEveryReplyType() async throws {
        try await PlainRedis.with { redis in
            let logs = CapturedLogs()
            try await withRedisClient(configuration: redis.configuration(), logger: logs.logger()) { client in
                let key = redis.key("types")
                #expect(try await client.send("PING") == .status("PONG"))
                #expect(try await client.send("SET", key, "v") == .status("OK"))
                #expect(try await client.send("GET", key) == .bulk(Array("v".utf8)))
                #expect(try await client.send("GET", redis.key("missing")) == .null)
                #expect(try await client.send("INCRBY", redis.key("n"), 41) == .integer(41))
                #expect(try await client.send("SET", redis.key("empty"), "") == .status("OK"))
                #expect(try await client.send("GET", redis.key("empty")) == .bulk([]))

                // An error reply thrown from send ...
                let error = await redisError { try await client.send("NOSUCHCOMMAND", "x") }
                #expect(error?.code == .server)
                #expect(error?.message.hasPrefix("ERR unknown command") == true)
                // ... but visible in place in a pipeline.
                let replies = try await client.pipeline([RedisCommand("NOSUCHCOMMAND"), RedisCommand("PING")])
                #expect(replies.first?.errorMessage?.hasPrefix("ERR unknown command") == true)
                #expect(replies.last == .status("PONG"))

                // Nested arrays, integers, nil (Lua false), status and error elements from a Lua table.
                let nested = try await client.send(
                    "EVAL",
                    "return {1, 'two', {3, {'four', false}}, redis.status_reply('FINE'), "
                        + "redis.error_reply('BAD thing')}",
                    0
                )
                #expect(
                    nested
                        == .array([
                            .integer(1), .bulk(Array("two".utf8)),
                            .array([.integer(3), .array([.bulk(Array("four".utf8)), .null])]),
                            .status("FINE"), .error("BAD thing"),
                        ])
                )
                #expect(try await client.send("EVAL", "return {}", 0) == .array([]))
                // MULTI/EXEC on one connection: an error inside the EXEC array stays an element.
                // (No #expect inside the closure: it runs on the connection's thread, outside the test's task.)
                let (queued, exec) = try await client.withConnection { connection in
                    try connection.send("MULTI")
                    let queued = [try connection.send("SET", key, "text"), try connection.send("INCR", key)]
                    return (queued, try connection.send("EXEC"))
                }
                #expect(queued == [.status("QUEUED"), .status("QUEUED")])
                #expect(exec.array?.count == 2)
                #expect(exec.array?.first == .status("OK"))
                #expect(exec.array?.last?.errorMessage?.contains("not an integer") == true)
                _ = try await client.send("DEL", key, redis.key("n"), redis.key("empty"))
            }
        }
    }

    @Test func binaryValuesWithNULBytesRoundTrip() async throws {
        try await PlainRedis.with { redis in
            try await withRedisClient(configuration: redis.configuration(), logger: CapturedLogs().logger()) { client in
                let value: [UInt8] = [0x61, 0x00, 0x62, 0x00, 0xFF, 0x0D, 0x0A, 0x00]
                let key: [UInt8] = Array(redis.key("bin").utf8) + [0x00, 0x01]
                #expect(try await client.send("SET", key, value) == .status("OK"))
                #expect(try await client.send("STRLEN", key) == .integer(Int64(value.count)))
                #expect(try await client.send("GET", key) == .bulk(value))
                let all = [UInt8](0...255)
                try await client.send("SET", key, all)
                #expect(try await client.send("GET", key).bytes == all)
                try await client.send("DEL", key)
            }
        }
    }

    @Test func thousandPipelinedCommandsAnswerInOrder() async throws {
        try await PlainRedis.with { redis in
            try await withRedisClient(configuration: redis.configuration(), logger: CapturedLogs().logger()) { client in
                let counter = redis.key("counter")
                let commands = (0..<1000).map { _ in RedisCommand("INCR", counter) }
                let replies = try await client.pipeline(commands)
                #expect(replies == (1...1000).map { RedisReply.integer(Int64($0)) })

                // Streaming form: append N, read N, with distinct values.
                let (sets, values) = try await client.withConnection { connection in
                    for index in 0..<1000 {
                        try connection.append(RedisCommand("SET", redis.key("k\(index)"), "value-\(index)"))
                    }
                    let sets = try (0..<1000).map { _ in try connection.readReply() }
                    let gets = (0..<1000).map { RedisCommand("GET", redis.key("k\($0)")) }
                    return (sets, try connection.pipeline(gets).map { $0.string ?? "?" })
                }
                #expect(sets == Array(repeating: .status("OK"), count: 1000))
                #expect(values == (0..<1000).map { "value-\($0)" })
                try await client.send(
                    RedisCommand("DEL", arguments: [counter] + (0..<1000).map { redis.key("k\($0)") })
                )
            }
        }
    }

    @Test func pipelinedScriptsRunInOrderAndRecoverAfterScriptFlush() async throws {
        // SCRIPT FLUSH affects every client of the server, so this test uses a private server.
        try await RedisServerProcess.with { server in
            try await withRedisClient(
                configuration: try RedisConfiguration(url: server.url),
                logger: CapturedLogs().logger()
            ) { client in
                let incr = RedisScript(name: "incr-by", source: "return redis.call('INCRBY', KEYS[1], ARGV[1])")
                let get = RedisScript(name: "get", source: "return redis.call('GET', KEYS[1])")
                let failing = RedisScript(name: "fails", source: "return redis.error_reply('NOPE no way')")
                let calls = [
                    RedisScriptCall(incr, keys: ["p"], arguments: [5]), RedisScriptCall(failing),
                    RedisScriptCall(get, keys: ["p"]),
                ]
                // Not loaded yet: loaded first, then run in one write; an error reply stays in place.
                #expect(
                    try await client.evalSHA(calls) == [.integer(5), .error("NOPE no way"), .bulk(Array("5".utf8))]
                )
                try await client.send("SCRIPT", "FLUSH")
                // Cached SHAs now get NOSCRIPT: each script is loaded and run again, once, in order.
                #expect(
                    try await client.evalSHA(calls) == [.integer(10), .error("NOPE no way"), .bulk(Array("10".utf8))]
                )
                #expect(try await client.send("GET", "p") == .bulk(Array("10".utf8)))
            }
        }
    }

    /// A client of a private redis-server (`SCRIPT FLUSH` affects every client of a server), its metrics, a script
    /// that adds `ARGV[1]` to `KEYS[1]` and one that answers an error.
    private func withScriptsOnAPrivateServer(
        _ body:
            @Sendable (RedisClient, CapturedMetrics, _ incrBy: RedisScript, _ failing: RedisScript) async throws
            -> Void
    ) async throws {
        try await RedisServerProcess.with { server in
            let metrics = CapturedMetrics()
            let configuration = try RedisConfiguration(url: server.url)
            try await withRedisClient(
                configuration: configuration,
                logger: CapturedLogs().logger(),
                metricsFactory: metrics
            ) { client in
                try await body(
                    client,
                    metrics,
                    RedisScript(name: "incr-by", source: "return redis.call('INCRBY', KEYS[1], ARGV[1])"),
                    RedisScript(name: "fails", source: "return redis.error_reply('NOPE no way')")
                )
            }
        }
    }

    @Test func evalSHARecoversAfterScriptFlush() async throws {
        try await withScriptsOnAPrivateServer { client, metrics, script, failing in
            #expect(try await client.evalSHA(script, keys: ["s"], arguments: [5]) == .integer(5))
            #expect(try await client.evalSHA(script, keys: ["s"], arguments: [2]) == .integer(7))
            try await client.send("SCRIPT", "FLUSH")
            // The cached SHA now gets NOSCRIPT; the client reloads and retries once.
            #expect(try await client.evalSHA(script, keys: ["s"], arguments: [3]) == .integer(10))
            // The server's own error reply from the script is a server error.
            let error = await redisError { try await client.evalSHA(failing) }
            #expect(error?.code == .server)
            #expect(error?.message == "NOPE no way")
            // EVALSHA sent by hand with an unknown SHA surfaces as noScript.
            let unknown = await redisError {
                try await client.send("EVALSHA", String(repeating: "0", count: 40), 0)
            }
            #expect(unknown?.code == .noScript)
            #expect(metrics.value("fluxbrain_redis_errors_total", [("kind", "noScript")]) == 1)
            #expect(metrics.value("fluxbrain_redis_errors_total", [("kind", "server")]) == 1)
        }
    }

    /// The same on a lent thread connection (``RedisConnection/evalSHA(_:keys:arguments:)``).
    @Test func aLentConnectionsEvalSHARecoversAfterScriptFlush() async throws {
        try await withScriptsOnAPrivateServer { client, metrics, script, failing in
            let replies = try await client.withConnection { connection in
                let first = try connection.evalSHA(script, keys: ["s"], arguments: [5])
                try connection.send("SCRIPT", "FLUSH")
                // The cached SHA now gets NOSCRIPT; the connection reloads and retries once.
                let second = try connection.evalSHA(script, keys: ["s"], arguments: [3])
                return [first, second]
            }
            #expect(replies == [.integer(5), .integer(8)])
            let error = await redisError { _ = try await client.withConnection { try $0.evalSHA(failing) } }
            #expect(error?.code == .server)
            #expect(error?.message == "NOPE no way")
            #expect(metrics.value("fluxbrain_redis_errors_total", [("kind", "server")]) == 1)
        }
    }

    @Test func sessionStateIsRestoredBeforeTheNextLease() async throws {
        try await PlainRedis.with { redis in
            let configuration = try redis.configuration(database: 5, poolSize: 1)
            try await withRedisClient(configuration: configuration, logger: CapturedLogs().logger()) { client in
                let key = redis.key("session")
                try await client.send("SET", key, "db5")
                struct Abort: Error {}
                // Leave a SELECT, an open MULTI and unread pipelined replies behind.
                await #expect(throws: Abort.self) {
                    try await client.withConnection { connection in
                        try connection.send("SELECT", 6)
                        try connection.send("MULTI")
                        throw Abort()
                    }
                }
                #expect(try await client.send("GET", key) == .bulk(Array("db5".utf8)))
                try await client.withConnection { connection in
                    try connection.append(RedisCommand("PING"))
                    try connection.append(RedisCommand("PING"))
                }
                #expect(try await client.send("GET", key) == .bulk(Array("db5".utf8)))
                let misuse = await redisError {
                    try await client.withConnection { connection in
                        try connection.append(RedisCommand("PING"))
                        try connection.send("PING")
                    }
                }
                #expect(misuse?.code == .misuse)
                try await client.send("DEL", key)
            }
        }
    }
}
