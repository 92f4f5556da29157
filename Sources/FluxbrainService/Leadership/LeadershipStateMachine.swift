import FluxbrainCore

/// Whether this replica may act as scheduler, decided from lock replies and local monotonic time.
///
/// The rules (Kubernetes leader election's 15/10/2 shape, scaled to `ttl`): renew every `ttl / 3`; a leader steps
/// down as soon as no renew *sent* within the last `2/3 × ttl` has succeeded, so it stops acting before the lock
/// can expire in Redis and another replica take it — even if its process was paused.
///
/// Times are readings of the injected monotonic clock: the time elapsed on it since a fixed origin.
package struct LeadershipStateMachine: Sendable {
    package enum State: Sendable, Equatable {
        case follower
        case leader(LeaderLease, lastConfirmedSendTime: Duration)
    }

    package private(set) var state: State = .follower
    package let ttl: Duration

    package init(ttl: Duration) {
        self.ttl = ttl
    }

    /// How often to try to acquire or renew.
    package var renewInterval: Duration { ttl / 3 }

    /// How long after a renew's send time leadership is still trusted.
    package var trustWindow: Duration { ttl * 2 / 3 }

    /// The lease, if leading and still trusted at `now`.
    package func lease(at now: Duration) -> LeaderLease? {
        guard case .leader(let lease, let sent) = state, sent + trustWindow > now else { return nil }
        return lease
    }

    /// An acquire sent at `sentAt` returned `lease` (or nil: someone else holds it).
    package mutating func acquireReturned(_ lease: LeaderLease?, sentAt: Duration) {
        if let lease {
            state = .leader(lease, lastConfirmedSendTime: sentAt)
        } else {
            state = .follower
        }
    }

    /// A renew sent at `sentAt` returned `succeeded`; returns `true` when leadership was lost.
    @discardableResult
    package mutating func renewReturned(_ succeeded: Bool, sentAt: Duration) -> Bool {
        guard case .leader(let lease, let previous) = state else { return false }
        if succeeded {
            state = .leader(lease, lastConfirmedSendTime: max(previous, sentAt))
            return false
        }
        state = .follower
        return true
    }

    /// Steps down when the trust window has passed without a confirmed renew; returns `true` if it did.
    @discardableResult
    package mutating func checkExpiry(at now: Duration) -> Bool {
        guard case .leader(_, let sent) = state, sent + trustWindow <= now else { return false }
        state = .follower
        return true
    }

    /// Graceful shutdown or a fenced write: stop leading now.
    package mutating func stepDown() {
        state = .follower
    }
}
