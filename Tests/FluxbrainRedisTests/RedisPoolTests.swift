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
                let start = ContinuousClock.now
                try await withThrowingTaskGroup(of: RedisReply.self) { group in
                    for _ in 0..<8 {
                        group.addTask { try await client.send(.blpop([queue], timeout: .seconds(5))) }
                    }
                    let allBlocked = try await eventually(timeout: .seconds(3), poll: .milliseconds(10)) {
                        try await Self.blockedClients(client, name: name, command: "blpop") == 8
                    }
                    #expect(allBlocked)

                    let (results, elapsed) = try await measure {
                        try await withThrowingTaskGroup(of: [Int64].self) { workers in
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
                    }
                    #expect(results.count == 50)
                    #expect(results.allSatisfy { $0 == Array(1...10) })
                    #expect(elapsed < .seconds(2), "50×10 commands took \(elapsed) while 8 BLPOPs were blocked")
                    // The BLPOPs are still blocked: the work did not wait for them, nor did they end early.
                    #expect(try await Self.blockedClients(client, name: name, command: "blpop") == 8)
                    #expect(client.connectionCounts.shared <= 4)
                    #expect(client.connectionCounts.dedicated == 8)

                    try await client.send(RedisCommand("RPUSH", arguments: [queue] + (0..<8).map { "item-\($0)" }))
                    var popped: [String] = []
                    for try await reply in group {
                        popped.append(reply.array?.last?.string ?? "nil")
                    }
                    #expect(popped.sorted() == (0..<8).map { "item-\($0)" })
                }
                #expect(
                    ContinuousClock.now - start < .seconds(4),
                    "the BLPOPs were served by the pushes, not their timeout"
                )
                // Idle dedicated connections beyond idleDedicatedConnections (2) are closed.
                #expect(
                    try await eventually(timeout: .seconds(3), poll: .milliseconds(10)) {
                        client.connectionCounts.dedicated == 2
                    }
                )
                try await client.send(RedisCommand("DEL", arguments: (0..<50).map { redis.key("w\($0)") }))
            }
        }
    }

    @Test func blockingCommandRaisesTheSocketTimeoutForThatCallOnly() async throws {
        try await PlainRedis.with { redis in
            let configuration = try redis.configuration(commandTimeout: .milliseconds(300), poolSize: 1)
            try await withRedisClient(configuration: configuration, logger: CapturedLogs().logger()) { client in
                let key = redis.key("empty-list")
                let timings = try await client.withDedicatedConnection { connection in
                    // Server-side 1 s > command timeout 300 ms: the socket timeout is raised to 1.3 s for this call.
                    let blockStart = ContinuousClock.now
                    let reply = try connection.send(.blpop([key], timeout: .seconds(1)))
                    let blocked = ContinuousClock.now - blockStart
                    // Restored afterwards: the same BLPOP not marked as blocking now hits the 300 ms socket timeout.
                    let rawStart = ContinuousClock.now
                    var rawError: RedisError?
                    do throws(RedisError) { try connection.send("BLPOP", key, 1) } catch { rawError = error }
                    return (reply, blocked, rawError?.code, ContinuousClock.now - rawStart)
                }
                #expect(timings.0 == .null)
                #expect(timings.1 >= .milliseconds(900))
                #expect(timings.1 < .milliseconds(1300))
                #expect(timings.2 == .timeout)
                #expect(timings.3 < .milliseconds(900))

                let forever = await redisError { try await client.send(.blpop([key], timeout: .zero)) }
                #expect(forever?.code == .misuse)
                let subscribe = await redisError { try await client.send("SUBSCRIBE", "channel") }
                #expect(subscribe?.code == .misuse)
            }
        }
    }

    @Test func waitersSuspendAndCanBeCancelled() async throws {
        try await PlainRedis.with { redis in
            let configuration = try redis.configuration(commandTimeout: .seconds(2), poolSize: 1)
            try await withRedisClient(configuration: configuration, logger: CapturedLogs().logger()) { client in
                let key = redis.key("hold")
                try await withThrowingTaskGroup(of: Void.self) { group in
                    // Hold the only shared connection for about 1 s.
                    group.addTask {
                        try await client.withConnection { connection in
                            _ = try connection.send(.blpop([key], timeout: .seconds(1)))
                        }
                    }
                    try await Task.sleep(for: .milliseconds(100))
                    let (error, elapsed) = await measure {
                        await withTaskGroup(of: RedisError?.self) { waiters in
                            waiters.addTask { await redisError { try await client.send("PING") } }
                            try? await Task.sleep(for: .milliseconds(100))
                            waiters.cancelAll()
                            return await waiters.next() ?? nil
                        }
                    }
                    #expect(error?.code == .cancelled)
                    #expect(elapsed < .milliseconds(700), "the cancelled waiter must not wait for the connection")
                    // A waiter that is not cancelled gets the connection when it is released.
                    #expect(try await client.send("PING") == .status("PONG"))
                    try await group.waitForAll()
                }
            }
        }
    }

    @Test func shutdownInterruptsBlockedCallsFailsWaitersAndClosesEverything() async throws {
        try await PlainRedis.with { redis in
            let configuration = try redis.configuration(commandTimeout: .seconds(2), poolSize: 1)
            let client = RedisClient(configuration: configuration, logger: CapturedLogs().logger())
            let key = redis.key("never")
            try await client.send("PING")
            let outcome: ([String: String], Duration) = await withTaskGroup(of: (String, String).self) { group in
                group.addTask {
                    let error = await redisError { try await client.send(.blpop([key], timeout: .seconds(5))) }
                    return ("dedicated", error.map { "\($0.code)" } ?? "none")
                }
                group.addTask {
                    let error = await redisError {
                        _ = try await client.withConnection { connection in
                            try connection.send(.blpop([key], timeout: .seconds(5)))
                        }
                    }
                    return ("holder", error.map { "\($0.code)" } ?? "none")
                }
                try? await Task.sleep(for: .milliseconds(200))
                group.addTask {
                    let error = await redisError { try await client.send("PING") }
                    return ("waiter", error.map { "\($0.code)" } ?? "none")
                }
                try? await Task.sleep(for: .milliseconds(100))

                let start = ContinuousClock.now
                await client.shutdown()
                let elapsed = ContinuousClock.now - start
                var codes: [String: String] = [:]
                for await (name, code) in group { codes[name] = code }
                return (codes, elapsed)
            }
            let (codes, elapsed) = outcome
            #expect(elapsed < .seconds(2), "shutdown must not wait for the 5 s BLPOPs")
            #expect(codes == ["dedicated": "io", "holder": "io", "waiter": "poolClosed"])
            #expect(client.connectionCounts == (0, 0))
            #expect((await redisError { try await client.send("PING") })?.code == .poolClosed)
        }
    }

    @Test func countsCommandsInMetrics() async throws {
        try await PlainRedis.with { redis in
            let metrics = CapturedMetrics()
            try await withRedisClient(
                configuration: redis.configuration(),
                logger: CapturedLogs().logger(),
                metricsFactory: metrics
            ) { client in
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
