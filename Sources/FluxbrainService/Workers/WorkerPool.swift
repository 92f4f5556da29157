import FluxbrainCore
import FluxbrainIntegrations
import Foundation
import Logging
import Metrics
import ServiceLifecycle

/// Claims work items and processes them: `FLUXBRAIN_WORKERS` workers on every replica, plus the lease reaper.
///
/// Each claim is heartbeated every third of the lease; when a heartbeat finds the claim lost, processing is
/// cancelled before any further side effect. On graceful shutdown workers stop claiming, in-flight items get
/// `drainGrace` to finish, and what is still running then is cancelled and nacked so another replica picks it up.
package struct WorkerPool: Service {
    package struct Configuration: Sendable {
        package var workers: Int
        package var lease: Duration
        package var replicaID: String
        /// How long in-flight items may run after SIGTERM.
        package var drainGrace: Duration
        /// How long an idle worker waits for the doorbell before polling again.
        package var idleWait: Duration

        package init(
            workers: Int,
            lease: Duration,
            replicaID: String,
            drainGrace: Duration = .seconds(20),
            idleWait: Duration = .seconds(2)
        ) {
            self.workers = workers
            self.lease = lease
            self.replicaID = replicaID
            self.drainGrace = drainGrace
            self.idleWait = idleWait
        }
    }

    private let configuration: Configuration
    private let queue: any WorkQueue
    private let processor: any IncidentProcessor
    private let clock: any Clock<Duration>
    private let metricsFactory: any MetricsFactory
    private let itemSeconds: Timer
    private let logger: Logger

    /// - Parameters:
    ///   - clock: the monotonic clock for heartbeats, the drain grace, the reaper period and retry pauses.
    ///   - metricsFactory: makes `fluxbrain_work_items_total`, `fluxbrain_work_item_seconds`,
    ///     `fluxbrain_queue_reaped_total` and `fluxbrain_queue_errors_total`.
    package init(
        configuration: Configuration,
        queue: any WorkQueue,
        processor: any IncidentProcessor,
        clock: any Clock<Duration>,
        metricsFactory: any MetricsFactory,
        logger: Logger
    ) {
        self.configuration = configuration
        self.queue = queue
        self.processor = processor
        self.clock = clock
        self.metricsFactory = metricsFactory
        self.itemSeconds = Timer(label: "fluxbrain_work_item_seconds", factory: metricsFactory)
        self.logger = logger
    }

    private func count(_ label: String, _ dimensions: [(String, String)], by amount: Int = 1) {
        Counter(label: label, dimensions: dimensions, factory: metricsFactory).increment(by: amount)
    }

    package func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<configuration.workers {
                group.addTask { await self.workerLoop(id: "\(configuration.replicaID)/\(index)") }
            }
            group.addTask { await self.reaperLoop() }
            await group.waitForAll()
        }
    }

    /// Claims and processes one item if there is one; returns `false` when the queue was empty.
    @discardableResult
    package func processOne(worker: String) async -> Bool {
        switch await claimOne(worker: worker) {
        case .claimed(let claim):
            await handle(claim, worker: worker, claimNext: false)
            return true
        case .failed:
            return true
        case .empty:
            return false
        }
    }

    private enum ClaimAttempt {
        case claimed(ClaimedWork)
        case empty
        /// The claim failed (logged, counted, paused).
        case failed
    }

    private func claimOne(worker: String) async -> ClaimAttempt {
        do {
            guard let claim = try await queue.claim(worker: worker, lease: configuration.lease) else { return .empty }
            return .claimed(claim)
        } catch {
            logger.warning("claim failed", metadata: ["worker": "\(worker)", "error": .error(error)])
            count("fluxbrain_queue_errors_total", [("operation", "claim")])
            try? await clock.sleep(for: .milliseconds(500))
            return .failed
        }
    }

    /// Claims and processes items until shutdown; an item that is done is acked together with the claim of the next
    /// one (``WorkQueue/ackAndClaim(_:worker:lease:)``, one round trip on Redis).
    private func workerLoop(id: String) async {
        var next: ClaimedWork?
        while !Task.isCancelled {
            if let claim = next {
                // Claimed with the previous ack: handled like any claimed item, even if shutdown began meanwhile.
                next = await handle(claim, worker: id, claimNext: true)
                continue
            }
            if Task.isShuttingDownGracefully { break }
            switch await claimOne(worker: id) {
            case .claimed(let claim):
                next = await handle(claim, worker: id, claimNext: true)
                continue
            case .failed:
                continue
            case .empty:
                break
            }
            do {
                try await cancelWhenGracefulShutdown {
                    try await queue.waitForWork(timeout: configuration.idleWait)
                }
            } catch {
                if Task.isShuttingDownGracefully || Task.isCancelled { break }
                try? await clock.sleep(for: .milliseconds(500))
            }
        }
    }

    private func reaperLoop() async {
        let interval = configuration.lease / 2
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let result = try await queue.reap()
                if result.requeued > 0 || result.deadLettered > 0 {
                    logger.info(
                        "reaped expired leases",
                        metadata: ["requeued": "\(result.requeued)", "deadLettered": "\(result.deadLettered)"]
                    )
                    count("fluxbrain_queue_reaped_total", [("result", "requeued")], by: result.requeued)
                    count("fluxbrain_queue_reaped_total", [("result", "dead")], by: result.deadLettered)
                }
            } catch {
                logger.warning("reap failed", metadata: ["error": .error(error)])
            }
            try? await cancelWhenGracefulShutdown { try await clock.sleep(for: interval) }
        }
    }

    private enum Outcome: Sendable {
        case processed(ProcessingResult)
        case failed(String)
        case leaseLost
        case interrupted
    }

    /// Processes `claim`, then acks or nacks it; with `claimNext`, an ack also claims the worker's next item (unless
    /// shutting down), which is returned.
    private func handle(_ claim: ClaimedWork, worker: String, claimNext: Bool) async -> ClaimedWork? {
        var logger = logger
        logger[metadataKey: "fingerprint"] = "\(claim.item.incident.fingerprint.short)"
        logger[metadataKey: "object"] = "\(claim.item.incident.object)"
        logger[metadataKey: "cluster"] = "\(claim.item.incident.object.cluster)"
        logger[metadataKey: "transition"] = "\(claim.item.transition.rawValue)"
        logger[metadataKey: "attempt"] = "\(claim.attempts)"
        let elapsed = elapsedTime(on: clock)
        let outcome = await runWithHeartbeat(claim)
        itemSeconds.record(duration: elapsed())
        var next: ClaimedWork?
        do {
            switch outcome {
            case .processed(.done):
                let acked: Bool
                if claimNext && !Task.isShuttingDownGracefully {
                    let result = try await queue.ackAndClaim(claim, worker: worker, lease: configuration.lease)
                    acked = result.acked
                    next = result.next
                } else {
                    acked = try await queue.ack(claim)
                }
                count("fluxbrain_work_items_total", [("result", acked ? "done" : "lost")])
                logger.debug("processed", metadata: ["acked": "\(acked)"])
            case .processed(.retry(let delay, let reason)):
                _ = try await queue.nack(claim, delay: delay, error: reason)
                count("fluxbrain_work_items_total", [("result", "retry")])
                logger.info("will retry", metadata: ["after": "\(delay.formattedShort)", "reason": "\(reason)"])
            case .failed(let error):
                _ = try await queue.nack(claim, delay: .seconds(5), error: error)
                count("fluxbrain_work_items_total", [("result", "error")])
                logger.warning("processing failed", metadata: ["error": "\(error)"])
            case .leaseLost:
                count("fluxbrain_work_items_total", [("result", "lost")])
                logger.warning("lease lost: stopped before further side effects")
            case .interrupted:
                _ = try await queue.nack(claim, delay: .zero, error: "interrupted by shutdown of \(worker)")
                count("fluxbrain_work_items_total", [("result", "interrupted")])
                logger.info("interrupted by shutdown: returned to the queue")
            }
        } catch {
            // The lease will expire and the reaper returns the item: nothing is lost.
            logger.warning("could not ack or nack; the lease will expire", metadata: ["error": .error(error)])
        }
        return next
    }

    /// Runs the processor while heartbeating; cancels it when the lease is lost or the drain grace ends.
    private func runWithHeartbeat(_ claim: ClaimedWork) async -> Outcome {
        let processor = processor
        let queue = queue
        let lease = configuration.lease
        let grace = configuration.drainGrace
        let clock = clock
        return await withTaskGroup(of: Outcome?.self) { group in
            group.addTask {
                do {
                    return .processed(try await processor.process(claim.item))
                } catch is CancellationError {
                    return .interrupted
                } catch {
                    return .failed("\(error)")
                }
            }
            group.addTask {
                // Heartbeat every third of the lease; a lost claim ends processing.
                while !Task.isCancelled {
                    try? await clock.sleep(for: lease / 3)
                    if Task.isCancelled { return nil }
                    if let alive = try? await queue.heartbeat(claim, lease: lease), !alive { return .leaseLost }
                }
                return nil
            }
            group.addTask {
                // After SIGTERM, give the item `grace` to finish, then interrupt it.
                do {
                    try await gracefulShutdown()
                } catch {
                    return nil
                }
                try? await clock.sleep(for: grace)
                return Task.isCancelled ? nil : .interrupted
            }
            var result: Outcome = .interrupted
            while let next = await group.next() {
                if let next {
                    result = next
                    break
                }
            }
            group.cancelAll()
            return result
        }
    }
}
