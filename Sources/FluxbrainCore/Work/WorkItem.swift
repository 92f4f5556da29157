import Foundation

/// One unit of work for the workers: an incident transition to analyze and notify.
package struct WorkItem: Sendable, Codable, Hashable {
    /// What changed.
    package enum Transition: String, Sendable, Codable, Hashable, CaseIterable {
        /// The incident is open (first time, or again for a reminder check).
        case firing
        /// The object recovered: send the resolved message.
        case resolved
    }

    package var transition: Transition
    package var incident: Incident
    /// The item of an incident the scheduler opened in this pass (not a reminder, not a resolution): the first item
    /// of its fingerprint since the fingerprint was last resolved, so nothing is stored about its analysis yet. The
    /// worker clears it on an item claimed again (``ClaimedWork/attempts`` above 1), whose earlier attempt may have
    /// stored a verdict or a failure. Written to JSON only when set.
    package var opensIncident: Bool

    package init(transition: Transition, incident: Incident, opensIncident: Bool = false) {
        self.transition = transition
        self.incident = incident
        self.opensIncident = opensIncident
    }

    private enum CodingKeys: String, CodingKey {
        case incident, opensIncident, transition
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        transition = try container.decode(Transition.self, forKey: .transition)
        incident = try container.decode(Incident.self, forKey: .incident)
        opensIncident = try container.decodeIfPresent(Bool.self, forKey: .opensIncident) ?? false
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(incident, forKey: .incident)
        if opensIncident { try container.encode(true, forKey: .opensIncident) }
        try container.encode(transition, forKey: .transition)
    }

    /// The dedup key: an item with the same key already queued or in flight is not enqueued again.
    package var key: String { "\(incident.fingerprint.hex):\(transition.rawValue)" }
}

/// The leader's fencing token: the lock value it holds and the epoch it was granted.
package struct LeaderLease: Sendable, Hashable, CustomStringConvertible {
    /// The replica that holds the lock.
    package var replicaID: String
    /// Monotonically increasing across leaders; a stale epoch is rejected.
    package var epoch: Int64

    package init(replicaID: String, epoch: Int64) {
        self.replicaID = replicaID
        self.epoch = epoch
    }

    /// The lock value stored in Redis: `<epoch>:<replica>`.
    package var lockValue: String { "\(epoch):\(replicaID)" }

    package var description: String { lockValue }
}

/// A claimed item: only the holder of `token` may heartbeat, ack or nack it.
package struct ClaimedWork: Sendable, Hashable {
    package var item: WorkItem
    package var token: String
    /// How many times the item has been claimed, this claim included.
    package var attempts: Int

    package init(item: WorkItem, token: String, attempts: Int) {
        self.item = item
        self.token = token
        self.attempts = attempts
    }
}

/// What `enqueue` did.
package enum EnqueueResult: Sendable, Hashable {
    case enqueued
    /// The same key is already queued or in flight.
    case duplicate
}

/// What `reap` did.
package struct ReapResult: Sendable, Hashable {
    package var requeued: Int
    package var deadLettered: Int

    package init(requeued: Int = 0, deadLettered: Int = 0) {
        self.requeued = requeued
        self.deadLettered = deadLettered
    }
}

/// Queue depths.
package struct QueueStats: Sendable, Hashable, Codable {
    package var ready: Int
    package var delayed: Int
    package var leased: Int
    package var dead: Int
    /// Keys queued or in flight (the dedup set).
    package var pending: Int

    package init(ready: Int, delayed: Int, leased: Int, dead: Int, pending: Int) {
        self.ready = ready
        self.delayed = delayed
        self.leased = leased
        self.dead = dead
        self.pending = pending
    }
}

/// A dead-lettered item and why it died.
package struct DeadLetter: Sendable, Hashable, Codable {
    package var key: String
    package var item: WorkItem?
    package var attempts: Int
    package var lastError: String?

    package init(key: String, item: WorkItem?, attempts: Int, lastError: String?) {
        self.key = key
        self.item = item
        self.attempts = attempts
        self.lastError = lastError
    }
}

/// The error a coordination port throws when a fenced write comes from a stale leader.
package struct FencedError: Error, CustomStringConvertible, Sendable {
    package var lease: LeaderLease
    package init(lease: LeaderLease) { self.lease = lease }
    package var description: String { "fenced: leader lease \(lease) is no longer current" }
}
