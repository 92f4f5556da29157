import FluxbrainCore
import FluxbrainIntegrations
import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// Claims work items and processes them: `FLUXBRAIN_WORKERS` workers on every replica, plus the lease reaper.
///
/// Each claim is heartbeated every third of the lease; when a heartbeat finds the claim lost, processing is
/// cancelled before any further side effect. On graceful shutdown workers stop claiming, in-flight items get
/// `drainGrace` to finish, and what is still running then is cancelled and nacked so another replica picks it up.
///
/// A worker processes its items inline, one after another, in one task; beside it runs one guard for the worker's
/// life (not per item) with the heartbeat timer and the drain-grace timer. The guard stops an item by cancelling the
/// worker's task group, so a worker costs no child task and no timer per item; after a lost lease the worker starts
/// afresh.
package struct WorkerPool: Service {
    package struct Configuration: Sendable {
        package var workers: Int
        package var lease: Duration
        package var replicaID: String
        /// How long in-flight items may run after SIGTERM.
        package var drainGrace: Duration
        /// How long an idle worker waits for the doorbell before polling again.
        package var idleWait: Duration
        /// The executor the workers (and their guards) prefer; `nil` for Swift's global one. The service passes the
        /// outbound HTTP connections' event loop (``HTTPClients/workerExecutor``), so that a worker's requests and
        /// their answers cross no thread.
        package var executor: (any TaskExecutor)?

        package init(
            workers: Int,
            lease: Duration,
            replicaID: String,
            drainGrace: Duration = .seconds(20),
            idleWait: Duration = .seconds(2),
            executor: (any TaskExecutor)? = nil
        ) {
            self.workers = workers
            self.lease = lease
            self.replicaID = replicaID
            self.drainGrace = drainGrace
            self.idleWait = idleWait
            self.executor = executor
        }
    }

    private let configuration: Configuration
    private let queue: any WorkQueue
    private let processor: any IncidentProcessor
    private let clock: any Clock<Duration>
    private let metricsFactory: any MetricsFactory
    private let itemSeconds: Timer
    /// `fluxbrain_work_items_total{result}`, made once: a worker counts every item.
    private let itemResults: [ItemResult: Counter]
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
        self.itemResults = Dictionary(
            uniqueKeysWithValues: ItemResult.allCases.map { result in
                (
                    result,
                    Counter(
                        label: "fluxbrain_work_items_total",
                        dimensions: [("result", result.rawValue)],
                        factory: metricsFactory
                    )
                )
            }
        )
        self.logger = logger
    }

    private func count(_ label: String, _ dimensions: [(String, String)], by amount: Int = 1) {
        Counter(label: label, dimensions: dimensions, factory: metricsFactory).increment(by: amount)
    }

    /// How an item ended, the `result` of `fluxbrain_work_items_total`.
    private enum ItemResult: String, CaseIterable {
        case done, lost, retry, error, interrupted
    }

    private func count(_ result: ItemResult) {
        itemResults[result]?.increment()
    }

    package func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<configuration.workers {
                group.addTask(executorPreference: configuration.executor) {
                    await self.workerLoop(id: "\(configuration.replicaID)/\(index)")
                }
            }
            group.addTask { await self.reaperLoop() }
            await group.waitForAll()
        }
    }

    /// Claims and processes one item if there is one (heartbeated and interruptible like a worker's); returns `false`
    /// when the queue was empty.
    @discardableResult
    package func processOne(worker: String) async -> Bool {
        switch await claimOne(worker: worker) {
        case .claimed(let claim):
            let current = CurrentItem()
            let end = await guarded(current) {
                if case .stop(let end) = await self.handle(claim, worker: worker, current: current, claimNext: false) {
                    return end
                }
                return .stopped
            }
            await settle(end, worker: worker)
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

    /// How a worker's items loop (or one guarded item) ended.
    private enum End: Sendable {
        /// Shutdown or cancellation: the worker stops.
        case stopped
        /// The guard found the lease lost and stopped the item (counted and logged): the worker records the item's
        /// `deliveries` and starts afresh.
        case leaseLost(ClaimedWork, deliveries: [PendingDelivery])
        /// The drain grace ended while `claim` was processed: record its `deliveries`, nack it for another replica,
        /// then stop.
        case interrupted(ClaimedWork, deliveries: [PendingDelivery])
    }

    /// Runs the worker's items and its guard until shutdown, starting afresh after a lost lease.
    private func workerLoop(id: String) async {
        let current = CurrentItem()
        while !Task.isCancelled {
            let end = await guarded(current) { await self.items(worker: id, current: current) }
            await settle(end, worker: id)
            guard case .leaseLost = end, !Task.isShuttingDownGracefully else { return }
        }
    }

    /// Records the deliveries of a stopped item and nacks an interrupted one (outside the cancelled task group, so
    /// that neither is cancelled too).
    private func settle(_ end: End, worker: String) async {
        let claim: ClaimedWork
        switch end {
        case .stopped:
            return
        case .leaseLost(let lost, let deliveries):
            await record(deliveries, logger: itemLogger(lost))
            return
        case .interrupted(let interrupted, let deliveries):
            claim = interrupted
            await record(deliveries, logger: itemLogger(claim))
        }
        let logger = itemLogger(claim)
        do {
            _ = try await queue.nack(claim, delay: .zero, error: "interrupted by shutdown of \(worker)")
            count(.interrupted)
            logger.info("interrupted by shutdown: returned to the queue")
        } catch {
            logger.warning("could not ack or nack; the lease will expire", metadata: ["error": .error(error)])
        }
    }

    /// Runs `body` (which processes the items it claims under `current`) beside the guard of `current`; when the
    /// guard stops the current item it cancels `body`, whose processing then ends before further side effects.
    private func guarded(_ current: CurrentItem, _ body: @escaping @Sendable () async -> End) async -> End {
        enum Event: Sendable {
            case finished(End)
            case guardStopped(Bool)
        }
        return await withTaskGroup(of: Event.self) { group in
            group.addTask { .finished(await body()) }
            group.addTask { .guardStopped(await self.guardItems(current)) }
            var end = End.stopped
            for await event in group {
                switch event {
                case .finished(let result):
                    end = result
                    group.cancelAll()
                case .guardStopped(true):
                    group.cancelAll()
                case .guardStopped(false):
                    break
                }
            }
            return end
        }
    }

    /// Claims and processes items until shutdown; an item that is done is acked together with the claim of the next
    /// one (``WorkQueue/ackAndClaim(_:worker:lease:)``, one round trip on Redis).
    private func items(worker: String, current: CurrentItem) async -> End {
        var next: ClaimedWork?
        while !Task.isCancelled {
            let claim: ClaimedWork
            if let carried = next {
                // Claimed with the previous ack: handled like any claimed item, even if shutdown began meanwhile.
                claim = carried
                next = nil
            } else {
                if Task.isShuttingDownGracefully { break }
                switch await claimOne(worker: worker) {
                case .claimed(let claimed):
                    claim = claimed
                case .failed:
                    continue
                case .empty:
                    do {
                        try await cancelWhenGracefulShutdown {
                            try await queue.waitForWork(timeout: configuration.idleWait)
                        }
                    } catch {
                        if Task.isShuttingDownGracefully || Task.isCancelled { return .stopped }
                        try? await clock.sleep(for: .milliseconds(500))
                    }
                    continue
                }
            }
            switch await handle(claim, worker: worker, current: current, claimNext: true) {
            case .next(let claimed): next = claimed
            case .stop(let end): return end
            }
        }
        return .stopped
    }

    /// The guard of a worker's items: heartbeats the current claim every third of the lease, and after SIGTERM
    /// interrupts an item still running when the drain grace ends. Returns `true` when it stopped the current item
    /// (the caller then cancels the processing), `false` when cancelled.
    private func guardItems(_ current: CurrentItem) async -> Bool {
        let queue = queue
        let lease = configuration.lease
        let grace = configuration.drainGrace
        let clock = clock
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                // One timer per worker: every third of the lease, whatever item is current is heartbeated.
                while !Task.isCancelled {
                    try? await clock.sleep(for: lease / 3)
                    if Task.isCancelled { return false }
                    guard let claim = current.claim else { continue }
                    if let alive = try? await queue.heartbeat(claim, lease: lease), !alive,
                        current.stop(claim, because: .leaseLost)
                    {
                        return true
                    }
                }
                return false
            }
            group.addTask {
                // After SIGTERM, give the item in flight `grace` to finish, then interrupt it.
                do {
                    try await gracefulShutdown()
                } catch {
                    return false
                }
                try? await clock.sleep(for: grace)
                if Task.isCancelled { return false }
                guard let claim = current.claim else { return false }
                return current.stop(claim, because: .interrupted)
            }
            for await stopped in group where stopped {
                group.cancelAll()
                return true
            }
            return false
        }
    }

    private enum Outcome: Sendable {
        case processed(ProcessingResult)
        case failed(String)
        case interrupted
    }

    private enum Handled {
        /// Acked or nacked; the item claimed with the ack, if any.
        case next(ClaimedWork?)
        /// The guard stopped the item.
        case stop(End)
    }

    /// The item as the processor sees it: one claimed again (an earlier attempt may have stored a verdict or a
    /// failure) no longer counts as opening its incident.
    static func firstLook(_ claim: ClaimedWork) -> WorkItem {
        var item = claim.item
        if claim.attempts > 1 { item.opensIncident = false }
        return item
    }

    private func itemLogger(_ claim: ClaimedWork) -> Logger {
        var logger = logger
        logger[metadataKey: "fingerprint"] = "\(claim.item.incident.fingerprint.short)"
        logger[metadataKey: "object"] = "\(claim.item.incident.object)"
        logger[metadataKey: "cluster"] = "\(claim.item.incident.object.cluster)"
        logger[metadataKey: "transition"] = "\(claim.item.transition.rawValue)"
        logger[metadataKey: "attempt"] = "\(claim.attempts)"
        return logger
    }

    /// Records `deliveries` one by one (each retried through a short store outage); `repeated`: an earlier attempt
    /// may have applied.
    private func record(_ deliveries: [PendingDelivery], repeated: Bool = false, logger: Logger) async {
        for delivery in deliveries {
            await delivery.record(repeated: repeated, logger: logger)
        }
    }

    /// Processes `claim` as the current item, then acks or nacks it; with `claimNext`, an ack also claims the
    /// worker's next item (unless shutting down), which is returned. An item the guard stopped is neither acked nor
    /// nacked here. Deliveries the processor left unrecorded are recorded with the ack (one round trip on Redis),
    /// else before the nack, or by ``settle(_:worker:)`` for a stopped item.
    private func handle(_ claim: ClaimedWork, worker: String, current: CurrentItem, claimNext: Bool) async -> Handled {
        // Made when something is logged: most items log nothing here, and each metadata value set costs a redaction.
        lazy var logger = itemLogger(claim)
        let elapsed = elapsedTime(on: clock)
        let log = DeliveryLog()
        current.begin(claim)
        let outcome: Outcome
        do {
            outcome = .processed(try await processor.process(Self.firstLook(claim), deliveries: log))
        } catch is CancellationError {
            outcome = .interrupted
        } catch {
            outcome = .failed("\(error)")
        }
        let stopped = current.end()
        let deliveries = log.take()
        itemSeconds.record(duration: elapsed())
        switch stopped {
        case .leaseLost:
            count(.lost)
            logger.warning("lease lost: stopped before further side effects")
            return .stop(.leaseLost(claim, deliveries: deliveries))
        case .interrupted:
            return .stop(.interrupted(claim, deliveries: deliveries))
        case nil:
            break
        }
        if case .processed(.done) = outcome {
            // Recorded with the ack below.
        } else {
            await record(deliveries, logger: logger)
        }
        var next: ClaimedWork?
        do {
            switch outcome {
            case .processed(.done):
                let result: AckAndClaim
                do {
                    result = try await queue.ack(
                        claim,
                        recording: deliveries,
                        thenClaimFor: claimNext && !Task.isShuttingDownGracefully ? worker : nil,
                        lease: configuration.lease
                    )
                } catch {
                    // Each step may or may not have been applied: record the deliveries again (harmless).
                    await record(deliveries, repeated: true, logger: logger)
                    throw error
                }
                for late in result.late { late.reportRecorded(false, logger: logger) }
                if !result.unrecorded.isEmpty { await record(result.unrecorded, repeated: true, logger: logger) }
                next = result.next
                count(result.acked ? .done : .lost)
                if self.logger.logLevel <= .debug { logger.debug("processed", metadata: ["acked": "\(result.acked)"]) }
            case .processed(.retry(let delay, let reason)):
                _ = try await queue.nack(claim, delay: delay, error: reason)
                count(.retry)
                logger.info("will retry", metadata: ["after": "\(delay.formattedShort)", "reason": "\(reason)"])
            case .failed(let error):
                _ = try await queue.nack(claim, delay: .seconds(5), error: error)
                count(.error)
                logger.warning("processing failed", metadata: ["error": "\(error)"])
            case .interrupted:
                // Cancelled from outside (the service group), not by the guard.
                _ = try await queue.nack(claim, delay: .zero, error: "interrupted by shutdown of \(worker)")
                count(.interrupted)
                logger.info("interrupted by shutdown: returned to the queue")
            }
        } catch {
            // The lease will expire and the reaper returns the item: nothing is lost.
            logger.warning("could not ack or nack; the lease will expire", metadata: ["error": .error(error)])
        }
        return .next(next)
    }
}

/// The item a worker is processing, shared with its guard: the guard heartbeats it and may stop it (lease lost,
/// drain grace over); the worker reads, when processing returns, whether it was stopped. Both decide under one lock,
/// so a heartbeat that fails for an item the worker already finished never stops the next one.
final class CurrentItem: Sendable {
    enum Stop: Sendable {
        case leaseLost
        case interrupted
    }

    private let state = Mutex<(claim: ClaimedWork?, stop: Stop?)>((nil, nil))

    /// The claim being processed, if any.
    var claim: ClaimedWork? { state.withLock { $0.claim } }

    /// `claim` is being processed from now on.
    func begin(_ claim: ClaimedWork) {
        state.withLock { $0 = (claim, nil) }
    }

    /// Processing returned; whether the guard had stopped it.
    func end() -> Stop? {
        state.withLock { state in
            defer { state = (nil, nil) }
            return state.stop
        }
    }

    /// Stops `claim` if it is still the one being processed (and not stopped yet); `true` if it did.
    func stop(_ claim: ClaimedWork, because reason: Stop) -> Bool {
        state.withLock { state in
            guard state.claim?.token == claim.token, state.stop == nil else { return false }
            state.stop = reason
            return true
        }
    }
}
