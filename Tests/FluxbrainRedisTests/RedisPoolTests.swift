import FluxbrainRedis
import FluxbrainTestSupport
import Foundation
import Testing

/// The connection pool, dedicated connections for blocking commands, timeouts and lifecycle.
@Suite struct RedisPoolTests {
    /// Number of connections named `name` currently blocked in `command` (from `CLIENT LIST`).
    static func blockedClients(_ client: RedisClient, name: String, command: String) async throws -> Int {
        let list = try await client.send("CLIENT", "LIST").string ?? ""
        return list.split(separator: "\n").filter { $0.contains(" name=\(name) ") && $0.contains(" cmd=\(command) ") }
            .count
    }

    @Test func fiftyTasksKeepCompletingWhileEightConnectionsSitInBLPOP() async throws {
        try await PlainRedis.with { redis in
            let name = "blpop-\(UUID().uuidString.prefix(8))"
            var configuration = try redis.configuration(commandTimeout: .seconds(2), poolSize: 4)
            configuration.clientName = name
            try await withRedisClient(configuration: configuration, logger: CapturedLogs().logger()) { client in
                let queue = redis.key("queue")
                try await withThrowingTaskGroup(of: RedisReply.self) { group in
                    // The BLPOPs' own timeout is far beyond anything the work could take: they end only when pushed
                    // to, so each check below is about order, not about how long anything took.
                    for _ in 0..<8 {
                        group.addTask { try await client.send(.blpop([queue], timeout: .seconds(120))) }
                    }
                    let allBlocked = try await eventually(timeout: .seconds(30), poll: .milliseconds(10)) {
                        try await Self.blockedClients(client, name: name, command: "blpop") == 8
                    }
                    #expect(allBlocked)

                    let results = try await withThrowingTaskGroup(of: [Int64].self) { workers in
                        for task in 0..<50 {
                            workers.addTask {
                                var values: [Int64] = []
                                for _ in 0..<10 {
                                    values.append(
                                        try await client.send("INCR", redis.key("w\(task)")).integer ?? -1
                                    )
                                }
                                return values
                            }
                        }
                        return try await workers.reduce(into: []) { $0.append($1) }
                    }
                    #expect(results.count == 50)
                    #expect(results.allSatisfy { $0 == Array(1...10) })
                    // All 500 commands completed while the 8 BLPOPs were still blocked: the work did not wait for
                    // them (they can only end by the pushes below), nor did they end early.
                    #expect(try await Self.blockedClients(client, name: name, command: "blpop") == 8)
                    // The 500 commands shared the one event-loop connection of callers on Swift's threads.
                    #expect(client.connectionCounts.shared == 0)
                    #expect(client.eventLoopConnectionCount == 1)
                    #expect(client.connectionCounts.dedicated == 8)

                    try await client.send(RedisCommand("RPUSH", arguments: [queue] + (0..<8).map { "item-\($0)" }))
                    var popped: [String] = []
                    for try await reply in group {
                        popped.append(reply.array?.last?.string ?? "nil")
                    }
                    // Served by the pushes, not by their timeout (which would reply nil).
                    #expect(popped.sorted() == (0..<8).map { "item-\($0)" })
                }
                // Idle dedicated connections beyond idleDedicatedConnections (2) are closed.
                #expect(
                    try await eventually(timeout: .seconds(30), poll: .milliseconds(10)) {
                        client.connectionCounts.dedicated == 2
                    }
                )
                try await client.send(RedisCommand("DEL", arguments: (0..<50).map { redis.key("w\($0)") }))
            }
        }
    }

    @Test func blockingCommandRaisesTheSocketTimeoutForThatCallOnly() async throws {
        try await PlainRedis.with { redis in
            let configuration = try redis.configuration(commandTimeout: .seconds(1), poolSize: 1)
            try await withRedisClient(configuration: configuration, logger: CapturedLogs().logger()) { client in
                let key = redis.key("empty-list")
                let outcome = try await client.withDedicatedConnection { connection in
                    // Server-side 2 s > command timeout 1 s: the socket timeout is raised to 3 s for this call, so the
                    // server's own timeout answers (nil) instead of the client giving up (a `timeout` error).
                    let reply = try connection.send(.blpop([key], timeout: .seconds(2)))
                    // Restored afterwards: the same BLPOP not marked as blocking now hits the 1 s socket timeout
                    // while the server would still block for 3 s.
                    var rawError: RedisError?
                    do throws(RedisError) { try connection.send("BLPOP", key, 3) } catch { rawError = error }
                    return (reply, rawError?.code)
                }
                #expect(outcome.0 == .null)
                #expect(outcome.1 == .timeout)

                let forever = await redisError { try await client.send(.blpop([key], timeout: .zero)) }
                #expect(forever?.code == .misuse)
                let subscribe = await redisError { try await client.send("SUBSCRIBE", "channel") }
                #expect(subscribe?.code == .misuse)
            }
        }
    }

    @Test func waitersSuspendAndCanBeCancelled() async throws {
        try await PlainRedis.with { redis in
            let name = "holder-\(UUID().uuidString.prefix(8))"
            var configuration = try redis.configuration(commandTimeout: .seconds(2), poolSize: 1)
            configuration.clientName = name
            try await withRedisClient(configuration: configuration, logger: CapturedLogs().logger()) { client in
                try await withRedisClient(configuration: redis.configuration(), logger: CapturedLogs().logger()) {
                    observer in
                    let key = redis.key("hold")
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        // Hold the only shared connection in a BLPOP that ends only when the test pushes to `key`.
                        group.addTask {
                            try await client.withConnection { connection in
                                _ = try connection.send(.blpop([key], timeout: .seconds(120)))
                            }
                        }
                        let holding = try await eventually(timeout: .seconds(30), poll: .milliseconds(10)) {
                            try await Self.blockedClients(observer, name: name, command: "blpop") == 1
                        }
                        #expect(holding)
                        // (`send` does not wait for the pool: it runs on an event-loop connection.)
                        #expect(try await client.send("PING") == .status("PONG"))
                        let error = await withTaskGroup(of: RedisError?.self) { waiters in
                            waiters.addTask {
                                await redisError { _ = try await client.withConnection { try $0.send("PING") } }
                            }
                            try? await Task.sleep(for: .milliseconds(100))
                            waiters.cancelAll()
                            return await waiters.next() ?? nil
                        }
                        #expect(error?.code == .cancelled)
                        // The cancelled waiter returned while the connection was still held: it did not wait for it.
                        #expect(try await Self.blockedClients(observer, name: name, command: "blpop") == 1)
                        // A waiter that is not cancelled gets the connection when it is released.
                        try await withThrowingTaskGroup(of: RedisReply.self) { waiter in
                            waiter.addTask { try await client.withConnection { try $0.send("PING") } }
                            try await observer.send("RPUSH", key, "release")
                            #expect(try await waiter.next() == .status("PONG"))
                        }
                        try await group.waitForAll()
                    }
                }
            }
        }
    }

    @Test func shutdownInterruptsBlockedCallsFailsWaitersAndClosesEverything() async throws {
        try await PlainRedis.with { redis in
            let configuration = try redis.configuration(commandTimeout: .seconds(2), poolSize: 1)
            var named = configuration
            named.clientName = "shutdown-\(UUID().uuidString.prefix(8))"
            let client = RedisClient(configuration: named, logger: CapturedLogs().logger())
            let key = redis.key("never")
            try await client.send("PING")
            let codes = try await withRedisClient(configuration: redis.configuration(), logger: CapturedLogs().logger())
            { observer in
                await withTaskGroup(of: (String, String).self) { group in
                    // Nothing is ever pushed to `key` and the BLPOPs' own timeout is far away: only the shutdown can
                    // end them, so their `io` errors show it interrupted them rather than waited.
                    group.addTask {
                        let error = await redisError { try await client.send(.blpop([key], timeout: .seconds(120))) }
                        return ("dedicated", error.map { "\($0.code)" } ?? "none")
                    }
                    group.addTask {
                        let error = await redisError {
                            _ = try await client.withConnection { connection in
                                try connection.send(.blpop([key], timeout: .seconds(120)))
                            }
                        }
                        return ("holder", error.map { "\($0.code)" } ?? "none")
                    }
                    let blocked =
                        (try? await eventually(timeout: .seconds(30), poll: .milliseconds(10)) {
                            try await Self.blockedClients(observer, name: named.clientName ?? "", command: "blpop") == 2
                        }) ?? false
                    #expect(blocked)
                    // Queued behind the holder (or, if it comes late, refused by the closed pool: the same code).
                    group.addTask {
                        let error = await redisError { _ = try await client.withConnection { try $0.send("PING") } }
                        return ("waiter", error.map { "\($0.code)" } ?? "none")
                    }
                    try? await Task.sleep(for: .milliseconds(100))
                    await client.shutdown()
                    var codes: [String: String] = [:]
                    for await (name, code) in group { codes[name] = code }
                    return codes
                }
            }
            #expect(codes == ["dedicated": "io", "holder": "io", "waiter": "poolClosed"])
            #expect(client.connectionCounts == (0, 0))
            #expect(client.eventLoopConnectionCount == 0)
            #expect((await redisError { try await client.send("PING") })?.code == .poolClosed)
            #expect(
                (await redisError { _ = try await client.withConnection { try $0.send("PING") } })?.code == .poolClosed
            )
        }
    }

    @Test func countsCommandsInMetrics() async throws {
        try await PlainRedis.with { redis in
            try await withMeteredClient(redis) { client, metrics in
                try await client.send("PING")
                _ = try await client.pipeline([RedisCommand("PING"), RedisCommand("PING"), RedisCommand("NOPE")])
                #expect(metrics.value("fluxbrain_redis_commands_total") == 4)
                #expect(metrics.value("fluxbrain_redis_errors_total", [("kind", "server")]) == 0)
                _ = await redisError { try await client.send("NOPE") }
                #expect(metrics.value("fluxbrain_redis_errors_total", [("kind", "server")]) == 1)
                #expect(metrics.value("fluxbrain_redis_reconnects_total") == 0)
            }
        }
    }
}
