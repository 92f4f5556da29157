import FluxbrainCoordination
import FluxbrainCore
import FluxbrainRedis
import FluxbrainTestSupport
import Foundation
import Logging

/// A `RedisCoordination` on a plain test Redis (the shared CI server or a private one) under a key prefix of its
/// own, so tests run in parallel; its keys are deleted afterwards.
enum RedisFixture {
    static let quietLogger = Logger(label: "fluxbrain.coordination.test") { _ in SwiftLogNoOpLogHandler() }

    static func with(
        maxAttempts: Int = 5,
        _ body: (RedisCoordination, RedisClient) async throws -> Void
    ) async throws {
        try await PlainRedis.with { redis in
            try await withRedisClient(configuration: try redis.configuration(), logger: quietLogger) { client in
                let coordination = make(client: client, maxAttempts: maxAttempts)
                do {
                    try await body(coordination, client)
                } catch {
                    try? await deleteKeys(prefix: coordination.keys.prefix, client: client)
                    throw error
                }
                try await deleteKeys(prefix: coordination.keys.prefix, client: client)
            }
        }
    }

    static func make(client: RedisClient, maxAttempts: Int = 5, prefix: String? = nil) -> RedisCoordination {
        RedisCoordination(
            client: client,
            configuration: .init(
                keyPrefix: prefix ?? "fbtest:\(UUID().uuidString.prefix(12).lowercased())",
                maxAttempts: maxAttempts
            ),
            logger: quietLogger
        )
    }

    /// Deletes every key that starts with `prefix:` (`SCAN` + `DEL`).
    static func deleteKeys(prefix: String, client: RedisClient) async throws {
        var cursor = "0"
        repeat {
            let reply = try await client.send("SCAN", cursor, "MATCH", "\(prefix):*", "COUNT", "1000")
            guard let parts = reply.array, parts.count == 2, let next = parts[0].string, let keys = parts[1].array
            else { return }
            let names = keys.compactMap(\.string)
            if !names.isEmpty { try await client.send(RedisCommand("DEL", arguments: names)) }
            cursor = next
        } while cursor != "0"
    }
}

extension WorkQueueConformance.Subject {
    /// `RedisCoordination` on a test Redis: real time, in steps of 1 s (a lease that must stay valid while its holder
    /// acts lasts 4 units: room for a test stalled a couple of seconds on a busy machine running the suite in parallel).
    static func redis() -> Self {
        Self(name: "redis", unit: .seconds(1)) { maxAttempts, body in
            try await RedisFixture.with(maxAttempts: maxAttempts) { coordination, _ in
                try await body(coordination) { try await Task.sleep(for: $0) }
            }
        }
    }
}
