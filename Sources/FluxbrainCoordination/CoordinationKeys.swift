import FluxbrainCore

/// The Redis key names of one Fluxbrain installation (one key prefix).
///
/// Every key carries the `{fbq}` hash tag, so every script's keys hash to one slot and the layout would work on a
/// Redis Cluster too (the fenced scripts touch the lock key together with the queue or index keys). The per-item
/// hashes are the one place where a script builds key names itself: it gets ``itemPrefix`` in `KEYS` and appends
/// the item key (see docs/coordination.md).
///
/// | key | type | content |
/// |---|---|---|
/// | `<prefix>:{fbq}:lock:scheduler` | STRING | `"<epoch>:<replica>"`, PX ttl |
/// | `<prefix>:{fbq}:lock:scheduler:epoch` | STRING (INCR) | the last leader epoch granted |
/// | `<prefix>:{fbq}:ready` | LIST | item keys waiting (RPUSH in, LPOP out, reaped ones LPUSHed to the front) |
/// | `<prefix>:{fbq}:pending` | SET | item keys queued, delayed or leased (the dedup gate) |
/// | `<prefix>:{fbq}:item:<key>` | HASH | `payload`, `epoch`, `enqueued_at`, `attempts`, `state`, `owner`, `token`, `claimed_at`, `last_error` |
/// | `<prefix>:{fbq}:leases` | ZSET | item key → lease deadline (ms, Redis `TIME`) |
/// | `<prefix>:{fbq}:delayed` | ZSET | item key → not-before (ms, Redis `TIME`) |
/// | `<prefix>:{fbq}:dead` | LIST | dead-lettered item keys, oldest first |
/// | `<prefix>:{fbq}:doorbell` | LIST | one `1` per enqueue (trimmed); idle workers `BLPOP` it |
/// | `<prefix>:{fbq}:open:<cluster>` | HASH | `<Kind>/<namespace>/<name>` → open incident (stable JSON) |
package struct CoordinationKeys: Sendable, Hashable {
    /// The installation's prefix (`FLUXBRAIN_REDIS_PREFIX`).
    package let prefix: String
    /// The scheduler lock.
    package let lock: String
    /// The counter the lock's epochs come from.
    package let epoch: String
    /// Ready item keys.
    package let ready: String
    /// Item keys queued, delayed or leased.
    package let pending: String
    /// Prefix of the per-item hashes: `itemPrefix + key`.
    package let itemPrefix: String
    /// Leased item keys by deadline.
    package let leases: String
    /// Delayed item keys by not-before time.
    package let delayed: String
    /// Dead-lettered item keys.
    package let dead: String
    /// The wake-up list for idle workers.
    package let doorbell: String
    /// Prefix of the per-cluster open-incident hashes: `openPrefix + cluster`.
    package let openPrefix: String

    /// The hash tag every key carries.
    package static let hashTag = "{fbq}"

    /// - Parameters:
    ///   - prefix: the installation's key prefix (default `fluxbrain`).
    ///   - lockName: the lock's name below the prefix (default `lock:scheduler`); the epoch key is `<lock>:epoch`.
    package init(prefix: String = "fluxbrain", lockName: String = "lock:scheduler") {
        self.prefix = prefix
        let base = "\(prefix):\(Self.hashTag):"
        lock = base + lockName
        epoch = base + lockName + ":epoch"
        ready = base + "ready"
        pending = base + "pending"
        itemPrefix = base + "item:"
        leases = base + "leases"
        delayed = base + "delayed"
        dead = base + "dead"
        doorbell = base + "doorbell"
        openPrefix = base + "open:"
    }

    /// The hash of the item with `key`.
    package func item(_ key: String) -> String { itemPrefix + key }

    /// The open-incident hash of `cluster`.
    package func open(cluster: String) -> String { openPrefix + cluster }

    /// The field of `object` in its cluster's open-incident hash: `<Kind>/<namespace>/<name>`.
    package static func openField(_ object: ObjectReference) -> String {
        "\(object.kind.name)/\(object.namespace)/\(object.name)"
    }
}
