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
    /// When `timeout` passes first the answer is `(false, "no PONG within …")` at once; the PING itself goes on in
    /// the background until the client's command timeout (a hiredis call cannot be interrupted), which is why it
    /// runs in an unstructured task here.
    package func ping(timeout: Duration) async -> (ok: Bool, detail: String) {
        let client = self.client
        let answer = OneShot()
        return await withCheckedContinuation { continuation in
            answer.set(continuation)
            let timer = Task {
                try? await Task.sleep(for: timeout)
                answer.resume((false, "no PONG within \(Self.format(timeout))"))
            }
            Task {
                let clock = ContinuousClock()
                let start = clock.now
                let result: (Bool, String)
                do {
                    let reply = try await client.send(RedisCommand("PING").idempotent())
                    result =
                        reply.string == "PONG"
                        ? (true, "PONG in \(Self.format(clock.now - start))")
                        : (false, "unexpected PING reply \(reply)")
                } catch {
                    let reason = (error as? RedisError).map { "\($0.code): \($0.message)" } ?? "\(error)"
                    result = (false, "PING failed: \(reason)")
                }
                timer.cancel()
                answer.resume(result)
            }
        }
    }

    /// The first of the ping and the timer to finish resumes the caller; the other finds nothing to resume.
    private final class OneShot: Sendable {
        private let continuation = Mutex<CheckedContinuation<(ok: Bool, detail: String), Never>?>(nil)

        func set(_ continuation: CheckedContinuation<(ok: Bool, detail: String), Never>) {
            self.continuation.withLock { $0 = continuation }
        }

        func resume(_ result: (Bool, String)) {
            let taken = continuation.withLock { value in
                defer { value = nil }
                return value
            }
            taken?.resume(returning: (ok: result.0, detail: result.1))
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
        let milliseconds =
            Double(duration.components.seconds) * 1000
            + Double(duration.components.attoseconds) / 1e15
        return milliseconds < 10 ? "\((milliseconds * 100).rounded() / 100) ms" : "\(Int(milliseconds.rounded())) ms"
    }
}
