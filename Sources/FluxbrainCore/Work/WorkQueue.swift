import Foundation

/// A reliable work queue with leases: at-least-once delivery, dedup by key, dead letters.
///
/// Semantics every implementation keeps (the in-memory one and the Redis one run the same tests):
/// - `enqueue` is fenced: it throws `FencedError` unless `lease` is the current leader lease; it returns
///   `.duplicate` while an item with the same key is queued, delayed or leased.
/// - `claim` pops the oldest ready item (after moving due delayed items to ready), counts an attempt, leases it for
///   `lease` and returns a fresh token. An item claimed more than `maxAttempts` times is dead-lettered instead.
/// - `heartbeat`, `ack` and `nack` only act for the current token; they return `false` when the claim was lost
///   (the lease expired and the item was reaped or re-claimed), and then the caller must stop without side effects.
/// - `nack` puts the item back after `delay` (or dead-letters it once attempts reached `maxAttempts`) and keeps the
///   error; `ack` removes it for good.
/// - `reap` returns expired leases to the front of the queue, or dead-letters them at `maxAttempts`.
/// - `ackAndClaim` is `ack` then `claim` (a worker that finished an item takes its next one); an implementation may do
///   both in one round trip, with exactly the semantics of the two calls.
package protocol WorkQueue: Sendable {
    func enqueue(_ item: WorkItem, lease: LeaderLease) async throws -> EnqueueResult
    /// ``enqueue(_:lease:)`` of each item, in order; one result per item. An implementation may send them in one
    /// round trip. Throws `FencedError` when `lease` is not (or no longer) the leader's: the items before the first
    /// fenced one may have been enqueued, none from it on. Any other error may leave any of the items enqueued (a
    /// pass that enqueues them again gets `.duplicate`).
    func enqueue(_ items: [WorkItem], lease: LeaderLease) async throws -> [EnqueueResult]
    func claim(worker: String, lease: Duration) async throws -> ClaimedWork?
    func heartbeat(_ claim: ClaimedWork, lease: Duration) async throws -> Bool
    func ack(_ claim: ClaimedWork) async throws -> Bool
    func nack(_ claim: ClaimedWork, delay: Duration, error: String) async throws -> Bool
    /// ``ack(_:)`` of `claim`, then ``claim(worker:lease:)`` of the next item. If it throws, the ack may or may not
    /// have been applied, and an item claimed by it is returned by the reaper when its lease expires.
    func ackAndClaim(_ claim: ClaimedWork, worker: String, lease: Duration) async throws -> AckAndClaim
    /// Records `deliveries` in their notification store (``PendingDelivery/markSent()``, in order), then
    /// ``ack(_:)`` of `claim`, then, with a `worker`, ``claim(worker:lease:)`` of the next item: what a worker does
    /// when an item whose deliveries it holds is done. An implementation may do it all in one round trip, with
    /// exactly the semantics of the separate calls in that order (a delivery's store error does not stop the ack:
    /// the delivery comes back in ``AckAndClaim/unrecorded``). If it throws, each step may or may not have been
    /// applied: the caller records the deliveries again (harmless), and an item claimed by it is returned by the
    /// reaper when its lease expires.
    func ack(
        _ claim: ClaimedWork,
        recording deliveries: [PendingDelivery],
        thenClaimFor worker: String?,
        lease: Duration
    ) async throws -> AckAndClaim
    func reap() async throws -> ReapResult
    func stats() async throws -> QueueStats
    func deadLetters(limit: Int) async throws -> [DeadLetter]
    /// Moves dead letters (all, or the one with `key`) back to the ready queue with their attempts reset.
    func requeueDead(key: String?) async throws -> Int
    /// `true` while an item with `key` is queued, delayed or leased (not acked, not dead).
    func isPending(key: String) async throws -> Bool
    /// Waits up to `timeout` for an enqueue (a doorbell); returns early when work may be available.
    func waitForWork(timeout: Duration) async throws
}

/// What ``WorkQueue/ackAndClaim(_:worker:lease:)`` did.
package struct AckAndClaim: Sendable {
    /// `false` when the claim had been lost (the item was not acked by this call).
    package var acked: Bool
    /// The next item, claimed, if one was ready.
    package var next: ClaimedWork?
    /// Deliveries of ``WorkQueue/ack(_:recording:thenClaimFor:lease:)`` whose recording failed (a store error): the
    /// caller records them again.
    package var unrecorded: [PendingDelivery]
    /// Deliveries whose token no longer held the claim when they were recorded (sent after the send lease expired).
    package var late: [PendingDelivery]

    package init(
        acked: Bool,
        next: ClaimedWork?,
        unrecorded: [PendingDelivery] = [],
        late: [PendingDelivery] = []
    ) {
        self.acked = acked
        self.next = next
        self.unrecorded = unrecorded
        self.late = late
    }
}

extension WorkQueue {
    /// One ``enqueue(_:lease:)`` after the other.
    package func enqueue(_ items: [WorkItem], lease: LeaderLease) async throws -> [EnqueueResult] {
        var results: [EnqueueResult] = []
        results.reserveCapacity(items.count)
        for item in items { results.append(try await enqueue(item, lease: lease)) }
        return results
    }

    /// `ack` then `claim`, two calls.
    package func ackAndClaim(_ claim: ClaimedWork, worker: String, lease: Duration) async throws -> AckAndClaim {
        let acked = try await ack(claim)
        return AckAndClaim(acked: acked, next: try await self.claim(worker: worker, lease: lease))
    }

    /// Each delivery's `markSent`, then `ack`, then `claim` (with a worker): separate calls.
    package func ack(
        _ claim: ClaimedWork,
        recording deliveries: [PendingDelivery],
        thenClaimFor worker: String?,
        lease: Duration
    ) async throws -> AckAndClaim {
        let (late, unrecorded) = await PendingDelivery.markSent(deliveries)
        var result: AckAndClaim
        if let worker {
            result = try await ackAndClaim(claim, worker: worker, lease: lease)
        } else {
            result = AckAndClaim(acked: try await ack(claim), next: nil)
        }
        result.unrecorded = unrecorded
        result.late = late
        return result
    }
}

/// The scheduler lock: one replica at a time holds it and may enqueue.
///
/// `acquire` grants a new, higher epoch each time the lock changes hands; `renew` extends it only for the holder of
/// that exact lease; `release` deletes it only for that holder.
package protocol LeaderLock: Sendable {
    func acquire(replicaID: String, ttl: Duration) async throws -> LeaderLease?
    func renew(_ lease: LeaderLease, ttl: Duration) async throws -> Bool
    func release(_ lease: LeaderLease) async throws
    /// The current holder, if any.
    func holder() async throws -> LeaderLease?
}

/// Which incidents are open, per object: the scheduler's memory of what it has reported, so that a recovered object
/// gets exactly one resolved item and a changed fingerprint replaces the old incident.
///
/// Writes are fenced like `WorkQueue.enqueue`.
package protocol IncidentIndex: Sendable {
    /// Every open incident of `cluster`.
    func openIncidents(cluster: String) async throws -> [Incident]
    /// Records `incident` as the open incident of its object (replacing any other), fenced by `lease`.
    func open(_ incident: Incident, lease: LeaderLease) async throws
    /// Forgets the open incident `fingerprint` of `object`, fenced by `lease`.
    func close(_ object: ObjectReference, fingerprint: Fingerprint, lease: LeaderLease) async throws
    /// ``open(_:lease:)`` of each incident, in order; an implementation may send them in one round trip. Fenced like
    /// ``WorkQueue/enqueue(_:lease:)-([WorkItem],_)``: the incidents before the first fenced one may have been
    /// recorded, none from it on.
    func open(_ incidents: [Incident], lease: LeaderLease) async throws
    /// ``close(_:fingerprint:lease:)`` of each incident's object and fingerprint, in order; like
    /// ``open(_:lease:)-([Incident],_)``.
    func close(_ incidents: [Incident], lease: LeaderLease) async throws
}

extension IncidentIndex {
    /// One ``open(_:lease:)`` after the other.
    package func open(_ incidents: [Incident], lease: LeaderLease) async throws {
        for incident in incidents { try await open(incident, lease: lease) }
    }

    /// One ``close(_:fingerprint:lease:)`` after the other.
    package func close(_ incidents: [Incident], lease: LeaderLease) async throws {
        for incident in incidents { try await close(incident.object, fingerprint: incident.fingerprint, lease: lease) }
    }
}
