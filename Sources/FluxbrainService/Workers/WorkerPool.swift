import FluxbrainCore
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

        package init(workers: Int, lease: Duration, replicaID: String, drainGrace: Duration = .seconds(20), idleWait: Duration = .seconds(2)) {
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
    private let logger: Logger

    package init(configuration: Configuration, queue: any WorkQueue, processor: any IncidentProcessor, logger: Logger) {
        self.configuration = configuration
        self.queue = queue
        self.processor = processor
        self.logger = logger
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
        let claim: ClaimedWork?
        do {
            claim = try await queue.claim(worker: worker, lease: configuration.lease)
        } catch {
            logger.warning("claim failed", metadata: ["worker": "\(worker)", "error": .error(error)])
            Counter(label: "fluxbrain_queue_errors_total", dimensions: [("operation", "claim")]).increment()
            try? await Task.sleep(for: .milliseconds(500))
            return true
        }
        guard let claim else { return false }
        await handle(claim, worker: worker)
        return true
    }

    private func workerLoop(id: String) async {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if await processOne(worker: id) { continue }
            do {
                try await cancelWhenGracefulShutdown {
                    try await queue.waitForWork(timeout: configuration.idleWait)
                }
            } catch {
                if Task.isShuttingDownGracefully || Task.isCancelled { break }
                try? await Task.sleep(for: .milliseconds(500))
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
                        metadata: ["requeued": "\(result.requeued)", "deadLettered": "\(result.deadLettered)"])
                    Counter(label: "fluxbrain_queue_reaped_total", dimensions: [("result", "requeued")]).increment(by: result.requeued)
                    Counter(label: "fluxbrain_queue_reaped_total", dimensions: [("result", "dead")]).increment(by: result.deadLettered)
                }
            } catch {
                logger.warning("reap failed", metadata: ["error": .error(error)])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }

    private enum Outcome: Sendable {
        case processed(ProcessingResult)
        case failed(String)
        case leaseLost
        case interrupted
    }

    private func handle(_ claim: ClaimedWork, worker: String) async {
        var logger = logger
        logger[metadataKey: "fingerprint"] = "\(claim.item.incident.fingerprint.short)"
        logger[metadataKey: "object"] = "\(claim.item.incident.object)"
        logger[metadataKey: "cluster"] = "\(claim.item.incident.object.cluster)"
        logger[metadataKey: "transition"] = "\(claim.item.transition.rawValue)"
        logger[metadataKey: "attempt"] = "\(claim.attempts)"
        let started = ContinuousClock.now
        let outcome = await runWithHeartbeat(claim)
        Timer(label: "fluxbrain_work_item_seconds").recordNanoseconds(
            Int64((ContinuousClock.now - started).timeInterval * 1e9))
        do {
            switch outcome {
            case .processed(.done):
                let acked = try await queue.ack(claim)
                Counter(label: "fluxbrain_work_items_total", dimensions: [("result", acked ? "done" : "lost")]).increment()
                logger.debug("processed", metadata: ["acked": "\(acked)"])
            case .processed(.retry(let delay, let reason)):
                _ = try await queue.nack(claim, delay: delay, error: reason)
                Counter(label: "fluxbrain_work_items_total", dimensions: [("result", "retry")]).increment()
                logger.info("will retry", metadata: ["after": "\(delay.formattedShort)", "reason": "\(reason)"])
            case .failed(let error):
                _ = try await queue.nack(claim, delay: .seconds(5), error: error)
                Counter(label: "fluxbrain_work_items_total", dimensions: [("result", "error")]).increment()
                logger.warning("processing failed", metadata: ["error": "\(error)"])
            case .leaseLost:
                Counter(label: "fluxbrain_work_items_total", dimensions: [("result", "lost")]).increment()
                logger.warning("lease lost: stopped before further side effects")
            case .interrupted:
                _ = try await queue.nack(claim, delay: .zero, error: "interrupted by shutdown of \(worker)")
                Counter(label: "fluxbrain_work_items_total", dimensions: [("result", "interrupted")]).increment()
                logger.info("interrupted by shutdown: returned to the queue")
            }
        } catch {
            // The lease will expire and the reaper returns the item: nothing is lost.
            logger.warning("could not ack or nack; the lease will expire", metadata: ["error": .error(error)])
        }
    }

    /// Runs the processor while heartbeating; cancels it when the lease is lost or the drain grace ends.
    private func runWithHeartbeat(_ claim: ClaimedWork) async -> Outcome {
        let processor = processor
        let queue = queue
        let lease = configuration.lease
        let grace = configuration.drainGrace
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
                    try? await Task.sleep(for: lease / 3)
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
                try? await Task.sleep(for: grace)
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
