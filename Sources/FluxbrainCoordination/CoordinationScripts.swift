import FluxbrainRedis

/// The Lua scripts behind ``RedisCoordination``, run with `EVALSHA` (the client reloads them after `NOSCRIPT`).
///
/// Rules every script keeps:
/// - "now" is Redis `TIME` in milliseconds, never a replica's clock;
/// - every key it touches comes from `KEYS`, except the per-item hashes, built as `KEYS[itemPrefix] .. itemKey`;
/// - it is safe to run again after an ambiguous timeout (the first run may have been applied): repeated calls either
///   find the work done (token or state no longer matches) or do the same thing once more harmlessly;
/// - item states are `ready`, `delayed`, `claimed` and `dead`; only `ready` items are popped, only `claimed` ones
///   with the caller's token are heartbeated, acked or nacked.
///
/// The `KEYS`/`ARGV` order of each script is in its comment; docs/coordination.md has the contracts.
enum CoordinationScripts {
    /// Shared helpers, prepended to the scripts that need them.
    private static let prelude = """
        local function now_ms()
          local t = redis.call('TIME')
          return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        end
        -- Moves a (leased, popped or nacked) item to the dead letters; `reason` is kept unless an error is already
        -- recorded.
        local function bury(item, key, dead, pending, reason, now)
          redis.call('HDEL', item, 'token', 'owner')
          redis.call('HSET', item, 'state', 'dead', 'died_at', now)
          if reason and redis.call('HEXISTS', item, 'last_error') == 0 then
            redis.call('HSET', item, 'last_error', reason)
          end
          redis.call('RPUSH', dead, key)
          redis.call('SREM', pending, key)
        end

        """

    private static let fence = """
        local function fenced(lock, value)
          local current = redis.call('GET', lock)
          if current ~= value then
            return redis.error_reply('FENCED lease ' .. value .. ' is not the lock holder (' .. tostring(current) .. ')')
          end
          return nil
        end

        """

    // MARK: Lock

    /// KEYS: lock, epoch. ARGV: replicaID, ttlMs.
    /// Returns the lock value `"<epoch>:<replica>"` when this replica holds the lock now (a new epoch, or its own
    /// existing one after a retried acquire, whose TTL is then refreshed), `false` when another replica holds it.
    static let acquire = RedisScript(
        name: "lock_acquire",
        source: """
            local current = redis.call('GET', KEYS[1])
            if current then
              local sep = string.find(current, ':', 1, true)
              if sep and string.sub(current, sep + 1) == ARGV[1] then
                redis.call('PEXPIRE', KEYS[1], ARGV[2])
                return current
              end
              return false
            end
            local epoch = redis.call('INCR', KEYS[2])
            local value = tostring(epoch) .. ':' .. ARGV[1]
            redis.call('SET', KEYS[1], value, 'PX', ARGV[2])
            return value
            """
    )

    /// KEYS: lock. ARGV: lockValue, ttlMs. Returns 1 when the value matched and the TTL was extended, else 0.
    static let renew = RedisScript(
        name: "lock_renew",
        source: """
            if redis.call('GET', KEYS[1]) == ARGV[1] then
              redis.call('PEXPIRE', KEYS[1], ARGV[2])
              return 1
            end
            return 0
            """
    )

    /// KEYS: lock. ARGV: lockValue. Deletes the lock only if it holds `lockValue`; returns 1 if deleted.
    static let release = RedisScript(
        name: "lock_release",
        source: """
            if redis.call('GET', KEYS[1]) == ARGV[1] then
              redis.call('DEL', KEYS[1])
              return 1
            end
            return 0
            """
    )

    // MARK: Queue

    /// KEYS: lock, pending, itemPrefix, ready, doorbell, dead. ARGV: lockValue, key, payload, epoch, doorbellMax.
    /// Errors `FENCED …` unless the lock holds `lockValue`. Returns 0 for a duplicate (queued, delayed or leased),
    /// 1 when enqueued. A dead letter with the same key is replaced by the new item (attempts start again at 0).
    static let enqueue = RedisScript(
        name: "enqueue_if_not_pending",
        source: prelude + fence + """
            local refused = fenced(KEYS[1], ARGV[1])
            if refused then return refused end
            local key = ARGV[2]
            local item = KEYS[3] .. key
            if redis.call('SADD', KEYS[2], key) == 0 then
              if redis.call('EXISTS', item) == 1 then return 0 end
              -- pending without its hash (should not happen): repair by enqueueing afresh.
            end
            redis.call('LREM', KEYS[6], 0, key)
            redis.call('DEL', item)
            redis.call('HSET', item, 'payload', ARGV[3], 'epoch', ARGV[4], 'enqueued_at', now_ms(),
              'attempts', 0, 'state', 'ready')
            redis.call('RPUSH', KEYS[4], key)
            redis.call('LPUSH', KEYS[5], 1)
            redis.call('LTRIM', KEYS[5], 0, tonumber(ARGV[5]) - 1)
            return 1
            """
    )

    /// KEYS: ready, leases, itemPrefix, dead, pending, delayed. ARGV: worker, token, leaseMs, maxAttempts.
    /// Promotes due delayed items, then pops ready items until one can be leased. Items past `maxAttempts` claims
    /// are dead-lettered on the way. Returns `{deadLettered}` when nothing was claimed, else
    /// `{deadLettered, key, payload, attempts}`.
    static let claim = RedisScript(
        name: "claim",
        source: prelude + """
            local now = now_ms()
            local itemPrefix = KEYS[3]
            local due = redis.call('ZRANGEBYSCORE', KEYS[6], '-inf', now, 'LIMIT', 0, 1000)
            for _, key in ipairs(due) do
              redis.call('ZREM', KEYS[6], key)
              if redis.call('HGET', itemPrefix .. key, 'state') == 'delayed' then
                redis.call('HSET', itemPrefix .. key, 'state', 'ready')
                redis.call('RPUSH', KEYS[1], key)
              end
            end
            local maxAttempts = tonumber(ARGV[4])
            local buried = 0
            while true do
              local key = redis.call('LPOP', KEYS[1])
              if not key then return {buried} end
              local item = itemPrefix .. key
              local state = redis.call('HGET', item, 'state')
              if state == 'ready' then
                local attempts = redis.call('HINCRBY', item, 'attempts', 1)
                if attempts > maxAttempts then
                  bury(item, key, KEYS[4], KEYS[5], 'claimed more than ' .. maxAttempts .. ' times', now)
                  buried = buried + 1
                else
                  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), key)
                  redis.call('HSET', item, 'state', 'claimed', 'token', ARGV[2], 'owner', ARGV[1], 'claimed_at', now)
                  local payload = redis.call('HGET', item, 'payload')
                  return {buried, key, payload, attempts}
                end
              elseif not state then
                -- A key without its hash: nothing to deliver; let a fresh enqueue through.
                redis.call('SREM', KEYS[5], key)
              end
              -- Any other state: a stale entry of an item that lives elsewhere (leased, delayed, dead); drop it.
            end
            """
    )

    /// KEYS: leases, itemPrefix. ARGV: key, token, leaseMs. Returns 1 if the lease was extended, 0 if it was lost.
    static let heartbeat = RedisScript(
        name: "heartbeat",
        source: prelude + """
            local item = KEYS[2] .. ARGV[1]
            local fields = redis.call('HMGET', item, 'token', 'state')
            if fields[1] ~= ARGV[2] or fields[2] ~= 'claimed' then return 0 end
            redis.call('ZADD', KEYS[1], now_ms() + tonumber(ARGV[3]), ARGV[1])
            return 1
            """
    )

    /// KEYS: leases, itemPrefix, pending. ARGV: key, token. Removes the item for good if the token still owns it;
    /// returns 1, else 0.
    static let ack = RedisScript(
        name: "ack",
        source: """
            local item = KEYS[2] .. ARGV[1]
            local fields = redis.call('HMGET', item, 'token', 'state')
            if fields[1] ~= ARGV[2] or fields[2] ~= 'claimed' then return 0 end
            redis.call('DEL', item)
            redis.call('SREM', KEYS[3], ARGV[1])
            redis.call('ZREM', KEYS[1], ARGV[1])
            return 1
            """
    )

    /// KEYS: leases, itemPrefix, pending, delayed, dead, doorbell. ARGV: key, token, delayMs, error, maxAttempts.
    /// If the token still owns the item: keeps `error`, then dead-letters it once attempts reached `maxAttempts`
    /// (returns 2) or delays it by `delayMs` (returns 1; a zero delay rings the doorbell). Returns 0 if lost.
    static let nack = RedisScript(
        name: "nack",
        source: prelude + """
            local key = ARGV[1]
            local item = KEYS[2] .. key
            local fields = redis.call('HMGET', item, 'token', 'state', 'attempts')
            if fields[1] ~= ARGV[2] or fields[2] ~= 'claimed' then return 0 end
            local now = now_ms()
            redis.call('ZREM', KEYS[1], key)
            redis.call('HDEL', item, 'token', 'owner')
            redis.call('HSET', item, 'last_error', ARGV[4])
            if (tonumber(fields[3]) or 0) >= tonumber(ARGV[5]) then
              bury(item, key, KEYS[5], KEYS[3], nil, now)
              return 2
            end
            local delay = tonumber(ARGV[3])
            redis.call('HSET', item, 'state', 'delayed')
            redis.call('ZADD', KEYS[4], now + delay, key)
            if delay <= 0 then
              redis.call('LPUSH', KEYS[6], 1)
              redis.call('LTRIM', KEYS[6], 0, 63)
            end
            return 1
            """
    )

    /// KEYS: leases, itemPrefix, pending, dead. ARGV: key, token, error.
    /// Dead-letters a claimed item whose payload could not be decoded; returns 1, or 0 if the token lost it.
    static let buryClaimed = RedisScript(
        name: "bury_claimed",
        source: prelude + """
            local key = ARGV[1]
            local item = KEYS[2] .. key
            local fields = redis.call('HMGET', item, 'token', 'state')
            if fields[1] ~= ARGV[2] or fields[2] ~= 'claimed' then return 0 end
            redis.call('ZREM', KEYS[1], key)
            redis.call('HSET', item, 'last_error', ARGV[3])
            bury(item, key, KEYS[4], KEYS[3], nil, now_ms())
            return 1
            """
    )

    /// KEYS: leases, itemPrefix, ready, pending, dead, doorbell. ARGV: maxAttempts, limit.
    /// Handles up to `limit` expired leases: back to the front of `ready` with attempts kept, or dead-lettered once
    /// attempts reached `maxAttempts`. Returns `{requeued, deadLettered, scanned}`.
    static let reap = RedisScript(
        name: "reap",
        source: prelude + """
            local now = now_ms()
            local maxAttempts = tonumber(ARGV[1])
            local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
            local requeued, buried = 0, 0
            for _, key in ipairs(expired) do
              redis.call('ZREM', KEYS[1], key)
              local item = KEYS[2] .. key
              local fields = redis.call('HMGET', item, 'state', 'attempts')
              if fields[1] == 'claimed' then
                local attempts = tonumber(fields[2]) or 0
                if attempts >= maxAttempts then
                  bury(item, key, KEYS[5], KEYS[4], 'lease expired ' .. attempts .. ' times', now)
                  buried = buried + 1
                else
                  redis.call('HDEL', item, 'token', 'owner')
                  redis.call('HSET', item, 'state', 'ready')
                  redis.call('LPUSH', KEYS[3], key)
                  requeued = requeued + 1
                end
              elseif not fields[1] then
                redis.call('SREM', KEYS[4], key)
              end
            end
            if requeued > 0 then
              redis.call('LPUSH', KEYS[6], 1)
              redis.call('LTRIM', KEYS[6], 0, 63)
            end
            return {requeued, buried, #expired}
            """
    )

    /// KEYS: ready, delayed, leases, dead, pending. Returns the five sizes, read atomically.
    static let stats = RedisScript(
        name: "stats",
        source: """
            return {redis.call('LLEN', KEYS[1]), redis.call('ZCARD', KEYS[2]), redis.call('ZCARD', KEYS[3]),
              redis.call('LLEN', KEYS[4]), redis.call('SCARD', KEYS[5])}
            """
    )

    /// KEYS: dead, itemPrefix. ARGV: limit. Returns `{key, payload, attempts, last_error}` per dead letter, oldest
    /// first, flattened (missing fields are nil).
    static let deadLetters = RedisScript(
        name: "dead_letters",
        source: """
            local limit = tonumber(ARGV[1])
            local result = {}
            if limit <= 0 then return result end
            local keys = redis.call('LRANGE', KEYS[1], 0, limit - 1)
            for _, key in ipairs(keys) do
              local fields = redis.call('HMGET', KEYS[2] .. key, 'payload', 'attempts', 'last_error')
              table.insert(result, key)
              table.insert(result, fields[1])
              table.insert(result, fields[2])
              table.insert(result, fields[3])
            end
            return result
            """
    )

    /// KEYS: dead, itemPrefix, ready, pending, doorbell. ARGV: mode (`one` or `all`), key.
    /// Moves dead letters back to the end of `ready` with attempts reset (the last error is kept). An entry whose
    /// item is no longer dead (re-enqueued meanwhile, or its hash is gone) is only dropped from the list, so a
    /// retried call never queues an item twice. Returns how many were requeued.
    static let requeueDead = RedisScript(
        name: "requeue_dead",
        source: """
            local keys
            if ARGV[1] == 'one' then
              keys = {ARGV[2]}
            else
              keys = redis.call('LRANGE', KEYS[1], 0, -1)
            end
            local count = 0
            for _, key in ipairs(keys) do
              local item = KEYS[2] .. key
              if redis.call('HGET', item, 'state') == 'dead' then
                redis.call('LREM', KEYS[1], 0, key)
                if redis.call('SADD', KEYS[4], key) == 1 then
                  redis.call('HDEL', item, 'token', 'owner', 'died_at')
                  redis.call('HSET', item, 'state', 'ready', 'attempts', 0)
                  redis.call('RPUSH', KEYS[3], key)
                  count = count + 1
                end
              elseif ARGV[1] == 'all' then
                redis.call('LREM', KEYS[1], 0, key)
              end
            end
            if count > 0 then
              redis.call('LPUSH', KEYS[5], 1)
              redis.call('LTRIM', KEYS[5], 0, 63)
            end
            return count
            """
    )

    // MARK: Incident index

    /// KEYS: lock, open hash. ARGV: lockValue, field, incident JSON. Fenced; records the object's open incident.
    static let openIncident = RedisScript(
        name: "incident_open",
        source: fence + """
            local refused = fenced(KEYS[1], ARGV[1])
            if refused then return refused end
            redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
            return 1
            """
    )

    /// KEYS: lock, open hash. ARGV: lockValue, field, fingerprint.
    /// Fenced; deletes the object's open incident only if its fingerprint is `fingerprint`. Returns 1 if deleted.
    static let closeIncident = RedisScript(
        name: "incident_close",
        source: fence + """
            local refused = fenced(KEYS[1], ARGV[1])
            if refused then return refused end
            local stored = redis.call('HGET', KEYS[2], ARGV[2])
            if not stored then return 0 end
            local ok, incident = pcall(cjson.decode, stored)
            if ok and type(incident) == 'table' and incident['fingerprint'] == ARGV[3] then
              redis.call('HDEL', KEYS[2], ARGV[2])
              return 1
            end
            return 0
            """
    )
}
