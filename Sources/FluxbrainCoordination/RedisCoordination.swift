import CoreMetrics
import FluxbrainCore
import FluxbrainRedis
import Foundation
import Logging

/// The Redis-backed `WorkQueue`, `LeaderLock` and `IncidentIndex`, shared by every replica of one installation.
///
/// Same semantics as `InMemoryCoordination` (the conformance suite runs against both). Every multi-step operation
/// is one Lua script (``CoordinationScripts``), so it is atomic, uses Redis `TIME` as its clock, and is safe to
/// repeat after an ambiguous timeout. Key layout: ``CoordinationKeys``; contracts and failure semantics:
/// docs/coordination.md.
///
/// ```swift
/// let coordination = RedisCoordination(
///     client: client, configuration: .init(keyPrefix: config.redisPrefix, maxAttempts: config.maxAttempts),
///     logger: logger)
/// ```
package final class RedisCoordination: WorkQueue, LeaderLock, IncidentIndex, Sendable {
    /// How the coordination layer names its keys and treats failing items.
    ///
    /// Keys:
    /// - `keyPrefix` (`String`, default `fluxbrain`; `FLUXBRAIN_REDIS_PREFIX`): the first part of every key, so
    ///   several installations can share one Redis.
    /// - `maxAttempts` (`Int`, default 5; `FLUXBRAIN_MAX_ATTEMPTS`): claims (crashes and nacks alike) before an item
    ///   is dead-lettered.
    /// - `lockName` (`String`, default `lock:scheduler`): the scheduler lock's key below the prefix; its epoch
    ///   counter is `<lock>:epoch`.
    /// - `reapBatchSize` (`Int`, default 100): expired leases handled per reap script call (a reap loops until
    ///   done, so one call never blocks Redis for long).
    /// - `doorbellLength` (`Int`, default 64): how many wake-ups the doorbell list keeps.
    package struct Configuration: Sendable, Hashable {
        package var keyPrefix: String
        package var maxAttempts: Int
        package var lockName: String
        package var reapBatchSize: Int
        package var doorbellLength: Int

        package init(
            keyPrefix: String = "fluxbrain",
            maxAttempts: Int = 5,
            lockName: String = "lock:scheduler",
            reapBatchSize: Int = 100,
            doorbellLength: Int = 64
        ) {
            self.keyPrefix = keyPrefix
            self.maxAttempts = max(1, maxAttempts)
            self.lockName = lockName
            self.reapBatchSize = max(1, reapBatchSize)
            self.doorbellLength = max(1, doorbellLength)
        }
    }

    /// The configuration this instance was created with.
    package let configuration: Configuration
    /// The key names (for tooling and tests that inspect Redis directly).
    package let keys: CoordinationKeys
    let client: RedisClient
    let logger: Logger
    let metrics: QueueMetrics

    /// - Parameters:
    ///   - client: the Redis client; blocking waits (``waitForWork(timeout:)``) use its dedicated connections.
    ///   - configuration: key prefix, attempts and lock name.
    ///   - logger: for malformed items and dead letters.
    ///   - metricsFactory: where `fluxbrain_queue_*` metrics go (default: the bootstrapped `MetricsSystem`).
    package init(
        client: RedisClient,
        configuration: Configuration = Configuration(),
        logger: Logger,
        metricsFactory: any MetricsFactory = MetricsSystem.factory
    ) {
        self.client = client
        self.configuration = configuration
        self.keys = CoordinationKeys(prefix: configuration.keyPrefix, lockName: configuration.lockName)
        self.logger = logger
        self.metrics = QueueMetrics(factory: metricsFactory)
    }

    /// Runs `script`, wrapping Redis failures as ``CoordinationError`` with the script's name. (Fenced writes go
    /// through ``run(_:fencedBy:)``.)
    func run(
        _ script: RedisScript,
        keys: [String],
        arguments: [any RedisArgumentConvertible]
    ) async throws -> RedisReply {
        do {
            return try await client.runScript(script, keys: keys, arguments: arguments)
        } catch {
            throw CoordinationError(.redis, "\(script.name) failed", underlying: error)
        }
    }

    /// How many script calls ``run(_:fencedBy:)`` sends per round trip.
    static let batchLimit = 256

    /// Runs `calls` (each a fenced write) pipelined, ``batchLimit`` per round trip, in order; the replies in order.
    /// Failures are wrapped like ``run(_:keys:arguments:)``: the first `FENCED` error reply throws
    /// `FencedError` for `lease` (Redis ran every call before it; the lease's epoch only grows, so none after it
    /// applied), and any other error reply throws after the round trip it came in.
    func run(_ calls: [RedisScriptCall], fencedBy lease: LeaderLease) async throws -> [RedisReply] {
        var replies: [RedisReply] = []
        replies.reserveCapacity(calls.count)
        for start in stride(from: 0, to: calls.count, by: Self.batchLimit) {
            let batch = calls[start..<min(start + Self.batchLimit, calls.count)]
            let answered: [RedisReply]
            do {
                answered = try await client.evalSHA(Array(batch))
            } catch {
                throw CoordinationError(.redis, "\(batch[start].script.name) failed", underlying: error)
            }
            guard answered.count == batch.count else {
                throw CoordinationError(.unexpectedReply, "\(batch.count) script calls got \(answered.count) replies")
            }
            for (call, reply) in zip(batch, answered) {
                if let message = reply.errorMessage {
                    if message.hasPrefix("FENCED") { throw FencedError(lease: lease) }
                    throw CoordinationError(
                        .redis,
                        "\(call.script.name) failed",
                        underlying: RedisError(.server, message)
                    )
                }
                replies.append(reply)
            }
        }
        return replies
    }

    /// Sends one plain command (a read), wrapping failures like ``run(_:keys:arguments:)``.
    func send(_ command: RedisCommand, operation: String) async throws -> RedisReply {
        do {
            return try await client.send(command)
        } catch {
            throw CoordinationError(.redis, "\(operation) failed", underlying: error)
        }
    }

    func unexpected(
        _ reply: RedisReply,
        from operation: String,
        file: String = #fileID,
        line: UInt = #line
    )
        -> CoordinationError
    {
        CoordinationError(
            .unexpectedReply,
            "\(operation) returned an unexpected reply: \(reply)",
            file: file,
            line: line
        )
    }

    func integer(_ reply: RedisReply, from operation: String) throws -> Int64 {
        guard let value = reply.integer else { throw unexpected(reply, from: operation) }
        return value
    }
}
