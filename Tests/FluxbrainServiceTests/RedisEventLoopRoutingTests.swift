import FluxbrainIntegrations
import FluxbrainRedis
import FluxbrainTestSupport
import NIOCore
import NIOPosix
import Testing

/// A caller running on an event loop (a worker on the outbound HTTP loop) sends its Redis commands on that loop's
/// connection, so its replies resume it on the same thread; callers on Swift's threads share a home loop's.
@Suite struct RedisEventLoopRoutingTests {
    @Test func aCallerOnAnEventLoopUsesThatLoopsConnection() async throws {
        try await PlainRedis.with { redis in
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
            let loops = Array(group.makeIterator())
            let client = RedisClient(
                configuration: try redis.configuration(),
                logger: quietLogger,
                eventLoopGroup: group
            )
            @Sendable func connectionID(on executor: (any TaskExecutor)?) async throws -> Int64 {
                try await Task(executorPreference: executor) {
                    try await client.send("CLIENT", "ID").integer ?? -1
                }.value
            }
            let first = EventLoopTaskExecutor(loops[0])
            let second = EventLoopTaskExecutor(loops[1])
            let onFirst = try await connectionID(on: first)
            #expect(try await connectionID(on: first) == onFirst)
            let onSecond = try await connectionID(on: second)
            #expect(onSecond != onFirst)
            let elsewhere = try await connectionID(on: nil)
            #expect([onFirst, onSecond].contains(elsewhere))
            #expect(client.eventLoopConnectionCount == 2)
            await client.shutdown()
            try await group.shutdownGracefully()
        }
    }
}
