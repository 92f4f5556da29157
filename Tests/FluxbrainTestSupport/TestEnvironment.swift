import FluxbrainRedis
import Foundation

/// Environment switches for integration tests.
package enum TestEnvironment {
    /// `FLUXBRAIN_TEST_REDIS_URL`: a shared redis-server started by CI (`.ci/run` uses `redis://127.0.0.1:6399`).
    /// Tests that only need a plain server may use it (with unique key prefixes: other tests run in parallel on
    /// the same server); tests that pause, kill or password-protect a server start their own
    /// ``RedisServerProcess``.
    package static var sharedRedisURL: String? {
        guard let value = ProcessInfo.processInfo.environment["FLUXBRAIN_TEST_REDIS_URL"], !value.isEmpty else {
            return nil
        }
        return value
    }
}

/// A plain Redis for a test: the shared CI server when `FLUXBRAIN_TEST_REDIS_URL` is set, otherwise a private
/// ``RedisServerProcess`` stopped when the test's scope ends.
package struct PlainRedis: Sendable {
    /// Host, port and password of the server (database 0).
    package let base: RedisConfiguration
    /// A prefix unique to this use (`"t:<uuid>:"`): put it before every key so parallel tests never collide.
    package let keyPrefix: String
    /// `true` when this is the shared CI server (do not `FLUSHALL`, `SCRIPT FLUSH` only if harmless).
    package let isShared: Bool

    /// Runs `body` with a plain server and stops a private one afterwards.
    package static func with<T>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PlainRedis) async throws -> T
    ) async throws -> T {
        let prefix = "t:\(UUID().uuidString.prefix(12)):"
        if let url = TestEnvironment.sharedRedisURL {
            var base = try RedisConfiguration(url: url)
            base.database = 0
            return try await body(PlainRedis(base: base, keyPrefix: prefix, isShared: true))
        }
        return try await RedisServerProcess.with { server in
            let base = try RedisConfiguration(url: server.url)
            return try await body(PlainRedis(base: base, keyPrefix: prefix, isShared: false))
        }
    }

    /// A configuration for `database` with the given timeouts and pool size.
    package func configuration(
        database: Int = 0,
        connectTimeout: Duration = .seconds(2),
        commandTimeout: Duration = .seconds(2),
        poolSize: Int = 4
    ) throws -> RedisConfiguration {
        var configuration = base
        configuration.database = database
        configuration.connectTimeout = connectTimeout
        configuration.commandTimeout = commandTimeout
        configuration.poolSize = poolSize
        try configuration.validate()
        return configuration
    }

    /// `keyPrefix + name`.
    package func key(_ name: String) -> String { keyPrefix + name }
}
