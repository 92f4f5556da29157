import FluxbrainCore
import FluxbrainRedis
import Foundation
import Logging

/// The Redis-backed `AnalysisStore`, shared by every replica; time is Redis `TIME` (milliseconds): the scripts read it
/// themselves, and ``now()`` extrapolates it from an anchor measured at most every few seconds (``RedisTime``), so a
/// work item costs no `TIME` round trip.
///
/// | key | type | content |
/// |---|---|---|
/// | `<prefix>:analysis:<fingerprint>` | STRING | the cached `AnalysisResult` as stable JSON, `PX` `resultTTL` (7 days) |
/// | `<prefix>:analysis-failures:<fingerprint>` | HASH | `failures`, `last_at` / `next_at` (ms since 1970), `last_error`; TTL `max(7 days, 2 × backoff max)`, refreshed by every failure |
///
/// `recordFailure` is one Lua script (count, clock and backoff in one step); `lookup` (`GET` + `HMGET`) and
/// `storeSuccess` (`SET` + `DEL`) are one pipeline each, one round trip. A cached value that does not decode is a
/// miss: it is logged and deleted (only if it is still the same value), never an error.
///
/// ```swift
/// let store = RedisAnalysisStore(client: client, keyPrefix: config.redisPrefix, logger: logger)
/// ```
package final class RedisAnalysisStore: AnalysisStore, Sendable {
    /// How long a cached result lives by default (well above the 4h default `FLUXBRAIN_REPEAT_INTERVAL`).
    package static let defaultResultTTL: Duration = .seconds(7 * 24 * 3600)

    package let keyPrefix: String
    /// How long a cached result lives.
    package let resultTTL: Duration
    let client: RedisClient
    private let time: RedisTime
    private let logger: Logger

    /// - Parameters:
    ///   - client: the Redis client.
    ///   - keyPrefix: the installation's prefix (`FLUXBRAIN_REDIS_PREFIX`).
    ///   - logger: for cached values that do not decode.
    ///   - resultTTL: how long a cached result lives (default 7 days; keep it above `FLUXBRAIN_REPEAT_INTERVAL`).
    ///   - time: where ``now()`` comes from (default: a ``RedisTime`` on `client`, monotonic clock, 5 s refresh).
    package init(
        client: RedisClient,
        keyPrefix: String,
        logger: Logger,
        resultTTL: Duration = defaultResultTTL,
        time: RedisTime? = nil
    ) {
        self.client = client
        self.keyPrefix = keyPrefix
        self.logger = logger
        self.resultTTL = resultTTL
        self.time = time ?? RedisTime(client: client)
    }

    /// `<prefix>:analysis:<fingerprint>`.
    package func resultKey(_ fingerprint: Fingerprint) -> String { "\(keyPrefix):analysis:\(fingerprint.hex)" }
    /// `<prefix>:analysis-failures:<fingerprint>`.
    package func failuresKey(_ fingerprint: Fingerprint) -> String {
        "\(keyPrefix):analysis-failures:\(fingerprint.hex)"
    }

    /// Redis `TIME` in whole milliseconds, from ``RedisTime`` (no round trip except every few seconds).
    package func now() async throws -> Date {
        try await time.now()
    }

    package func cachedResult(for fingerprint: Fingerprint) async throws -> AnalysisResult? {
        let key = resultKey(fingerprint)
        let reply = try await send(RedisCommand("GET", key).idempotent(), operation: "cachedResult")
        return try await cachedResult(from: reply, key: key)
    }

    /// The result in a `GET` reply; `nil` for a miss or a value that does not decode (then deleted).
    private func cachedResult(from reply: RedisReply, key: String) async throws -> AnalysisResult? {
        if reply.isNull { return nil }
        guard let bytes = reply.bytes else { throw unexpected(reply, from: "cachedResult") }
        do {
            return try StableJSON.decode(AnalysisResult.self, from: bytes)
        } catch {
            logger.warning(
                "dropping a cached analysis result that does not decode",
                metadata: ["key": "\(key)", "error": .error(error)]
            )
            // Delete it only if nobody stored a fresh result meanwhile; a failed delete is still a miss.
            do {
                _ = try await RedisStoreSupport.run(
                    AnalysisScripts.deleteIfEqual,
                    client: client,
                    keys: [key],
                    arguments: [bytes]
                )
            } catch {
                logger.warning("could not delete an undecodable cached analysis result", metadata: ["key": "\(key)"])
            }
            return nil
        }
    }

    /// `GET` and `HMGET` in one pipeline.
    package func lookup(_ fingerprint: Fingerprint) async throws -> AnalysisLookup {
        let key = resultKey(fingerprint)
        let replies: [RedisReply]
        do {
            replies = try await client.pipeline([
                RedisCommand("GET", key).idempotent(), failureStateCommand(fingerprint),
            ])
        } catch {
            throw CoreError(.unavailable, "analysis store lookup failed", underlying: error)
        }
        guard replies.count == 2 else {
            throw CoreError(.invalidInput, "analysis store lookup: \(replies.count) replies")
        }
        for reply in replies {
            if let message = reply.errorMessage {
                throw CoreError(.unavailable, "analysis store lookup failed: \(message)")
            }
        }
        let failure = try failureState(from: replies[1], key: failuresKey(fingerprint))
        return AnalysisLookup(result: try await cachedResult(from: replies[0], key: key), failure: failure)
    }

    package func storeResult(_ result: AnalysisResult, for fingerprint: Fingerprint) async throws {
        _ = try await send(try storeResultCommand(result, for: fingerprint), operation: "storeResult")
    }

    /// `SET` of the result and `DEL` of the failure record in one pipeline.
    package func storeSuccess(_ result: AnalysisResult, for fingerprint: Fingerprint) async throws {
        let commands = try storeSuccessCommands(result, for: fingerprint)
        let replies: [RedisReply]
        do {
            replies = try await client.pipeline(commands)
        } catch {
            throw CoreError(.unavailable, "analysis store storeSuccess failed", underlying: error)
        }
        for reply in replies {
            if let message = reply.errorMessage {
                throw CoreError(.unavailable, "analysis store storeSuccess failed: \(message)")
            }
        }
    }

    /// ``storeSuccess(_:for:)``'s commands: `SET` of the result, `DEL` of the failure record (also pipelined with a
    /// notification claim by ``RedisNotificationStore``).
    func storeSuccessCommands(_ result: AnalysisResult, for fingerprint: Fingerprint) throws -> [RedisCommand] {
        [try storeResultCommand(result, for: fingerprint), RedisCommand("DEL", failuresKey(fingerprint)).idempotent()]
    }

    private func storeResultCommand(_ result: AnalysisResult, for fingerprint: Fingerprint) throws -> RedisCommand {
        let json: [UInt8]
        do {
            json = try StableJSON.bytes(result)
        } catch {
            throw CoreError(.invalidInput, "could not encode the analysis result", underlying: error)
        }
        return RedisCommand("SET", resultKey(fingerprint), json, "PX", max(1, resultTTL.wholeMilliseconds))
            .idempotent()
    }

    package func recordFailure(
        for fingerprint: Fingerprint,
        reason: String,
        backoff: Backoff
    ) async throws
        -> AnalysisFailureState
    {
        let ttl = max(Self.defaultResultTTL, backoff.maximum * 2)
        let reply = try await RedisStoreSupport.run(
            AnalysisScripts.recordFailure,
            client: client,
            keys: [failuresKey(fingerprint)],
            arguments: [
                reason, backoff.base.wholeMilliseconds, backoff.maximum.wholeMilliseconds, ttl.wholeMilliseconds,
            ]
        )
        guard let parts = reply.array, parts.count == 3, let failures = parts[0].integer,
            let lastAt = parts[1].integer, let nextAt = parts[2].integer
        else { throw unexpected(reply, from: "recordFailure") }
        return AnalysisFailureState(
            failures: Int(failures),
            lastFailureAt: Date(milliseconds: lastAt),
            nextAttemptAt: Date(milliseconds: nextAt),
            lastError: reason
        )
    }

    package func failureState(for fingerprint: Fingerprint) async throws -> AnalysisFailureState? {
        let reply = try await send(failureStateCommand(fingerprint), operation: "failureState")
        return try failureState(from: reply, key: failuresKey(fingerprint))
    }

    private func failureStateCommand(_ fingerprint: Fingerprint) -> RedisCommand {
        RedisCommand("HMGET", failuresKey(fingerprint), "failures", "last_at", "next_at", "last_error").idempotent()
    }

    private func failureState(from reply: RedisReply, key: String) throws -> AnalysisFailureState? {
        guard let parts = reply.array, parts.count == 4 else { throw unexpected(reply, from: "failureState") }
        if parts.allSatisfy(\.isNull) { return nil }
        guard let failures = parts[0].integer, let lastAt = parts[1].integer, let nextAt = parts[2].integer else {
            throw CoreError(.invalidInput, "analysis failure state \(key) is incomplete: \(reply)")
        }
        return AnalysisFailureState(
            failures: Int(failures),
            lastFailureAt: Date(milliseconds: lastAt),
            nextAttemptAt: Date(milliseconds: nextAt),
            lastError: parts[3].string ?? ""
        )
    }

    package func clearFailures(for fingerprint: Fingerprint) async throws {
        _ = try await send(RedisCommand("DEL", failuresKey(fingerprint)).idempotent(), operation: "clearFailures")
    }

    package func forget(_ fingerprint: Fingerprint) async throws {
        _ = try await send(
            RedisCommand("DEL", resultKey(fingerprint), failuresKey(fingerprint)).idempotent(),
            operation: "forget"
        )
    }

    private func send(_ command: RedisCommand, operation: String) async throws -> RedisReply {
        do {
            return try await client.send(command)
        } catch {
            throw CoreError(.unavailable, "analysis store \(operation) failed", underlying: error)
        }
    }

    private func unexpected(_ reply: RedisReply, from operation: String) -> CoreError {
        CoreError(.invalidInput, "analysis store \(operation) returned an unexpected reply: \(reply)")
    }
}

/// The Lua of ``RedisAnalysisStore``.
enum AnalysisScripts {
    /// KEYS: failure hash. ARGV: reason, baseMs, maxMs, ttlMs. Counts one more failure at Redis `TIME` and schedules
    /// the next attempt `Backoff.delay` later (`min(failures × base, max)`, 0 for a non-positive base).
    /// Returns `{failures, lastAtMs, nextAtMs}`.
    static let recordFailure = RedisScript(
        name: "analysis_record_failure",
        source: RedisStoreSupport.nowPrelude + """
            local key = KEYS[1]
            local base, maximum = tonumber(ARGV[2]), tonumber(ARGV[3])
            local now = now_ms()
            local failures = redis.call('HINCRBY', key, 'failures', 1)
            local delay = 0
            if base > 0 then delay = math.min(failures * base, maximum) end
            local nextAt = now + delay
            redis.call('HSET', key, 'last_at', now, 'next_at', nextAt, 'last_error', ARGV[1])
            redis.call('PEXPIRE', key, ARGV[4])
            return {failures, now, nextAt}
            """
    )

    /// KEYS: result key. ARGV: value. Deletes the key only if it still holds `value`; returns 1 if deleted.
    static let deleteIfEqual = RedisScript(
        name: "analysis_delete_if_equal",
        source: """
            if redis.call('GET', KEYS[1]) == ARGV[1] then
              return redis.call('DEL', KEYS[1])
            end
            return 0
            """
    )
}
