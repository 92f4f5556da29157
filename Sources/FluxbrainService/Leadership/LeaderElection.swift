import FluxbrainCore
import FluxbrainIntegrations
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// This replica's view of whether it leads; read by the scheduler and the metrics.
package final class Leadership: Sendable {
    private let machine: Mutex<LeadershipStateMachine>
    /// Monotonic time since this object was made, on the injected clock.
    private let elapsed: @Sendable () -> Duration
    /// The clock leadership is measured and renewed on.
    package let clock: any Clock<Duration>

    /// - Parameters:
    ///   - ttl: the lock TTL (`FLUXBRAIN_LOCK_TTL`).
    ///   - clock: the monotonic clock for the trust window and the renew timer.
    package init(ttl: Duration, clock: any Clock<Duration> = ContinuousClock()) {
        machine = Mutex(LeadershipStateMachine(ttl: ttl))
        self.clock = clock
        elapsed = elapsedTime(on: clock)
    }

    /// The current reading of the clock, as the state machine counts time.
    package var now: Duration { elapsed() }

    /// The lease while leading and trusted, else `nil`.
    package var currentLease: LeaderLease? {
        let now = elapsed()
        return machine.withLock { machine in
            machine.checkExpiry(at: now)
            return machine.lease(at: now)
        }
    }

    package var renewInterval: Duration { machine.withLock { $0.renewInterval } }

    func update(_ body: (inout LeadershipStateMachine) -> Void) {
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
    private let leaderGauge: Gauge
    private let epochGauge: Gauge
    private let logger: Logger

    /// - Parameters:
    ///   - leadership: where the outcome is kept; its clock times the renewals.
    ///   - metricsFactory: makes `fluxbrain_leader` and `fluxbrain_leader_epoch`.
    package init(
        lock: any LeaderLock,
        replicaID: String,
        ttl: Duration,
        leadership: Leadership,
        metricsFactory: any MetricsFactory,
        logger: Logger
    ) {
        self.lock = lock
        self.replicaID = replicaID
        self.ttl = ttl
        self.leadership = leadership
        self.leaderGauge = Gauge(label: "fluxbrain_leader", factory: metricsFactory)
        self.epochGauge = Gauge(label: "fluxbrain_leader_epoch", factory: metricsFactory)
        self.logger = logger
    }

    package func run() async throws {
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
                try await leadership.clock.sleep(for: leadership.renewInterval)
            }
        }
        // Graceful shutdown: hand the lock over at once instead of letting it expire.
        await resign()
        leaderGauge.record(0)
    }

    /// Steps down and releases the lock if this replica leads; a failed release only logs (the lock expires).
    package func resign() async {
        guard let lease = leadership.currentLease else { return }
        leadership.stepDown()
        do {
            try await lock.release(lease)
            logger.notice("released the scheduler lock", metadata: ["epoch": "\(lease.epoch)"])
        } catch {
            logger.warning(
                "could not release the scheduler lock; it expires by itself",
                metadata: ["error": .error(error)]
            )
        }
    }

    /// One acquire-or-renew round.
    package func tick() async {
        let sentAt = leadership.now
        if let lease = leadership.currentLease {
            let renewed: Bool
            do {
                renewed = try await lock.renew(lease, ttl: ttl)
            } catch {
                logger.warning("lock renew failed", metadata: ["error": .error(error)])
                let now = leadership.now
                leadership.update { $0.checkExpiry(at: now) }
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
