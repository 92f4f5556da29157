import FluxbrainCore
import FluxbrainRedis
import Foundation

extension RedisCoordination {
    /// Enqueues `item` unless an item with the same key is queued, delayed or leased; fenced by `lease` inside the
    /// script, so a stale leader gets `FencedError` and writes nothing.
    package func enqueue(_ item: WorkItem, lease: LeaderLease) async throws -> EnqueueResult {
        try await enqueue([item], lease: lease)[0]
    }

    /// The `enqueue` script for each item, pipelined (one round trip per ``batchLimit`` items, in order); fenced by
    /// `lease` as ``WorkQueue/enqueue(_:lease:)-([WorkItem],_)`` says. Every payload is encoded before anything is
    /// sent.
    package func enqueue(_ items: [WorkItem], lease: LeaderLease) async throws -> [EnqueueResult] {
        let calls = try items.map { item in
            let payload: [UInt8]
            do {
                payload = try StableJSON.bytes(item)
            } catch {
                throw CoordinationError(.encoding, "could not encode work item \(item.key)", underlying: error)
            }
            return RedisScriptCall(
                CoordinationScripts.enqueue,
                keys: [keys.lock, keys.pending, keys.itemPrefix, keys.ready, keys.doorbell, keys.dead],
                arguments: [lease.lockValue, item.key, payload, lease.epoch, configuration.doorbellLength]
            )
        }
        return try await run(calls, fencedBy: lease).map { reply in
            try integer(reply, from: "enqueue") == 1 ? .enqueued : .duplicate
        }
    }

    /// Claims the oldest ready item (after promoting due delayed ones) with a fresh token, leased for `lease`.
    ///
    /// An item whose payload cannot be decoded (or decodes to a different key) is dead-lettered with the error
    /// `undecodable payload` and counted in `fluxbrain_queue_malformed_total`; the claim then goes on with the
    /// next item.
    package func claim(worker: String, lease: Duration) async throws -> ClaimedWork? {
        while true {
            let call = claimCall(worker: worker, lease: lease)
            let reply = try await run(call.script, keys: call.keys, arguments: call.arguments)
            switch try await claimed(from: reply, worker: worker, token: call.token) {
            case .empty: return nil
            case .claimed(let work): return work
            case .buried: continue
            }
        }
    }

    /// Acks `claim` and claims the next item in one round trip: the `ack` and `claim` scripts pipelined on one
    /// connection (each is atomic on its own, exactly as in two calls). An undecodable next item is dead-lettered
    /// and the claim goes on with ``claim(worker:lease:)``.
    package func ackAndClaim(_ claim: ClaimedWork, worker: String, lease: Duration) async throws -> AckAndClaim {
        try await ack(claim, recording: [], thenClaimFor: worker, lease: lease)
    }

    /// Records `deliveries`, acks `claim` and, with a `worker`, claims the next item in one round trip: the
    /// `notify_mark_sent`, `ack` and `claim` scripts pipelined on one connection, run by Redis in that order (each
    /// atomic on its own, exactly as separate calls). Deliveries whose store is not a ``RedisNotificationStore`` on
    /// this client are recorded first, on their own. A delivery whose script failed comes back in
    /// ``AckAndClaim/unrecorded``; the ack stands.
    package func ack(
        _ claim: ClaimedWork,
        recording deliveries: [PendingDelivery],
        thenClaimFor worker: String?,
        lease: Duration
    ) async throws -> AckAndClaim {
        var pipelined: [(delivery: PendingDelivery, store: RedisNotificationStore)] = []
        var elsewhere: [PendingDelivery] = []
        for delivery in deliveries {
            if let store = delivery.store as? RedisNotificationStore, store.client === client {
                pipelined.append((delivery, store))
            } else {
                elsewhere.append(delivery)
            }
        }
        var (late, unrecorded) = await PendingDelivery.markSent(elsewhere)
        var calls = pipelined.map { delivery, store in
            store.markSentCall(
                fingerprint: delivery.fingerprint,
                channel: delivery.channel,
                token: delivery.token,
                status: delivery.status,
                reference: delivery.reference
            )
        }
        calls.append(
            RedisScriptCall(
                CoordinationScripts.ack,
                keys: [keys.leases, keys.itemPrefix, keys.pending],
                arguments: [claim.item.key, claim.token]
            )
        )
        let next = worker.map { claimCall(worker: $0, lease: lease) }
        if let next { calls.append(RedisScriptCall(next.script, keys: next.keys, arguments: next.arguments)) }
        let replies: [RedisReply]
        do {
            replies = try await client.evalSHA(calls)
        } catch {
            throw CoordinationError(.redis, "ack and claim failed", underlying: error)
        }
        guard replies.count == calls.count else {
            throw CoordinationError(.unexpectedReply, "ack and claim returned \(replies.count) replies")
        }
        for (index, (delivery, store)) in pipelined.enumerated() {
            do {
                if let message = replies[index].errorMessage { throw RedisError(.server, message) }
                if try !store.markSentApplied(replies[index]) { late.append(delivery) }
            } catch {
                logger.warning(
                    "recording a delivered notification with the ack failed",
                    metadata: ["key": "\(claim.item.key)", "channel": "\(delivery.channel)", "error": "\(error)"]
                )
                unrecorded.append(delivery)
            }
        }
        let ackReply = replies[pipelined.count]
        if let message = ackReply.errorMessage {
            throw CoordinationError(.redis, "ack failed", underlying: RedisError(.server, message))
        }
        let acked = try integer(ackReply, from: "ack") == 1
        var result = AckAndClaim(acked: acked, next: nil, unrecorded: unrecorded, late: late)
        guard let worker, let next else { return result }
        let claimReply = replies[pipelined.count + 1]
        if let message = claimReply.errorMessage {
            throw CoordinationError(.redis, "claim failed", underlying: RedisError(.server, message))
        }
        switch try await claimed(from: claimReply, worker: worker, token: next.token) {
        case .empty: break
        case .claimed(let work): result.next = work
        case .buried: result.next = try await self.claim(worker: worker, lease: lease)
        }
        return result
    }

    /// The `claim` script's call for `worker`, with a fresh token.
    private func claimCall(
        worker: String,
        lease: Duration
    ) -> (
        script: RedisScript, keys: [String], arguments: [any RedisArgumentConvertible], token: String
    ) {
        let token = RandomToken.make()
        return (
            CoordinationScripts.claim,
            [keys.ready, keys.leases, keys.itemPrefix, keys.dead, keys.pending, keys.delayed],
            [worker, token, lease.wholeMilliseconds(atLeast: 1), configuration.maxAttempts],
            token
        )
    }

    private enum ClaimReply {
        case empty
        case claimed(ClaimedWork)
        /// The popped item did not decode and was dead-lettered; claim again.
        case buried
    }

    /// Reads a `claim` script reply: counts what it dead-lettered, decodes the item, buries one that does not decode.
    private func claimed(from reply: RedisReply, worker: String, token: String) async throws -> ClaimReply {
        guard let elements = reply.array, let buried = elements.first?.integer else {
            throw unexpected(reply, from: "claim")
        }
        if buried > 0 {
            metrics.deadLetters.increment(by: buried)
            logger.warning(
                "dead-lettered items claimed too often",
                metadata: ["count": "\(buried)", "worker": "\(worker)"]
            )
        }
        if elements.count == 1 { return .empty }
        guard elements.count == 4, let key = elements[1].string, let attempts = elements[3].integer else {
            throw unexpected(reply, from: "claim")
        }
        if let item = Self.decodeItem(elements[2].bytes), item.key == key {
            return .claimed(ClaimedWork(item: item, token: token, attempts: Int(attempts)))
        }
        try await buryMalformed(key: key, token: token, worker: worker)
        return .buried
    }

    private func buryMalformed(key: String, token: String, worker: String) async throws {
        metrics.malformed.increment()
        let reply = try await run(
            CoordinationScripts.buryClaimed,
            keys: [keys.leases, keys.itemPrefix, keys.pending, keys.dead],
            arguments: [key, token, "undecodable payload"]
        )
        let buried = try integer(reply, from: "bury_claimed") == 1
        if buried { metrics.deadLetters.increment() }
        logger.error(
            "dead-lettered a work item with an undecodable payload",
            metadata: ["key": "\(key)", "worker": "\(worker)", "buried": "\(buried)"]
        )
    }

    /// Extends the claim's lease to `lease` from now if its token still owns the item.
    package func heartbeat(_ claim: ClaimedWork, lease: Duration) async throws -> Bool {
        let reply = try await run(
            CoordinationScripts.heartbeat,
            keys: [keys.leases, keys.itemPrefix],
            arguments: [claim.item.key, claim.token, lease.wholeMilliseconds(atLeast: 1)]
        )
        return try integer(reply, from: "heartbeat") == 1
    }

    /// Removes the item for good if the claim's token still owns it.
    package func ack(_ claim: ClaimedWork) async throws -> Bool {
        let reply = try await run(
            CoordinationScripts.ack,
            keys: [keys.leases, keys.itemPrefix, keys.pending],
            arguments: [claim.item.key, claim.token]
        )
        return try integer(reply, from: "ack") == 1
    }

    /// Puts the item back after `delay` (dead-letters it once attempts reached `maxAttempts`), keeping `error`.
    package func nack(_ claim: ClaimedWork, delay: Duration, error: String) async throws -> Bool {
        let reply = try await run(
            CoordinationScripts.nack,
            keys: [keys.leases, keys.itemPrefix, keys.pending, keys.delayed, keys.dead, keys.doorbell],
            arguments: [
                claim.item.key, claim.token, delay.wholeMilliseconds(atLeast: 0), error, configuration.maxAttempts,
            ]
        )
        let outcome = try integer(reply, from: "nack")
        if outcome == 2 {
            metrics.deadLetters.increment()
            logger.warning(
                "dead-lettered a work item after its last attempt",
                metadata: ["key": "\(claim.item.key)", "attempts": "\(claim.attempts)", "error": "\(error)"]
            )
        }
        return outcome != 0
    }

    /// Returns every expired lease to the front of the queue (attempts kept), or dead-letters it at `maxAttempts`;
    /// works in batches of `reapBatchSize`.
    package func reap() async throws -> ReapResult {
        var result = ReapResult()
        // Bounded: each batch removes what it scans from the leases, so this ends; the bound only guards against
        // a pathological flood.
        for _ in 0..<1000 {
            let reply = try await run(
                CoordinationScripts.reap,
                keys: [keys.leases, keys.itemPrefix, keys.ready, keys.pending, keys.dead, keys.doorbell],
                arguments: [configuration.maxAttempts, configuration.reapBatchSize]
            )
            guard let counts = reply.array?.compactMap(\.integer), counts.count == 3 else {
                throw unexpected(reply, from: "reap")
            }
            result.requeued += Int(counts[0])
            result.deadLettered += Int(counts[1])
            if counts[2] < Int64(configuration.reapBatchSize) { break }
        }
        if result.deadLettered > 0 {
            metrics.deadLetters.increment(by: Int64(result.deadLettered))
            logger.warning(
                "dead-lettered items whose leases expired too often",
                metadata: ["count": "\(result.deadLettered)"]
            )
        }
        return result
    }

    /// Queue depths, read atomically (the service's `QueueGauges` publishes them as `fluxbrain_queue_depth`).
    package func stats() async throws -> QueueStats {
        let reply = try await run(
            CoordinationScripts.stats,
            keys: [keys.ready, keys.delayed, keys.leases, keys.dead, keys.pending],
            arguments: []
        )
        guard let counts = reply.array?.compactMap(\.integer), counts.count == 5 else {
            throw unexpected(reply, from: "stats")
        }
        return QueueStats(
            ready: Int(counts[0]),
            delayed: Int(counts[1]),
            leased: Int(counts[2]),
            dead: Int(counts[3]),
            pending: Int(counts[4])
        )
    }

    /// Up to `limit` (at most 1,000,000) dead letters, oldest first. An undecodable payload gives a letter with
    /// `item == nil`.
    package func deadLetters(limit: Int) async throws -> [DeadLetter] {
        guard limit > 0 else { return [] }
        let reply = try await run(
            CoordinationScripts.deadLetters,
            keys: [keys.dead, keys.itemPrefix],
            arguments: [min(limit, 1_000_000)]
        )
        guard let elements = reply.array, elements.count % 4 == 0 else { throw unexpected(reply, from: "dead_letters") }
        return stride(from: 0, to: elements.count, by: 4).compactMap { index in
            guard let key = elements[index].string else { return nil }
            return DeadLetter(
                key: key,
                item: Self.decodeItem(elements[index + 1].bytes),
                attempts: elements[index + 2].integer.map { Int($0) } ?? 0,
                lastError: elements[index + 3].string
            )
        }
    }

    /// Moves dead letters (all, or the one with `key`) back to the end of the ready queue with attempts reset.
    /// Not fenced (an operator action), but never creates a duplicate: an item that is pending again is skipped.
    package func requeueDead(key: String?) async throws -> Int {
        let reply = try await run(
            CoordinationScripts.requeueDead,
            keys: [keys.dead, keys.itemPrefix, keys.ready, keys.pending, keys.doorbell],
            arguments: key.map { ["one", $0] } ?? ["all", ""]
        )
        return Int(try integer(reply, from: "requeue_dead"))
    }

    /// `SISMEMBER pending key`.
    package func isPending(key: String) async throws -> Bool {
        let reply = try await send(
            RedisCommand("SISMEMBER", keys.pending, key).idempotent(),
            operation: "isPending"
        )
        return try integer(reply, from: "isPending") == 1
    }

    /// `BLPOP` on the doorbell for up to `timeout`, on a dedicated connection (shared connections stay free).
    /// Returns after an enqueue, a requeue, a zero-delay nack, or the timeout; wake-ups may be spurious.
    package func waitForWork(timeout: Duration) async throws {
        guard timeout > .zero, !Task.isCancelled else { return }
        let command = RedisCommand.blpop([keys.doorbell], timeout: Swift.max(timeout, .milliseconds(1)))
        _ = try await send(command, operation: "waitForWork")
    }

    static func decodeItem(_ payload: [UInt8]?) -> WorkItem? {
        guard let payload, !payload.isEmpty else { return nil }
        return try? StableJSON.decode(WorkItem.self, from: payload)
    }
}
