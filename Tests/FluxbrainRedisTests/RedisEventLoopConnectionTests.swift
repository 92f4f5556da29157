import FluxbrainRedis
import FluxbrainTestSupport
import Foundation
import Testing

/// The event-loop connections behind `send`, `pipeline` and `evalSHA`, against a real redis-server.
@Suite struct RedisEventLoopConnectionTests {
    @Test func sessionCommandsRunOnALentConnectionAndLeaveTheSharedOneAsItWas() async throws {
        try await PlainRedis.with { redis in
            try await withRedisClient(configuration: redis.configuration(), logger: CapturedLogs().logger()) {
                client in
                let key = redis.key("session")
                // SELECT runs on a connection lent to this call alone, and that connection is restored afterwards.
                #expect(try await client.send("SELECT", 5) == .status("OK"))
                try await client.send("SET", key, "in-db-0")
                #expect(try await client.send("GET", key) == .bulk(Array("in-db-0".utf8)))
                let info = try await client.send("CLIENT", "INFO").string ?? ""
                #expect(info.contains(" db=0 "))
                // A transaction in one pipeline stays on one connection, its commands together.
                let replies = try await client.pipeline([
                    RedisCommand("MULTI"), RedisCommand("INCR", key + ":n"), RedisCommand("INCR", key + ":n"),
                    RedisCommand("EXEC"),
                ])
                #expect(replies.last == .array([.integer(1), .integer(2)]))
                #expect(client.connectionCounts.shared == 1)
                #expect(client.eventLoopConnectionCount == 1)
                try await client.send("DEL", key, key + ":n")
            }
        }
    }

    @Test func repliesLargerThanOneReadAndErrorRepliesArriveInPlace() async throws {
        try await PlainRedis.with { redis in
            try await withRedisClient(configuration: redis.configuration(), logger: CapturedLogs().logger()) {
                client in
                let key = redis.key("large")
                let value = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
                let replies = try await client.pipeline([
                    RedisCommand("SET", key, value), RedisCommand("NOPE"), RedisCommand("GET", key),
                    RedisCommand("STRLEN", key),
                ])
                #expect(replies.count == 4)
                #expect(replies[0] == .status("OK"))
                #expect({ if case .error = replies[1] { true } else { false } }())
                #expect(replies[2] == .bulk(value))
                #expect(replies[3] == .integer(Int64(value.count)))
                let error = await redisError { try await client.send("NOPE") }
                #expect(error?.code == .server)
                #expect(try await client.send("DEL", key) == .integer(1))
            }
        }
    }

    @Test func scriptsAreLoadedOnFirstUseAndAgainAfterAFlush() async throws {
        try await PlainRedis.with { redis in
            try await withMeteredClient(redis) { client, metrics in
                let script = RedisScript(name: "echo", source: "return {KEYS[1], ARGV[1]}")
                let key = redis.key("script")
                let first = try await client.evalSHA(script, keys: [key], arguments: ["a"])
                #expect(first == .array([.bulk(Array(key.utf8)), .bulk(Array("a".utf8))]))
                try await client.send("SCRIPT", "FLUSH")
                let replies = try await client.pipeline(steps: [
                    .script(RedisScriptCall(script, keys: [key], arguments: ["b"])),
                    .command(RedisCommand("PING")),
                ])
                #expect(replies == [.array([.bulk(Array(key.utf8)), .bulk(Array("b".utf8))]), .status("PONG")])
                #expect(metrics.value("fluxbrain_redis_errors_total", [("kind", "server")]) == 0)
            }
        }
    }
}
