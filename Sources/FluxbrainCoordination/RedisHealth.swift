import FluxbrainRedis
import Synchronization

/// Health and configuration checks of the Redis that coordinates the replicas.
///
/// ```swift
/// let health = RedisHealth(client: client)
/// let (ok, detail) = await health.ping(timeout: .seconds(1))   // for /readyz
/// for warning in await health.configurationWarnings() { logger.warning("\(warning)") }   // at start-up
/// ```
package struct RedisHealth: Sendable {
    private let client: RedisClient

    /// - Parameter client: the client whose server is checked.
    package init(client: RedisClient) {
        self.client = client
    }

    /// Sends `PING` and waits at most `timeout` for `PONG`.
    ///
    /// A paused or overloaded Redis still accepts TCP connections, so only a command round trip tells it is alive.
    /// The PING is bounded by the client's command timeout (`FLUXBRAIN_REDIS_TIMEOUT`; a hiredis call cannot be
    /// interrupted); an answer slower than `timeout` counts as unhealthy too.
    package func ping(timeout: Duration) async -> (ok: Bool, detail: String) {
        let clock = ContinuousClock()
        let start = clock.now
        do {
            let reply = try await client.send(RedisCommand("PING").idempotent())
            let elapsed = clock.now - start
            guard reply.string == "PONG" else { return (false, "unexpected PING reply \(reply)") }
            guard elapsed <= timeout else {
                return (false, "no PONG within \(Self.format(timeout)) (it took \(Self.format(elapsed)))")
            }
            return (true, "PONG in \(Self.format(elapsed))")
        } catch {
            // `send` throws only RedisError.
            return (false, "PING failed: \(error.code): \(error.message)")
        }
    }

    /// Warnings about settings that break the coordination guarantees: AOF off (a restart loses the queue, the
    /// lock and the epoch) and eviction on (an evicted lease or pending key breaks the invariants silently).
    /// When `CONFIG` is disabled or renamed (managed Redis), returns one warning that the settings could not be
    /// checked.
    package func configurationWarnings() async -> [String] {
        let appendOnly: String
        let policy: String
        do {
            appendOnly = try await configValue("appendonly")
            policy = try await configValue("maxmemory-policy")
        } catch {
            return [
                "could not check the Redis persistence and eviction settings (CONFIG GET failed: \(error)); "
                    + "make sure the server runs with appendonly yes, appendfsync everysec and "
                    + "maxmemory-policy noeviction"
            ]
        }
        var warnings: [String] = []
        if appendOnly.lowercased() != "yes" {
            warnings.append(
                "Redis runs with appendonly \(appendOnly): a restart loses the work queue, the leader lock and its "
                    + "epoch, and the incident index; set appendonly yes and appendfsync everysec"
            )
        }
        if policy.lowercased() != "noeviction" {
            warnings.append(
                "Redis runs with maxmemory-policy \(policy): evicting a lease, pending or lock key silently breaks "
                    + "the queue and lock guarantees; set maxmemory-policy noeviction"
            )
        }
        return warnings
    }

    private func configValue(_ name: String) async throws -> String {
        let reply = try await client.send(RedisCommand("CONFIG", "GET", name).idempotent())
        guard let pair = reply.array, pair.count == 2, let value = pair[1].string else {
            throw CoordinationError(.unexpectedReply, "CONFIG GET \(name) returned \(reply)")
        }
        return value
    }

    private static func format(_ duration: Duration) -> String {
        let milliseconds = duration.timeInterval * 1000
        return milliseconds < 10 ? "\((milliseconds * 100).rounded() / 100) ms" : "\(Int(milliseconds.rounded())) ms"
    }
}
