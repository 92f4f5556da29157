import FluxbrainCoordination
import FluxbrainCore
import FluxbrainIntegrations
import FluxbrainRedis
import FluxbrainTestSupport
import Foundation
import Logging
import Metrics
import MetricsTestKit
import ServiceLifecycle
import Synchronization
import Testing

@testable import FluxbrainService

/// The worker pool, leader election and scheduler in process: each behaviour once on `InMemoryCoordination` with
/// a manual clock (time moves only when the test says), and once on a real redis-server in real time.
@Suite struct ServiceLayerTests {
    @Test(arguments: Backend.all)
    func heartbeatKeepsAClaimLongerThanItsLease(_ backend: Backend) async throws {
        try await backend.with { world in
            try await world.processingOneItem { processor, queue, _ in
                // Two full leases pass; every third of one the claim is heartbeated.
                for beat in 1...6 {
                    try await world.elapse(world.lease / 3, sleepers: 2)
                    #expect(await eventually { queue.heartbeats >= beat }, "heartbeat \(beat)")
                }
                #expect(try await world.coordination.reap() == ReapResult())
                #expect(try await world.coordination.stats().leased == 1)
                #expect(processor.cancelled == 0)
                processor.open()
                #expect(try await eventually { try await world.coordination.stats().pending == 0 })
                #expect(await eventually { world.workItems("done") == 1 })
            }
        }
    }

    @Test(arguments: Backend.all)
    func aLostClaimStopsProcessingBeforeAnyFurtherSideEffect(_ backend: Backend) async throws {
        try await backend.with { world in
            try await world.processingOneItem { processor, queue, _ in
                // The worker stalls (its heartbeats reach nobody) for longer than the lease…
                queue.pauseHeartbeats(true)
                for _ in 1...4 { try await world.elapse(world.lease / 3, sleepers: 2) }
                // (The last swallowed heartbeat is done and its task asleep again before heartbeats go through.)
                try await world.elapse(.zero, sleepers: 2)
                // …so the item is reaped and another worker claims it.
                _ = try await world.coordination.reap()
                let other = try #require(try await world.coordination.claim(worker: "other/0", lease: world.lease))
                #expect(other.attempts == 2)
                // The stalled worker's next heartbeat finds the claim gone and cancels its processing.
                queue.pauseHeartbeats(false)
                try await world.elapse(world.lease / 3, sleepers: 2)
                #expect(await eventually { processor.cancelled == 1 })
                #expect(processor.finished == 0)
                #expect(await eventually { world.workItems("lost") == 1 })
                // The stalled worker neither acked nor nacked the other worker's claim.
                #expect(try await world.coordination.heartbeat(other, lease: world.lease))
                // The worker carries on (a fresh guard) and processes the next item to the end.
                #expect(try await world.coordination.ack(other))
                let lease = try #require(try await world.coordination.acquire(replicaID: "leader", ttl: .seconds(3600)))
                _ = try await world.coordination.enqueue(
                    WorkItem(transition: .resolved, incident: FixedSource.incident),
                    lease: lease
                )
                processor.open()
                #expect(await eventually { processor.finished == 1 })
                #expect(processor.started == 2)
                #expect(await eventually { world.workItems("done") == 1 })
            }
        }
    }

    /// Workers run on the executor the service gives them (the outbound HTTP connections' event loop), also after
    /// awaiting the queue (a Redis reply comes from the connection's own thread); without one, on Swift's pool.
    @Test(arguments: Backend.all)
    func workersRunOnTheExecutorTheyAreGiven(_ backend: Backend) async throws {
        try await backend.with { world in
            let executor = HTTPClients().workerExecutor
            for given in [nil, executor] {
                let processor = ExecutorProbe(executor: executor, queue: world.coordination)
                let done = world.workItems("done")
                try await world.enqueueOne()
                try await world.running([world.pool(queue: world.coordination, processor: processor, executor: given)])
                {
                    _ in
                    #expect(await eventually { world.workItems("done") == done + 1 })
                }
                let onLoop = given != nil
                #expect(processor.observed == [onLoop, onLoop], "executor given: \(onLoop)")
            }
        }
    }

    /// An item claimed again (an earlier attempt may have stored a verdict or a failure) no longer counts as opening
    /// its incident; the first claim keeps what the scheduler said.
    @Test func onlyTheFirstClaimOfAnOpeningItemSkipsTheLookup() {
        let opening = WorkItem(transition: .firing, incident: FixedSource.incident, opensIncident: true)
        let reminder = WorkItem(transition: .firing, incident: FixedSource.incident)
        #expect(WorkerPool.firstLook(ClaimedWork(item: opening, token: "t", attempts: 1)).opensIncident)
        #expect(!WorkerPool.firstLook(ClaimedWork(item: opening, token: "t", attempts: 2)).opensIncident)
        #expect(!WorkerPool.firstLook(ClaimedWork(item: reminder, token: "t", attempts: 1)).opensIncident)
    }

    @Test(arguments: Backend.all)
    func shutdownGivesInFlightWorkTheDrainGraceThenReturnsIt(_ backend: Backend) async throws {
        try await backend.with { world in
            try await world.processingOneItem { processor, _, group in
                await group.triggerGracefulShutdown()
                try await world.waitForTimer(world.drainGrace)
                let almost = world.almost(world.drainGrace)
                try await world.elapse(almost, sleepers: 2)
                try await Task.sleep(for: .milliseconds(50))
                #expect(processor.cancelled == 0, "interrupted before the grace ended")
                try await world.elapse(world.drainGrace - almost + world.drainGrace / 10, sleepers: 2)
                #expect(await eventually { processor.cancelled == 1 })
                // Returned to the queue at once, for another replica.
                #expect(
                    try await eventually {
                        let stats = try await world.coordination.stats()
                        return stats.pending == 1 && stats.leased == 0
                    }
                )
                #expect(try await world.coordination.claim(worker: "other/0", lease: world.lease)?.attempts == 2)
                #expect(await eventually { world.workItems("interrupted") == 1 })
            }
        }
    }

    @Test(arguments: Backend.all)
    func aLeaderWhoseRenewsFailStepsDownAtTwoThirdsOfTheTTLBeforeTheLockExpires(_ backend: Backend) async throws {
        try await backend.with { world in
            // The leadership's timers run on a manual clock on both backends. On Redis the world's clock is real, and
            // a loaded machine that stalled the test for 3 s between ⅓ and ⅔ TTL failed the check after the first
            // failed renewal (seen in full-suite runs); Redis's own TTL stays real and is not reached.
            let clock = (world.clock as? ManualClock) ?? ManualClock()
            let ttl = world.ttl
            let lock = FlakyLock(world.coordination)
            let leadership = Leadership(ttl: ttl, clock: clock)
            let election = LeaderElection(
                lock: lock,
                replicaID: "a",
                ttl: ttl,
                leadership: leadership,
                metricsFactory: world.metrics,
                logger: quietLogger
            )
            try await world.running([election]) { _ in
                #expect(await eventually { leadership.currentLease != nil })
                let lease = try #require(leadership.currentLease)
                lock.unreachable(true)
                // Redis becomes unreachable: renewals at ⅓ and ⅔ TTL fail; the acquire (sent at 0) is trusted until ⅔ TTL.
                try await clock.waitForSleepers(1)
                clock.advance(by: ttl / 3)
                #expect(await eventually { lock.failedCalls == 1 })
                #expect(leadership.currentLease == lease)
                try await clock.waitForSleepers(1)
                clock.advance(by: ttl / 3)
                #expect(await eventually { leadership.currentLease == nil })
                // It stopped acting while the lock is still its own: no other replica could lead yet.
                #expect(try await world.coordination.holder() == lease)
                #expect(
                    await eventually {
                        (try? world.metrics.expectGauge("fluxbrain_leader"))?.lastValue == 0
                    }
                )
            }
        }
    }

    @Test(arguments: Backend.all)
    func aStaleLeadersEnqueueIsFencedAndItStepsDown(_ backend: Backend) async throws {
        try await backend.with { world in
            let stale = try #require(try await world.coordination.acquire(replicaID: "a", ttl: world.ttl))
            // Replica a pauses past the TTL; b takes the lock with the next epoch.
            try await world.elapse(world.ttl + world.ttl / 10, sleepers: 0)
            let current = try #require(try await world.coordination.acquire(replicaID: "b", ttl: world.ttl))
            #expect(current.epoch == stale.epoch + 1)

            // Replica a resumes still believing it leads (its own clock says the lease is fresh).
            let leadership = Leadership(ttl: world.ttl, clock: world.clock)
            leadership.update { $0.acquireReturned(stale, sentAt: leadership.now) }
            #expect(leadership.currentLease == stale)
            let scheduler = world.scheduler(leadership: leadership)
            let result = try await scheduler.pass(lease: stale, includeReminders: true)
            #expect(result.fenced)
            #expect(result.enqueued.isEmpty)
            #expect(leadership.currentLease == nil)
            #expect(world.metrics.counterTotal(label: "fluxbrain_fenced_writes_total") == 1)
            #expect(try await world.coordination.stats().pending == 0)

            // The current leader's pass goes through.
            let accepted = try await scheduler.pass(lease: current, includeReminders: true)
            #expect(!accepted.fenced)
            #expect(accepted.enqueued.count == 1)
        }
    }
}

let quietLogger = Logger(label: "fluxbrain.service.test") { _ in SwiftLogNoOpLogHandler() }

/// Where a service-layer test runs: the coordination, the clock the services use, and durations scaled to it.
struct Backend: Sendable, CustomTestStringConvertible {
    var name: String
    var with: @Sendable (_ body: @Sendable (World) async throws -> Void) async throws -> Void

    var testDescription: String { name }

    static let all: [Backend] = [.inMemory, .redis]

    /// `InMemoryCoordination` on a `ManualClock`: production-sized durations, no real waiting.
    static let inMemory = Backend(name: "in-memory, manual clock") { body in
        let clock = ManualClock()
        let coordination = InMemoryCoordination(maxAttempts: 5, clock: clock.wall)
        try await body(
            World(
                coordination: coordination,
                clock: clock,
                lease: .seconds(30),
                ttl: .seconds(15),
                drainGrace: .seconds(20),
                elapse: { duration, sleepers in
                    try await clock.waitForSleepers(sleepers)
                    clock.advance(by: duration)
                },
                waitForTimer: { duration in try await clock.waitForSleeper(until: clock.now.advanced(by: duration)) },
                almost: { $0 - $0 / 10 }
            )
        )
    }

    /// `RedisCoordination` on a real redis-server (lease deadlines from Redis `TIME`): real time, short durations.
    static let redis = Backend(name: "redis") { body in
        try await PlainRedis.with { redis in
            try await withRedisClient(configuration: try redis.configuration(), logger: quietLogger) { client in
                let prefix = "fbsvc:\(UUID().uuidString.prefix(12).lowercased())"
                let coordination = RedisCoordination(
                    client: client,
                    configuration: .init(keyPrefix: prefix, maxAttempts: 5),
                    logger: quietLogger
                )
                do {
                    try await body(
                        World(
                            coordination: coordination,
                            clock: ContinuousClock(),
                            // Real time: long enough that a test stalled for a couple of seconds on a busy
                            // machine (the suite runs in parallel) still acts well inside each window.
                            lease: .milliseconds(4500),
                            ttl: .seconds(9),
                            drainGrace: .seconds(3),
                            elapse: { duration, _ in try await Task.sleep(for: duration) },
                            waitForTimer: { _ in },
                            almost: { $0 / 2 }
                        )
                    )
                } catch {
                    try? await deleteKeys(prefix: prefix, client: client)
                    throw error
                }
                try await deleteKeys(prefix: prefix, client: client)
            }
        }
    }

    private static func deleteKeys(prefix: String, client: RedisClient) async throws {
        let script = "for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end return 0"
        try await client.send("EVAL", script, "0", "\(prefix):*")
    }
}

/// One test's coordination, clock and metrics.
struct World: Sendable {
    var coordination: any WorkQueue & LeaderLock & IncidentIndex
    var clock: any Clock<Duration>
    var lease: Duration
    var ttl: Duration
    var drainGrace: Duration
    /// Lets `duration` pass on the clock; on a manual clock first waits until `sleepers` tasks sleep on it.
    var elapse: @Sendable (_ duration: Duration, _ sleepers: Int) async throws -> Void
    /// Waits until a timer of `duration` was set just now (manual clock); returns at once in real time.
    var waitForTimer: @Sendable (_ duration: Duration) async throws -> Void
    /// How much of `duration` may pass while asserting that it has not passed yet: close to all of it on a manual
    /// clock, half of it in real time (where the test itself may be late).
    var almost: @Sendable (_ duration: Duration) -> Duration
    let metrics = TestMetrics()

    /// `fluxbrain_work_items_total{result}` so far.
    func workItems(_ result: String) -> Int64 {
        metrics.counterTotal(label: "fluxbrain_work_items_total", dimensions: [("result", result)])
    }

    func elapse(_ duration: Duration, sleepers: Int) async throws {
        try await elapse(duration, sleepers)
    }

    /// Takes the lock as replica `leader` and enqueues one firing item under it.
    func enqueueOne() async throws {
        let lease = try #require(try await coordination.acquire(replicaID: "leader", ttl: .seconds(3600)))
        _ = try await coordination.enqueue(WorkItem(transition: .firing, incident: FixedSource.incident), lease: lease)
    }

    /// Enqueues one item and runs a one-worker pool (over an ``ObservedQueue``, with a ``GatedProcessor``) in a
    /// service group; `body` runs once processing started.
    func processingOneItem(_ body: (GatedProcessor, ObservedQueue, ServiceGroup) async throws -> Void) async throws {
        let processor = GatedProcessor()
        let queue = ObservedQueue(coordination)
        try await enqueueOne()
        try await running([pool(queue: queue, processor: processor)]) { group in
            #expect(await eventually { processor.started == 1 })
            try await body(processor, queue, group)
        }
    }

    func pool(
        queue: any WorkQueue,
        processor: any IncidentProcessor,
        executor: (any TaskExecutor)? = nil
    ) -> WorkerPool {
        WorkerPool(
            configuration: .init(
                workers: 1,
                lease: lease,
                replicaID: "r",
                drainGrace: drainGrace,
                idleWait: .seconds(2),
                executor: executor
            ),
            queue: queue,
            processor: processor,
            clock: clock,
            metricsFactory: metrics,
            logger: quietLogger
        )
    }

    func scheduler(leadership: Leadership) -> Scheduler {
        Scheduler(
            configuration: .init(resyncInterval: .seconds(60)),
            source: FixedSource(),
            queue: coordination,
            index: coordination,
            leadership: leadership,
            clock: clock,
            wallClock: SystemWallClock(),
            metricsFactory: metrics,
            logger: quietLogger
        )
    }

    /// Runs `services` in a `ServiceGroup` while `body` runs, then shuts the group down.
    func running(_ services: [any Service], _ body: (ServiceGroup) async throws -> Void) async throws {
        let group = ServiceGroup(
            configuration: .init(services: services.map { .init(service: $0) }, logger: quietLogger)
        )
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                try await body(group)
            } catch {
                tasks.cancelAll()
                throw error
            }
            tasks.cancelAll()
        }
    }
}

/// A processor that runs until the test opens its gate, or until it is cancelled.
final class GatedProcessor: IncidentProcessor {
    private struct State {
        var isOpen = false
        var started = 0
        var cancelled = 0
        var finished = 0
    }

    private let state = Mutex(State())

    var started: Int { state.withLock { $0.started } }
    var cancelled: Int { state.withLock { $0.cancelled } }
    var finished: Int { state.withLock { $0.finished } }

    func open() { state.withLock { $0.isOpen = true } }

    func process(_ item: WorkItem) async throws -> ProcessingResult {
        state.withLock { $0.started += 1 }
        do {
            while !state.withLock({ $0.isOpen }) { try await Task.sleep(for: .milliseconds(5)) }
        } catch {
            state.withLock { $0.cancelled += 1 }
            throw error
        }
        state.withLock { $0.finished += 1 }
        return .done
    }
}

/// A processor that notes, for each item, whether it runs on `executor`'s loop when it starts and after awaiting
/// `queue`.
final class ExecutorProbe: IncidentProcessor {
    private let executor: EventLoopTaskExecutor
    private let queue: any WorkQueue
    private let seen = Mutex<[Bool]>([])

    init(executor: EventLoopTaskExecutor, queue: any WorkQueue) {
        self.executor = executor
        self.queue = queue
    }

    var observed: [Bool] { seen.withLock { $0 } }

    func process(_ item: WorkItem) async throws -> ProcessingResult {
        seen.withLock { $0.append(executor.isCurrent) }
        _ = try await queue.stats()
        seen.withLock { $0.append(executor.isCurrent) }
        return .done
    }
}

/// A work queue that counts heartbeats and can swallow them, as a stalled worker's would be.
final class ObservedQueue: WorkQueue {
    private let base: any WorkQueue
    private let state = Mutex((heartbeats: 0, paused: false))
    private let acks = Mutex((failing: false, failed: 0))
    private let batches = Mutex<[Int]>([])

    init(_ base: any WorkQueue) { self.base = base }

    var heartbeats: Int { state.withLock { $0.heartbeats } }
    func pauseHeartbeats(_ paused: Bool) { state.withLock { $0.paused = paused } }

    /// Combined acks (``WorkQueue/ack(_:recording:thenClaimFor:lease:)``) fail from now on, as over a lost
    /// connection (nothing applied).
    func failAcks() { acks.withLock { $0.failing = true } }

    /// Combined acks that failed.
    var failedAcks: Int { acks.withLock { $0.failed } }

    struct LostConnection: Error {}

    func ack(
        _ claim: ClaimedWork,
        recording deliveries: [PendingDelivery],
        thenClaimFor worker: String?,
        lease: Duration
    ) async throws -> AckAndClaim {
        let failing = acks.withLock { acks in
            if acks.failing { acks.failed += 1 }
            return acks.failing
        }
        if failing { throw LostConnection() }
        return try await base.ack(claim, recording: deliveries, thenClaimFor: worker, lease: lease)
    }

    func heartbeat(_ claim: ClaimedWork, lease: Duration) async throws -> Bool {
        if state.withLock({ $0.paused }) { return true }
        let alive = try await base.heartbeat(claim, lease: lease)
        state.withLock { $0.heartbeats += 1 }
        return alive
    }

    func enqueue(_ item: WorkItem, lease: LeaderLease) async throws -> EnqueueResult {
        try await base.enqueue(item, lease: lease)
    }
    /// The sizes of the batches given to ``enqueue(_:lease:)-([WorkItem],_)``.
    var enqueueBatches: [Int] { batches.withLock { $0 } }
    func enqueue(_ items: [WorkItem], lease: LeaderLease) async throws -> [EnqueueResult] {
        batches.withLock { $0.append(items.count) }
        return try await base.enqueue(items, lease: lease)
    }
    func claim(worker: String, lease: Duration) async throws -> ClaimedWork? {
        try await base.claim(worker: worker, lease: lease)
    }
    func ack(_ claim: ClaimedWork) async throws -> Bool { try await base.ack(claim) }
    func nack(_ claim: ClaimedWork, delay: Duration, error: String) async throws -> Bool {
        try await base.nack(claim, delay: delay, error: error)
    }
    func reap() async throws -> ReapResult { try await base.reap() }
    func stats() async throws -> QueueStats { try await base.stats() }
    func deadLetters(limit: Int) async throws -> [DeadLetter] { try await base.deadLetters(limit: limit) }
    func requeueDead(key: String?) async throws -> Int { try await base.requeueDead(key: key) }
    func isPending(key: String) async throws -> Bool { try await base.isPending(key: key) }
    func waitForWork(timeout: Duration) async throws { try await base.waitForWork(timeout: timeout) }
}

/// A leader lock that can be made unreachable: acquire and renew fail, as when Redis cannot be reached.
final class FlakyLock: LeaderLock {
    struct Unreachable: Error {}

    private let base: any LeaderLock
    private let state = Mutex((failing: false, failed: 0))

    init(_ base: any LeaderLock) { self.base = base }

    /// Acquire and renew calls that failed.
    var failedCalls: Int { state.withLock { $0.failed } }
    func unreachable(_ failing: Bool) { state.withLock { $0.failing = failing } }

    private func check() throws {
        let failing = state.withLock { state in
            if state.failing { state.failed += 1 }
            return state.failing
        }
        if failing { throw Unreachable() }
    }

    func renew(_ lease: LeaderLease, ttl: Duration) async throws -> Bool {
        try check()
        return try await base.renew(lease, ttl: ttl)
    }

    func acquire(replicaID: String, ttl: Duration) async throws -> LeaderLease? {
        try check()
        return try await base.acquire(replicaID: replicaID, ttl: ttl)
    }
    func release(_ lease: LeaderLease) async throws { try await base.release(lease) }
    func holder() async throws -> LeaderLease? { try await base.holder() }
}

/// One cluster with one failing Kustomization.
struct FixedSource: IncidentSource {
    static let incident = Incident(
        object: ObjectReference(cluster: "prod", kind: .kustomization, namespace: "flux-system", name: "apps"),
        state: .retrying,
        reason: "BuildFailed",
        message: "kustomize build failed",
        revision: "main@sha1:1",
        detectedAt: Date(timeIntervalSince1970: 1_800_000_000)
    )

    func assess(now: Date) async throws -> SourceAssessment {
        SourceAssessment(clusters: [
            ClusterAssessment(cluster: "prod", assessment: Assessment(incidents: [Self.incident]))
        ])
    }
    func enrich(_ incidents: [Incident]) async -> [Incident] { incidents }
    func waitForChange(timeout: Duration) async throws {}
}
