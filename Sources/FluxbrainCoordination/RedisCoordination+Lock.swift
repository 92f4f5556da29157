import FluxbrainCore
import FluxbrainRedis

extension RedisCoordination {
    /// Takes the scheduler lock if it is free, with a new epoch (`INCR`); if this replica already holds it (a
    /// retry after an ambiguous timeout) returns its current lease with the TTL refreshed; `nil` while another
    /// replica holds it.
    package func acquire(replicaID: String, ttl: Duration) async throws -> LeaderLease? {
        let reply = try await run(
            CoordinationScripts.acquire,
            keys: [keys.lock, keys.epoch],
            arguments: [replicaID, ttl.wholeMilliseconds(atLeast: 1)]
        )
        if reply.isNull { return nil }
        guard let value = reply.string, let lease = Self.parseLockValue(value) else {
            throw unexpected(reply, from: "lock_acquire")
        }
        return lease
    }

    /// Extends the lock by `ttl` if `lease` still holds it (compare-and-`PEXPIRE`).
    package func renew(_ lease: LeaderLease, ttl: Duration) async throws -> Bool {
        let reply = try await run(
            CoordinationScripts.renew,
            keys: [keys.lock],
            arguments: [lease.lockValue, ttl.wholeMilliseconds(atLeast: 1)]
        )
        return try integer(reply, from: "lock_renew") == 1
    }

    /// Deletes the lock if `lease` still holds it (compare-and-`DEL`); otherwise does nothing.
    package func release(_ lease: LeaderLease) async throws {
        _ = try await run(CoordinationScripts.release, keys: [keys.lock], arguments: [lease.lockValue])
    }

    /// The current holder, read with `GET`; `nil` when the lock is free (or holds something unparsable).
    package func holder() async throws -> LeaderLease? {
        let reply = try await send(RedisCommand("GET", keys.lock).idempotent(), operation: "lock holder")
        guard let value = reply.string else { return nil }
        guard let lease = Self.parseLockValue(value) else {
            logger.warning("the scheduler lock holds an unparsable value", metadata: ["lock": "\(keys.lock)"])
            return nil
        }
        return lease
    }

    /// Parses `"<epoch>:<replica>"` (the replica ID may itself contain colons).
    package static func parseLockValue(_ value: String) -> LeaderLease? {
        guard let colon = value.firstIndex(of: ":"), let epoch = Int64(value[..<colon]) else { return nil }
        let replica = value[value.index(after: colon)...]
        guard !replica.isEmpty else { return nil }
        return LeaderLease(replicaID: String(replica), epoch: epoch)
    }
}
