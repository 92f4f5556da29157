import FluxbrainCore
import FluxbrainRedis
import Foundation
import Logging

/// The Redis-backed `NotificationStore`: `NotificationStateMachine` as Lua, so every replica decides on the same
/// state, atomically, on Redis `TIME`.
///
/// One HASH per (fingerprint, channel), `<prefix>:notify:<fingerprint>:<channel>`:
///
/// | field | content |
/// |---|---|
/// | `seen` | `1`: the channel has seen the incident (a claim creates the hash even when it decides to skip, like the in-memory store) |
/// | `status` | `lastStatusNotified` (`firing` / `resolved`), absent before the first delivery |
/// | `notified_at` | `lastNotifiedAt`, ms since 1970 (Redis `TIME`) |
/// | `failures` | consecutive failed sends |
/// | `next_at` | `nextAttemptAt`, ms |
/// | `claim_token`, `claim_until`, `claim_kind` | the send lease (kept after it expires, as in the state machine) |
/// | `count` | `notifyCount` |
/// | `last_error` | the last send error |
/// | `ref` | the reference the last delivery reported (a Slack thread's `CHANNEL:ts:sequence`), absent if none |
/// | `ttl` | the hash's TTL in ms, so `markSent` (which gets no settings) can refresh it |
///
/// Every write refreshes a TTL of `max(7 days, 2 × repeatInterval, 2 × backoffMax, 2 × sendLease)`, so state of
/// incidents nobody looks at any more expires; an incident still being claimed keeps its state.
///
/// ```swift
/// let store = RedisNotificationStore(client: client, keyPrefix: config.redisPrefix, logger: logger)
/// ```
package final class RedisNotificationStore: NotificationStore, Sendable {
    /// The TTL floor of a state hash.
    package static let minimumTTL: Duration = .seconds(7 * 24 * 3600)

    package let keyPrefix: String
    let client: RedisClient
    private let logger: Logger

    /// - Parameters:
    ///   - client: the Redis client.
    ///   - keyPrefix: the installation's prefix (`FLUXBRAIN_REDIS_PREFIX`).
    ///   - logger: for state hashes that do not decode.
    package init(client: RedisClient, keyPrefix: String, logger: Logger) {
        self.client = client
        self.keyPrefix = keyPrefix
        self.logger = logger
    }

    /// `<prefix>:notify:<fingerprint>:<channel>`.
    package func key(fingerprint: Fingerprint, channel: ChannelID) -> String {
        "\(keyPrefix):notify:\(fingerprint.hex):\(channel.rawValue)"
    }

    /// The TTL a state hash gets with `settings` (see the type's documentation).
    package static func ttl(for settings: NotificationSettings) -> Duration {
        max(minimumTTL, settings.repeatInterval * 2, settings.backoffMax * 2, settings.sendLease * 2)
    }

    package func claim(
        fingerprint: Fingerprint,
        channel: ChannelID,
        status: NotificationStatus,
        token: String,
        settings: NotificationSettings
    ) async throws -> NotificationClaim {
        let call = claimCall(
            fingerprint: fingerprint,
            channel: channel,
            status: status,
            token: token,
            settings: settings
        )
        return try claim(from: try await run(call))
    }

    /// The analysis store's `SET` and `DEL` (``RedisAnalysisStore/storeSuccess(_:for:)``) and the claim script,
    /// pipelined in one round trip when `write` goes to a ``RedisAnalysisStore`` on the same client (else the two
    /// calls). Redis runs them in that order, so a claim that was made always comes after the write was applied; a
    /// write that failed with an error reply does not undo the claim: the claim is returned and the failure logged
    /// (the caller holds the verdict; only its cache is missing).
    package func claim(
        fingerprint: Fingerprint,
        channel: ChannelID,
        status: NotificationStatus,
        token: String,
        settings: NotificationSettings,
        after write: PendingAnalysisWrite
    ) async throws -> NotificationClaim {
        guard let analysis = write.store as? RedisAnalysisStore, analysis.client === client else {
            return try await claimSeparately(
                fingerprint: fingerprint,
                channel: channel,
                status: status,
                token: token,
                settings: settings,
                after: write
            )
        }
        let call = claimCall(
            fingerprint: fingerprint,
            channel: channel,
            status: status,
            token: token,
            settings: settings
        )
        var steps = try analysis.storeSuccessCommands(write.result, for: write.fingerprint).map {
            RedisPipelineStep.command($0)
        }
        steps.append(.script(call))
        let replies: [RedisReply]
        do {
            replies = try await client.pipeline(steps: steps)
        } catch {
            throw CoreError(
                .unavailable,
                "caching the analysis and claiming the notification failed",
                underlying: error
            )
        }
        guard replies.count == steps.count, let claimReply = replies.last else {
            throw CoreError(.invalidInput, "caching the analysis and claiming: \(replies.count) replies")
        }
        if let message = claimReply.errorMessage {
            throw CoreError(
                .unavailable,
                "Redis script \(call.script.name) failed",
                underlying: RedisError(.server, message)
            )
        }
        let claimed = try claim(from: claimReply)
        if let message = replies.dropLast().lazy.compactMap(\.errorMessage).first {
            logger.warning(
                "caching the analysis failed; notifying with it anyway",
                metadata: ["key": "\(analysis.resultKey(write.fingerprint))", "error": "\(message)"]
            )
        }
        return claimed
    }

    /// The claim script's call.
    private func claimCall(
        fingerprint: Fingerprint,
        channel: ChannelID,
        status: NotificationStatus,
        token: String,
        settings: NotificationSettings
    ) -> RedisScriptCall {
        RedisScriptCall(
            NotificationScripts.claim,
            keys: [key(fingerprint: fingerprint, channel: channel)],
            arguments: [
                status.rawValue, token, settings.repeatInterval.wholeMilliseconds,
                settings.sendResolved ? "1" : "0", settings.sendLease.wholeMilliseconds,
                Self.ttl(for: settings).wholeMilliseconds,
            ]
        )
    }

    /// Reads a claim script reply.
    private func claim(from reply: RedisReply) throws -> NotificationClaim {
        guard let parts = reply.array, parts.count == 6, let code = parts[0].string, let value = parts[1].integer,
            let now = parts[2].integer, let failures = parts[3].integer, let kindText = parts[4].string,
            let reference = parts[5].string
        else { throw unexpected(reply, from: "claim") }
        let decision: NotificationDecision
        switch code {
        case "send":
            guard let kind = NotificationKind(rawValue: kindText) else { throw unexpected(reply, from: "claim") }
            decision = .send(kind, sequence: Int(value))
        case "in_flight": decision = .skipInFlight(until: Date(milliseconds: value))
        case "backoff": decision = .skipBackoff(until: Date(milliseconds: value))
        case "not_due": decision = .skipNotDue(until: Date(milliseconds: value))
        case "already_resolved": decision = .skipAlreadyResolved
        case "resolved_disabled": decision = .skipResolvedDisabled
        case "never_notified": decision = .skipNeverNotified
        default: throw unexpected(reply, from: "claim")
        }
        return NotificationClaim(
            decision: decision,
            now: Date(milliseconds: now),
            previousFailures: Int(failures),
            reference: reference.isEmpty ? nil : reference
        )
    }

    @discardableResult
    package func markSent(
        fingerprint: Fingerprint,
        channel: ChannelID,
        token: String,
        status: NotificationStatus,
        reference: String?
    ) async throws -> Bool {
        let call = markSentCall(
            fingerprint: fingerprint,
            channel: channel,
            token: token,
            status: status,
            reference: reference
        )
        return try markSentApplied(try await run(call))
    }

    /// The `notify_mark_sent` call of a delivery, for a pipeline (``RedisCoordination``'s ack records deliveries in
    /// the same round trip).
    func markSentCall(
        fingerprint: Fingerprint,
        channel: ChannelID,
        token: String,
        status: NotificationStatus,
        reference: String?
    ) -> RedisScriptCall {
        RedisScriptCall(
            NotificationScripts.markSent,
            keys: [key(fingerprint: fingerprint, channel: channel)],
            arguments: [token, status.rawValue, Self.minimumTTL.wholeMilliseconds, reference ?? ""]
        )
    }

    /// Reads a `notify_mark_sent` reply: `true` if the delivery was recorded.
    func markSentApplied(_ reply: RedisReply) throws -> Bool {
        guard let applied = reply.integer else { throw unexpected(reply, from: "markSent") }
        return applied == 1
    }

    @discardableResult
    package func markFailed(
        fingerprint: Fingerprint,
        channel: ChannelID,
        token: String,
        error: String,
        settings: NotificationSettings
    ) async throws -> Date? {
        let reply = try await run(
            NotificationScripts.markFailed,
            key: key(fingerprint: fingerprint, channel: channel),
            arguments: [
                token, error, settings.backoffBase.wholeMilliseconds, settings.backoffMax.wholeMilliseconds,
                Self.ttl(for: settings).wholeMilliseconds,
            ]
        )
        if reply.isNull { return nil }
        guard let next = reply.integer else { throw unexpected(reply, from: "markFailed") }
        return Date(milliseconds: next)
    }

    package func state(fingerprint: Fingerprint, channel: ChannelID) async throws -> NotificationState? {
        let key = key(fingerprint: fingerprint, channel: channel)
        let reply: RedisReply
        do {
            reply = try await client.send(RedisCommand("HGETALL", key).idempotent())
        } catch {
            throw CoreError(.unavailable, "reading notification state failed", underlying: error)
        }
        guard let elements = reply.array, elements.count.isMultiple(of: 2) else {
            throw unexpected(reply, from: "state")
        }
        if elements.isEmpty { return nil }
        var fields: [String: String] = [:]
        for index in stride(from: 0, to: elements.count, by: 2) {
            guard let name = elements[index].string, let value = elements[index + 1].string else {
                throw unexpected(reply, from: "state")
            }
            fields[name] = value
        }
        do {
            return try Self.decode(fields)
        } catch {
            logger.warning(
                "notification state does not decode",
                metadata: ["key": "\(key)", "error": .error(error)]
            )
            throw error
        }
    }

    /// Reads a state hash; throws `CoreError(.invalidInput)` for a field that does not parse.
    static func decode(_ fields: [String: String]) throws -> NotificationState {
        func milliseconds(_ name: String) throws -> Date? {
            guard let text = fields[name] else { return nil }
            guard let value = Int64(text) else {
                throw CoreError(.invalidInput, "notification state field \(name) is not a number: \(text)")
            }
            return Date(milliseconds: value)
        }
        func integer(_ name: String) throws -> Int {
            guard let text = fields[name] else { return 0 }
            guard let value = Int(text) else {
                throw CoreError(.invalidInput, "notification state field \(name) is not a number: \(text)")
            }
            return value
        }
        var state = NotificationState()
        if let status = fields["status"] {
            guard let parsed = NotificationStatus(rawValue: status) else {
                throw CoreError(.invalidInput, "notification state has an unknown status: \(status)")
            }
            state.lastStatusNotified = parsed
        }
        state.lastNotifiedAt = try milliseconds("notified_at")
        state.failures = try integer("failures")
        state.nextAttemptAt = try milliseconds("next_at")
        state.notifyCount = try integer("count")
        state.lastError = fields["last_error"]
        state.reference = fields["ref"]
        if let token = fields["claim_token"] {
            guard let until = try milliseconds("claim_until"), let kindText = fields["claim_kind"],
                let kind = NotificationKind(rawValue: kindText)
            else { throw CoreError(.invalidInput, "notification state has an incomplete claim") }
            state.claim = try makeClaim(token: token, until: until, kind: kind)
        }
        return state
    }

    /// The claim's fields as they are. `NotificationState.Claim` has no initializer outside `FluxbrainCore` (its
    /// memberwise one is internal), so it is built through its `Codable` conformance; default date strategies on
    /// both sides round-trip the `Date` exactly.
    static func makeClaim(token: String, until: Date, kind: NotificationKind) throws -> NotificationState.Claim {
        struct Fields: Encodable {
            var token: String
            var until: Date
            var kind: NotificationKind
        }
        do {
            let data = try JSONEncoder().encode(Fields(token: token, until: until, kind: kind))
            return try JSONDecoder().decode(NotificationState.Claim.self, from: data)
        } catch {
            throw CoreError(.internalError, "could not build a notification claim", underlying: error)
        }
    }

    private func run(
        _ script: RedisScript,
        key: String,
        arguments: [any RedisArgumentConvertible]
    ) async throws
        -> RedisReply
    {
        try await RedisStoreSupport.run(script, client: client, keys: [key], arguments: arguments)
    }

    private func run(_ call: RedisScriptCall) async throws -> RedisReply {
        try await RedisStoreSupport.run(call.script, client: client, keys: call.keys, arguments: call.arguments)
    }

    private func unexpected(_ reply: RedisReply, from operation: String) -> CoreError {
        CoreError(.invalidInput, "notification store \(operation) returned an unexpected reply: \(reply)")
    }
}

/// What both stores share: script runs that fail as `CoreError`, and the Lua clock.
enum RedisStoreSupport {
    /// Runs `script` through ``RedisClient/runScript(_:keys:arguments:)``; Redis failures become
    /// `CoreError(.unavailable)`.
    static func run(
        _ script: RedisScript,
        client: RedisClient,
        keys: [String],
        arguments: [any RedisArgumentConvertible]
    ) async throws -> RedisReply {
        do {
            return try await client.runScript(script, keys: keys, arguments: arguments)
        } catch {
            throw CoreError(.unavailable, "Redis script \(script.name) failed", underlying: error)
        }
    }

    /// `now_ms()`: Redis `TIME` in whole milliseconds since 1970.
    static let nowPrelude = """
        local function now_ms()
          local t = redis.call('TIME')
          return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        end

        """
}

/// The Lua of ``RedisNotificationStore``: `NotificationStateMachine`, line by line.
enum NotificationScripts {
    /// KEYS: state hash. ARGV: status, token, repeatMs, sendResolved (`1`/`0`), leaseMs, ttlMs.
    /// Returns `{decision, value, nowMs, previousFailures, kind, reference}`: `decision` is `send` (value = sequence,
    /// kind set), `in_flight` / `backoff` / `not_due` (value = until, ms), `already_resolved`, `resolved_disabled` or
    /// `never_notified` (value 0); kind is `''` unless sending; reference is the `ref` field or `''`.
    static let claim = RedisScript(
        name: "notify_should_notify_and_claim",
        source: RedisStoreSupport.nowPrelude + """
            local key = KEYS[1]
            local status, token = ARGV[1], ARGV[2]
            local repeatMs, sendResolved, leaseMs, ttl = tonumber(ARGV[3]), ARGV[4] == '1', tonumber(ARGV[5]),
              tonumber(ARGV[6])
            local now = now_ms()
            local h = redis.call('HMGET', key, 'status', 'notified_at', 'failures', 'next_at', 'claim_token',
              'claim_until', 'count', 'ref')
            local last, notifiedAt, failures, nextAt = h[1], tonumber(h[2]), tonumber(h[3]) or 0, tonumber(h[4])
            local claimToken, claimUntil, count, ref = h[5], tonumber(h[6]), tonumber(h[7]) or 0, h[8] or ''
            -- Like the in-memory store, every claim records that the channel has seen the incident.
            redis.call('HSET', key, 'seen', 1, 'ttl', ttl)
            redis.call('PEXPIRE', key, ttl)
            if claimToken and claimUntil and claimUntil > now then
              return {'in_flight', claimUntil, now, failures, '', ref}
            end
            if nextAt and now < nextAt then
              return {'backoff', nextAt, now, failures, '', ref}
            end
            local kind
            if status == 'firing' then
              if last ~= 'firing' then
                kind = 'firing'
              else
                if notifiedAt then
                  local due = notifiedAt + repeatMs
                  if now < due then return {'not_due', due, now, failures, '', ref} end
                end
                kind = 'reminder'
              end
            elseif status == 'resolved' then
              if not last then return {'never_notified', 0, now, failures, '', ref} end
              if last == 'resolved' then return {'already_resolved', 0, now, failures, '', ref} end
              if not sendResolved then
                redis.call('HSET', key, 'status', 'resolved')
                redis.call('HDEL', key, 'claim_token', 'claim_until', 'claim_kind')
                return {'resolved_disabled', 0, now, failures, '', ref}
              end
              kind = 'resolved'
            else
              return redis.error_reply('ERR unknown status ' .. tostring(status))
            end
            redis.call('HSET', key, 'claim_token', token, 'claim_until', now + leaseMs, 'claim_kind', kind)
            return {'send', count + 1, now, failures, kind, ref}
            """
    )

    /// KEYS: state hash. ARGV: token, status, defaultTtlMs, reference (`''`: none, the field is removed). Returns 1
    /// when the token held the claim and the delivery was recorded, else 0 (nothing changed).
    static let markSent = RedisScript(
        name: "notify_mark_sent",
        source: RedisStoreSupport.nowPrelude + """
            local key = KEYS[1]
            local h = redis.call('HMGET', key, 'claim_token', 'ttl')
            if h[1] ~= ARGV[1] then return 0 end
            local now = now_ms()
            redis.call('HDEL', key, 'claim_token', 'claim_until', 'claim_kind', 'next_at', 'last_error')
            redis.call('HSET', key, 'status', ARGV[2], 'notified_at', now, 'failures', 0)
            redis.call('HINCRBY', key, 'count', 1)
            if ARGV[4] == nil or ARGV[4] == '' then redis.call('HDEL', key, 'ref')
            else redis.call('HSET', key, 'ref', ARGV[4]) end
            redis.call('PEXPIRE', key, tonumber(h[2]) or tonumber(ARGV[3]))
            return 1
            """
    )

    /// KEYS: state hash. ARGV: token, error, backoffBaseMs, backoffMaxMs, ttlMs. Returns the next attempt (ms) when
    /// the token held the claim (failures + 1, backoff `min(max(failures, 1) × base, max)`), else nil.
    static let markFailed = RedisScript(
        name: "notify_mark_failed",
        source: RedisStoreSupport.nowPrelude + """
            local key = KEYS[1]
            if redis.call('HGET', key, 'claim_token') ~= ARGV[1] then return false end
            local now = now_ms()
            redis.call('HDEL', key, 'claim_token', 'claim_until', 'claim_kind')
            local failures = redis.call('HINCRBY', key, 'failures', 1)
            local delay = math.min(math.max(failures, 1) * tonumber(ARGV[3]), tonumber(ARGV[4]))
            local nextAt = now + delay
            redis.call('HSET', key, 'last_error', ARGV[2], 'next_at', nextAt, 'ttl', ARGV[5])
            redis.call('PEXPIRE', key, ARGV[5])
            return nextAt
            """
    )
}

extension Date {
    /// A date `milliseconds` after 1970.
    init(milliseconds: Int64) {
        self.init(timeIntervalSince1970: Double(milliseconds) / 1000)
    }
}
