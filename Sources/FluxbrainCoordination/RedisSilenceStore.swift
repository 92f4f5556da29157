import FluxbrainCore
import FluxbrainRedis
import Foundation
import Logging

/// The Redis-backed `SilenceStore`: silences shared by every replica and by `fluxbrain silence`, kept across
/// restarts, gone on their own shortly after they end.
///
/// | key | type | content |
/// |---|---|---|
/// | `<prefix>:{fbs}:silence:<id>` | HASH | `matchers` (stable JSON of the `IncidentSelector`), `starts_at`, `ends_at` (ms since 1970), `created_by`, `comment`; `PEXPIREAT` `ends_at` + ``retention`` |
/// | `<prefix>:{fbs}:silences` | ZSET | silence id → `ends_at` (ms); `PEXPIREAT` the latest `ends_at` + ``retention`` |
///
/// Both keys carry the `{fbs}` hash tag, so each script's keys hash to one slot. "Active" is decided on the caller's
/// `now` (the routing decision's clock), like the in-memory store; Redis' own clock only removes what ended more
/// than ``retention`` ago: the hash by its expiry time, the index entry in the next script that runs. The retention
/// covers replica clocks running behind Redis' by up to that much. Times are stored in whole milliseconds.
///
/// ```swift
/// let store = RedisSilenceStore(client: client, keyPrefix: config.redisPrefix, logger: logger)
/// ```
package final class RedisSilenceStore: SilenceStore, Sendable {
    /// How long a silence's keys outlive its end by default.
    package static let defaultRetention: Duration = .seconds(60)

    package let keyPrefix: String
    /// How long a silence's keys outlive its end (Redis time).
    package let retention: Duration
    private let client: RedisClient
    private let logger: Logger

    /// - Parameters:
    ///   - client: the Redis client.
    ///   - keyPrefix: the installation's prefix (`FLUXBRAIN_REDIS_PREFIX`).
    ///   - logger: for stored silences that do not decode.
    ///   - retention: how long a silence's keys outlive its end (default 60 s).
    package init(client: RedisClient, keyPrefix: String, logger: Logger, retention: Duration = defaultRetention) {
        self.client = client
        self.keyPrefix = keyPrefix
        self.logger = logger
        self.retention = retention
    }

    /// `<prefix>:{fbs}:silences`.
    package var indexKey: String { "\(keyPrefix):{fbs}:silences" }
    /// `<prefix>:{fbs}:silence:` (the per-silence hashes are this plus the id).
    package var silencePrefix: String { "\(keyPrefix):{fbs}:silence:" }
    /// `<prefix>:{fbs}:silence:<id>`.
    package func silenceKey(_ id: String) -> String { silencePrefix + id }

    package func add(_ silence: Silence) async throws {
        try silence.validate()
        let matchers: String
        do {
            matchers = try StableJSON.string(silence.matchers)
        } catch {
            throw CoreError(.invalidInput, "could not encode the matchers of silence \(silence.id)", underlying: error)
        }
        _ = try await RedisStoreSupport.run(
            SilenceScripts.add,
            client: client,
            keys: [indexKey, silenceKey(silence.id)],
            arguments: [
                silence.id, matchers, silence.startsAt.wholeMilliseconds, silence.endsAt.wholeMilliseconds,
                silence.createdBy, silence.comment, retention.wholeMilliseconds,
            ]
        )
    }

    package func active(at now: Date) async throws -> [Silence] {
        let reply = try await RedisStoreSupport.run(
            SilenceScripts.active,
            client: client,
            keys: [indexKey, silencePrefix],
            arguments: [now.wholeMilliseconds, retention.wholeMilliseconds]
        )
        guard let entries = reply.array else { throw unexpected(reply, from: "active") }
        var silences: [Silence] = []
        for entry in entries {
            guard let parts = entry.array, parts.count == 6, let id = parts[0].string else {
                throw unexpected(reply, from: "active")
            }
            do {
                let silence = try Self.decode(id: id, parts.dropFirst().map(\.string))
                if silence.isActive(at: now) { silences.append(silence) }
            } catch {
                // One damaged silence must not lift the others: skip it, say so.
                logger.warning(
                    "skipping a stored silence that does not decode",
                    metadata: ["key": "\(silenceKey(id))", "error": .error(error)]
                )
            }
        }
        return silences.sorted { ($0.endsAt, $0.id) < ($1.endsAt, $1.id) }
    }

    package func expire(id: String, at now: Date) async throws -> Bool {
        let reply = try await RedisStoreSupport.run(
            SilenceScripts.expire,
            client: client,
            keys: [indexKey, silenceKey(id)],
            arguments: [id, now.wholeMilliseconds]
        )
        guard let expired = reply.integer else { throw unexpected(reply, from: "expire") }
        return expired == 1
    }

    /// A silence from its hash fields `matchers`, `starts_at`, `ends_at`, `created_by`, `comment` (in that order).
    static func decode(id: String, _ fields: [String?]) throws -> Silence {
        guard fields.count == 5, let matchersText = fields[0], let startsText = fields[1], let endsText = fields[2],
            let starts = Int64(startsText), let ends = Int64(endsText)
        else { throw CoreError(.invalidInput, "silence \(id) is incomplete: \(fields)") }
        let matchers: IncidentSelector
        do {
            matchers = try StableJSON.makeDecoder().decode(IncidentSelector.self, from: Data(matchersText.utf8))
        } catch {
            throw CoreError(.invalidInput, "silence \(id) has matchers that do not decode", underlying: error)
        }
        return Silence(
            id: id,
            matchers: matchers,
            startsAt: Date(milliseconds: starts),
            endsAt: Date(milliseconds: ends),
            createdBy: fields[3] ?? "",
            comment: fields[4] ?? ""
        )
    }

    private func unexpected(_ reply: RedisReply, from operation: String) -> CoreError {
        CoreError(.invalidInput, "silence store \(operation) returned an unexpected reply: \(reply)")
    }
}

/// The Lua of ``RedisSilenceStore``. Each script first drops index entries that ended more than the retention ago
/// by Redis `TIME` (their hashes have expired already).
enum SilenceScripts {
    /// `prune(index, silencePrefix, retentionMs)`: deletes what ended before Redis now − retention.
    private static let prune =
        RedisStoreSupport.nowPrelude + """
            local function prune(index, prefix, retention)
              local cutoff = now_ms() - retention
              local ended = redis.call('ZRANGEBYSCORE', index, '-inf', '(' .. cutoff, 'LIMIT', 0, 1000)
              for _, id in ipairs(ended) do
                redis.call('DEL', prefix .. id)
                redis.call('ZREM', index, id)
              end
            end

            """

    /// KEYS: index, silence hash. ARGV: id, matchersJSON, startsMs, endsMs, createdBy, comment, retentionMs.
    /// Replaces the hash, indexes the id by its end, and sets both keys to expire `retention` after the latest end.
    static let add = RedisScript(
        name: "silence_add",
        source: """
            local index, key = KEYS[1], KEYS[2]
            local id, endsAt, retention = ARGV[1], tonumber(ARGV[4]), tonumber(ARGV[7])
            redis.call('DEL', key)
            redis.call('HSET', key, 'matchers', ARGV[2], 'starts_at', ARGV[3], 'ends_at', ARGV[4],
              'created_by', ARGV[5], 'comment', ARGV[6])
            redis.call('PEXPIREAT', key, endsAt + retention)
            redis.call('ZADD', index, endsAt, id)
            local last = redis.call('ZRANGE', index, -1, -1, 'WITHSCORES')
            redis.call('PEXPIREAT', index, tonumber(last[2]) + retention)
            return 1
            """
    )

    /// KEYS: index, silencePrefix. ARGV: nowMs, retentionMs.
    /// Returns `{id, matchers, starts_at, ends_at, created_by, comment}` for every silence whose end is after
    /// `nowMs`, by end then id; an index entry whose hash is gone is dropped.
    static let active = RedisScript(
        name: "silence_active",
        source: prune + """
            local index, prefix = KEYS[1], KEYS[2]
            prune(index, prefix, tonumber(ARGV[2]))
            local ids = redis.call('ZRANGEBYSCORE', index, '(' .. ARGV[1], '+inf')
            local result = {}
            for _, id in ipairs(ids) do
              local h = redis.call('HMGET', prefix .. id, 'matchers', 'starts_at', 'ends_at', 'created_by', 'comment')
              if h[1] then
                table.insert(result, {id, h[1], h[2], h[3], h[4], h[5]})
              else
                redis.call('ZREM', index, id)
              end
            end
            return result
            """
    )

    /// KEYS: index, silence hash. ARGV: id, nowMs.
    /// Deletes the silence if it is active at `nowMs` (`starts_at <= now < ends_at`); returns 1, else 0.
    static let expire = RedisScript(
        name: "silence_expire",
        source: """
            local index, key = KEYS[1], KEYS[2]
            local now = tonumber(ARGV[2])
            local h = redis.call('HMGET', key, 'starts_at', 'ends_at')
            local startsAt, endsAt = tonumber(h[1]), tonumber(h[2])
            if not startsAt or not endsAt then
              redis.call('ZREM', index, ARGV[1])
              return 0
            end
            if startsAt > now or endsAt <= now then return 0 end
            redis.call('DEL', key)
            redis.call('ZREM', index, ARGV[1])
            return 1
            """
    )
}

extension Date {
    /// Whole milliseconds since 1970 (rounded down), as the silence scripts store times.
    var wholeMilliseconds: Int64 {
        Int64((timeIntervalSince1970 * 1000).rounded(.down))
    }
}
