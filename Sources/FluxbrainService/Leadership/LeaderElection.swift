import FluxbrainCore
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// This replica's view of whether it leads; read by the scheduler and the metrics.
package final class Leadership: Sendable {
    private let machine: Mutex<LeadershipStateMachine<ContinuousClock.Instant>>

    package init(ttl: Duration) {
        machine = Mutex(LeadershipStateMachine(ttl: ttl))
    }

    /// The lease while leading and trusted, else `nil`.
    package var currentLease: LeaderLease? {
        machine.withLock { machine in
            machine.checkExpiry(at: .now)
            return machine.lease(at: .now)
        }
    }

    package var renewInterval: Duration { machine.withLock { $0.renewInterval } }

    func update(_ body: (inout LeadershipStateMachine<ContinuousClock.Instant>) -> Void) {
        machine.withLock { body(&$0) }
    }

    /// Stop leading now (a fenced write told us we are stale).
    package func stepDown() {
        machine.withLock { $0.stepDown() }
    }
}

/// Competes for the scheduler lock and keeps it: acquire or renew every third of the TTL; release on shutdown.
package struct LeaderElection: Service {
    private let lock: any LeaderLock
    private let replicaID: String
    private let ttl: Duration
    private let leadership: Leadership
    private let logger: Logger

    package init(lock: any LeaderLock, replicaID: String, ttl: Duration, leadership: Leadership, logger: Logger) {
        self.lock = lock
        self.replicaID = replicaID
        self.ttl = ttl
        self.leadership = leadership
        self.logger = logger
    }

    package func run() async throws {
        let leaderGauge = Gauge(label: "fluxbrain_leader")
        let epochGauge = Gauge(label: "fluxbrain_leader_epoch")
        try? await cancelWhenGracefulShutdown {
            var wasLeading: LeaderLease?
            while !Task.isCancelled {
                await self.tick()
                let lease = leadership.currentLease
                if lease != wasLeading {
                    if let lease {
                        logger.notice("became scheduler leader", metadata: ["epoch": "\(lease.epoch)"])
                    } else if let wasLeading {
                        logger.warning("stepped down as scheduler leader", metadata: ["epoch": "\(wasLeading.epoch)"])
                    }
                    wasLeading = lease
                }
                leaderGauge.record(lease == nil ? 0 : 1)
                if let lease { epochGauge.record(lease.epoch) }
                try await Task.sleep(for: leadership.renewInterval)
            }
        }
        // Graceful shutdown: hand the lock over at once instead of letting it expire.
        if let lease = leadership.currentLease {
            leadership.stepDown()
            do {
                try await lock.release(lease)
                logger.notice("released the scheduler lock", metadata: ["epoch": "\(lease.epoch)"])
            } catch {
                logger.warning("could not release the scheduler lock; it expires by itself", metadata: ["error": .error(error)])
            }
        }
        leaderGauge.record(0)
    }

    /// One acquire-or-renew round.
    package func tick() async {
        let sentAt = ContinuousClock.now
        if let lease = leadership.currentLease {
            let renewed: Bool
            do {
                renewed = try await lock.renew(lease, ttl: ttl)
            } catch {
                logger.warning("lock renew failed", metadata: ["error": .error(error)])
                leadership.update { $0.checkExpiry(at: .now) }
                return
            }
            leadership.update { $0.renewReturned(renewed, sentAt: sentAt) }
        } else {
            do {
                let lease = try await lock.acquire(replicaID: replicaID, ttl: ttl)
                leadership.update { $0.acquireReturned(lease, sentAt: sentAt) }
            } catch {
                logger.warning("lock acquire failed", metadata: ["error": .error(error)])
            }
        }
    }
}
