import FluxbrainCore
import Foundation
import Synchronization

/// The behaviour every `WorkQueue & LeaderLock & IncidentIndex` implementation must have, as a list of cases that
/// run against any implementation: the in-memory one (virtual time) and the Redis one (real time, Redis `TIME`).
///
/// ```swift
/// @Test(arguments: WorkQueueConformance.cases)
/// func conformance(_ check: WorkQueueConformance.Case) async throws {
///     try await check.run(on: .inMemory())
/// }
/// ```
///
/// A failed expectation throws ``WorkQueueConformance/Failure`` naming the case and the line; the test framework
/// reports it. Times are in multiples of the subject's ``Subject/unit``: leases that must expire last one unit (four
/// when the holder must still act first) and the check waits one unit longer; leases that must stay valid last thirty
/// units, so a slow machine does not make the checks flaky.
package enum WorkQueueConformance {
    /// Everything the cases need.
    package typealias Coordination = WorkQueue & LeaderLock & IncidentIndex

    /// An implementation under test.
    package struct Subject: Sendable {
        /// Shown in test names.
        package var name: String
        /// The time step of the checks (in-memory: virtual; Redis: real, a few hundred milliseconds).
        package var unit: Duration
        /// Runs `body` with a fresh, empty coordination (dead-lettering after `maxAttempts` claims) and a way to
        /// let its time pass. Two replicas of one installation share the same instance.
        package var with:
            @Sendable (
                _ maxAttempts: Int,
                _ body:
                    @Sendable (any Coordination, _ advance: @escaping @Sendable (Duration) async throws -> Void)
                    async throws
                    -> Void
            ) async throws -> Void

        /// - Parameters:
        ///   - name: shown in test names.
        ///   - unit: the time step of the checks.
        ///   - with: runs a body with a fresh coordination and its time control.
        package init(
            name: String,
            unit: Duration,
            with:
                @escaping @Sendable (
                    _ maxAttempts: Int,
                    _ body:
                        @Sendable (any Coordination, _ advance: @escaping @Sendable (Duration) async throws -> Void)
                        async throws
                        -> Void
                ) async throws -> Void
        ) {
            self.name = name
            self.unit = unit
            self.with = with
        }

        /// `InMemoryCoordination` on a manual clock: advancing is instant.
        package static func inMemory() -> Subject {
            Subject(name: "in-memory", unit: .seconds(1)) { maxAttempts, body in
                let clock = ManualClock(start: Date(timeIntervalSince1970: 1_780_000_000))
                let coordination = InMemoryCoordination(maxAttempts: maxAttempts, clock: clock.wall)
                try await body(coordination) { clock.advance(by: $0) }
            }
        }
    }

    /// One behaviour.
    package struct Case: Sendable, CustomStringConvertible {
        /// What the case shows, as a sentence.
        package var name: String
        /// `maxAttempts` for the coordination under test.
        package var maxAttempts: Int
        let body: @Sendable (Context) async throws -> Void

        /// Runs the case on `subject`; again, on a fresh coordination, when a stalled machine made it miss a window on
        /// real time (``MissedWindow``).
        package func run(on subject: Subject) async throws {
            try await retryingMissedWindows {
                try await subject.with(maxAttempts) { coordination, advance in
                    try await body(
                        Context(name: name, coordination: coordination, unit: subject.unit, advance: advance)
                    )
                }
            }
        }

        package var description: String { name }
    }

    /// A failed expectation.
    package struct Failure: Error, CustomStringConvertible {
        package var description: String
    }

    /// What a case body works with.
    struct Context: Sendable {
        var name: String
        var coordination: any Coordination
        var unit: Duration
        var advance: @Sendable (Duration) async throws -> Void

        /// Lets `units` units of the coordination's time pass.
        func wait(_ units: Int) async throws { try await advance(unit * units) }

        /// Runs `call`, whose answer depends on a deadline `units` after `start` (read before the call that set it),
        /// and throws ``MissedWindow`` unless it returned before that deadline: on real time a stalled machine can
        /// miss it, and the answer then shows nothing (nor does an error it threw, e.g. a lease fenced because it
        /// expired during the stall).
        func inside<T>(
            _ units: Int,
            since start: ContinuousClock.Instant,
            line: Int = #line,
            _ call: () async throws -> T
        ) async throws -> T {
            let value: T
            do {
                value = try await call()
            } catch {
                try requireInside(unit * units, since: start, "[\(name)] line \(line)")
                throw error
            }
            try requireInside(unit * units, since: start, "[\(name)] line \(line)")
            return value
        }

        func check(_ condition: Bool, _ message: @autoclosure () -> String, line: Int = #line) throws {
            if !condition { throw Failure(description: "[\(name)] line \(line): \(message())") }
        }

        func checkEqual<T: Equatable>(_ actual: T, _ expected: T, _ what: String, line: Int = #line) throws {
            try check(actual == expected, "\(what): expected \(expected), got \(actual)", line: line)
        }

        func checkFenced(_ what: String, line: Int = #line, _ body: () async throws -> Void) async throws {
            do {
                try await body()
            } catch is FencedError {
                return
            }
            throw Failure(description: "[\(name)] line \(line): \(what) was not fenced")
        }
    }

    private static func make(
        _ name: String,
        maxAttempts: Int = 5,
        _ body: @escaping @Sendable (Context) async throws -> Void
    )
        -> Case
    {
        Case(name: name, maxAttempts: maxAttempts, body: body)
    }

    // MARK: Fixtures

    /// Runs `body` in a child task and reports whether it returned before `guardTime` of real time passed; a
    /// guard against hanging, generous so that a busy machine never trips it. On `false` the child is cancelled.
    static func returnsWithin(
        _ guardTime: Duration,
        _ body: @escaping @Sendable () async throws -> Void
    ) async throws -> Bool {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await body()
                return true
            }
            group.addTask {
                try? await Task.sleep(for: guardTime)
                return false
            }
            let first = try await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    /// A work item for object `app<n>` in cluster `c1`.
    package static func item(_ n: Int, transition: WorkItem.Transition = .firing, cluster: String = "c1") -> WorkItem {
        WorkItem(transition: transition, incident: incident(n, cluster: cluster))
    }

    /// An incident of object `app<n>` (reason `BuildFailed`, revision `main@sha1:<revision>`).
    package static func incident(_ n: Int, cluster: String = "c1", revision: Int? = nil) -> Incident {
        Incident(
            object: ObjectReference(cluster: cluster, kind: .kustomization, namespace: "apps", name: "app\(n)"),
            state: .retrying,
            reason: "BuildFailed",
            message: "kustomize build failed for app\(n)",
            revision: "main@sha1:\(revision ?? n)",
            detectedAt: Date(timeIntervalSince1970: 1_780_000_000)
        )
    }

    // MARK: Cases

    /// Every case.
    package static let cases: [Case] = lockCases + queueCases + deadLetterCases + indexCases

    static let lockCases: [Case] = [
        make("acquire grants increasing epochs across handovers and is idempotent for the holder") { c in
            let q = c.coordination
            let acquired = ContinuousClock.now
            let a = try await q.acquire(replicaID: "replica-a", ttl: c.unit * 4)
            try c.check(a != nil, "replica-a could not acquire a free lock")
            let again = try await c.inside(4, since: acquired) {
                try await q.acquire(replicaID: "replica-a", ttl: c.unit * 4)
            }
            try c.checkEqual(again, a, "a retried acquire by the holder")
            let other = try await c.inside(4, since: acquired) {
                try await q.acquire(replicaID: "replica-b", ttl: c.unit * 30)
            }
            try c.checkEqual(other, nil, "acquire while held")
            try c.checkEqual(try await c.inside(4, since: acquired) { try await q.holder() }, a, "holder")
            try await c.wait(5)
            try c.checkEqual(try await q.holder(), nil, "holder after the TTL")
            let b = try requireValue(
                try await q.acquire(replicaID: "replica-b", ttl: c.unit * 30),
                c,
                "replica-b acquire"
            )
            try c.check(b.epoch > a!.epoch, "epoch \(b.epoch) after handover is not above \(a!.epoch)")
            try await q.release(b)
            let a2 = try requireValue(try await q.acquire(replicaID: "replica-a", ttl: c.unit * 30), c, "re-acquire")
            try c.check(a2.epoch > b.epoch, "epoch \(a2.epoch) after release is not above \(b.epoch)")
        },
        make("renew extends the holder's lease and fails for a stale lease") { c in
            let q = c.coordination
            let acquired = ContinuousClock.now
            let a = try requireValue(try await q.acquire(replicaID: "replica-a", ttl: c.unit * 4), c, "acquire")
            let renewed = try await c.inside(4, since: acquired) { try await q.renew(a, ttl: c.unit * 30) }
            try c.check(renewed, "the holder could not renew")
            try await c.wait(5)
            try c.checkEqual(try await q.holder(), a, "holder after renewing past the first TTL")
            try await q.release(a)
            let b = try requireValue(try await q.acquire(replicaID: "replica-b", ttl: c.unit * 30), c, "b acquire")
            try c.check(!(try await q.renew(a, ttl: c.unit * 30)), "a stale lease renewed")
            try c.checkEqual(try await q.holder(), b, "holder after a stale renew")
            try c.check(try await q.renew(b, ttl: c.unit * 30), "the new holder could not renew")
        },
        make("renew fails after the lease expired and another replica took over") { c in
            let q = c.coordination
            let a = try requireValue(try await q.acquire(replicaID: "replica-a", ttl: c.unit), c, "acquire")
            try await c.wait(2)
            try c.check(!(try await q.renew(a, ttl: c.unit * 30)), "an expired lease renewed")
            let b = try requireValue(try await q.acquire(replicaID: "replica-b", ttl: c.unit * 30), c, "b acquire")
            try c.check(!(try await q.renew(a, ttl: c.unit * 30)), "a stale lease renewed over a new holder")
            try c.checkEqual(try await q.holder(), b, "holder")
        },
        make("release deletes the lock only for its holder") { c in
            let q = c.coordination
            let a = try requireValue(try await q.acquire(replicaID: "replica-a", ttl: c.unit * 30), c, "acquire")
            try await q.release(LeaderLease(replicaID: "replica-b", epoch: a.epoch))
            try await q.release(LeaderLease(replicaID: "replica-a", epoch: a.epoch + 1))
            try c.checkEqual(try await q.holder(), a, "holder after foreign releases")
            try await q.release(a)
            try c.checkEqual(try await q.holder(), nil, "holder after the holder released")
        },
        make("a stale leader's enqueue is fenced and adds nothing") { c in
            let q = c.coordination
            let acquired = ContinuousClock.now
            let a = try requireValue(try await q.acquire(replicaID: "replica-a", ttl: c.unit * 4), c, "acquire")
            let enqueued = try await c.inside(4, since: acquired) { try await q.enqueue(item(1), lease: a) }
            try c.checkEqual(enqueued, .enqueued, "enqueue by the holder")
            try await c.wait(5)
            let b = try requireValue(try await q.acquire(replicaID: "replica-b", ttl: c.unit * 30), c, "b acquire")
            try c.check(b.epoch > a.epoch, "epoch did not increase")
            try await c.checkFenced("a stale leader's enqueue") { _ = try await q.enqueue(item(2), lease: a) }
            try await c.checkFenced("a stale leader's duplicate enqueue") { _ = try await q.enqueue(item(1), lease: a) }
            try c.check(!(try await q.isPending(key: item(2).key)), "the fenced item is pending")
            try c.checkEqual(try await q.stats().pending, 1, "pending after the fenced enqueue")
            try c.checkEqual(try await q.enqueue(item(2), lease: b), .enqueued, "enqueue by the new leader")
        },
        make("enqueue without any lock holder is fenced") { c in
            let q = c.coordination
            try await c.checkFenced("enqueue with a made-up lease") {
                _ = try await q.enqueue(item(1), lease: LeaderLease(replicaID: "nobody", epoch: 1))
            }
            try c.checkEqual(
                try await q.stats(),
                QueueStats(ready: 0, delayed: 0, leased: 0, dead: 0, pending: 0),
                "stats"
            )
        },
    ]

    static let queueCases: [Case] = [
        make("a batch enqueue answers per item in order, deduplicates within the batch and against the queue") { c in
            let q = c.coordination
            let lease = try await leader(c)
            try c.checkEqual(try await q.enqueue([], lease: lease), [], "an empty batch")
            _ = try await q.enqueue(item(1), lease: lease)
            let results = try await q.enqueue([item(2), item(1), item(3), item(2)], lease: lease)
            try c.checkEqual(results, [.enqueued, .duplicate, .enqueued, .duplicate], "batch results")
            for n in [1, 2, 3] {
                let claim = try requireValue(try await q.claim(worker: "w1", lease: c.unit * 30), c, "claim \(n)")
                try c.checkEqual(claim.item, item(n), "claimed in enqueue order")
            }
            try c.checkEqual(try await q.claim(worker: "w1", lease: c.unit * 30), nil, "a fourth claim")
        },
        make("a batch larger than one round trip enqueues every item, in order") { c in
            let q = c.coordination
            let lease = try await leader(c)
            let items = (1...300).map { item($0) }
            let results = try await q.enqueue(items, lease: lease)
            try c.checkEqual(results, Array(repeating: .enqueued, count: 300), "batch results")
            try c.checkEqual(try await q.stats().ready, 300, "ready")
            for n in [1, 2] {
                let claim = try requireValue(try await q.claim(worker: "w1", lease: c.unit * 30), c, "claim \(n)")
                try c.checkEqual(claim.item, item(n), "claimed in enqueue order")
            }
        },
        make("a stale leader's batch enqueue is fenced and adds nothing") { c in
            let q = c.coordination
            let lease = try await leader(c)
            try await q.release(lease)
            _ = try requireValue(try await q.acquire(replicaID: "other", ttl: c.unit * 1000), c, "other acquire")
            try await c.checkFenced("a stale batch") { _ = try await q.enqueue([item(1), item(2)], lease: lease) }
            try c.checkEqual(try await q.stats().pending, 0, "pending after the fenced batch")
        },
        make("enqueue deduplicates while the item is queued and while it is leased") { c in
            let q = c.coordination
            let lease = try await leader(c)
            try c.checkEqual(try await q.enqueue(item(1), lease: lease), .enqueued, "first enqueue")
            try c.checkEqual(try await q.enqueue(item(1), lease: lease), .duplicate, "enqueue while queued")
            try c.checkEqual(
                try await q.enqueue(item(1, transition: .resolved), lease: lease),
                .enqueued,
                "the other transition of the same incident"
            )
            let claim = try requireValue(try await q.claim(worker: "w1", lease: c.unit * 30), c, "claim")
            try c.checkEqual(claim.item, item(1), "claimed item")
            try c.checkEqual(try await q.enqueue(item(1), lease: lease), .duplicate, "enqueue while leased")
            try c.check(try await q.ack(claim), "ack")
            try c.checkEqual(try await q.enqueue(item(1), lease: lease), .enqueued, "enqueue after the ack")
        },
        make("claim then ack removes the item for good") { c in
            let q = c.coordination
            let lease = try await leader(c)
            _ = try await q.enqueue(item(1), lease: lease)
            try c.check(try await q.isPending(key: item(1).key), "not pending after enqueue")
            let claim = try requireValue(try await q.claim(worker: "w1", lease: c.unit * 30), c, "claim")
            try c.checkEqual(claim.attempts, 1, "attempts of the first claim")
            try c.checkEqual(claim.item, item(1), "claimed item")
            try c.check(try await q.isPending(key: item(1).key), "not pending while leased")
            try c.checkEqual(try await q.claim(worker: "w2", lease: c.unit * 30), nil, "a second claim")
            try c.check(try await q.ack(claim), "ack")
            try c.check(!(try await q.ack(claim)), "a second ack")
            try c.check(!(try await q.isPending(key: item(1).key)), "pending after ack")
            try c.checkEqual(
                try await q.stats(),
                QueueStats(ready: 0, delayed: 0, leased: 0, dead: 0, pending: 0),
                "stats"
            )
            try c.checkEqual(try await q.reap(), ReapResult(), "reap after ack")
        },
        make("ackAndClaim acks like ack (only for the current token) and claims the next item like claim") { c in
            let q = c.coordination
            let lease = try await leader(c)
            for n in 1...2 { _ = try await q.enqueue(item(n), lease: lease) }
            let first = try requireValue(try await q.claim(worker: "w1", lease: c.unit * 30), c, "claim")
            // The next item is leased for one unit only, so it can be lost below.
            let done = try await q.ackAndClaim(first, worker: "w1", lease: c.unit)
            try c.check(done.acked, "ackAndClaim did not ack a current claim")
            try c.checkEqual(done.next?.item, item(2), "the item claimed with the ack")
            try c.checkEqual(done.next?.attempts, 1, "attempts of the item claimed with the ack")
            try c.check(!(try await q.isPending(key: item(1).key)), "the acked item is still pending")
            let second = try requireValue(done.next, c, "next")
            let repeated = try await q.ackAndClaim(first, worker: "w1", lease: c.unit * 30)
            try c.check(!repeated.acked, "a second ackAndClaim acked again")
            try c.checkEqual(repeated.next, nil, "claim from an empty queue")
            // The second item's lease expires and the reaper returns it: the stale claim is not acked, and the same
            // call claims the item again under a new token.
            try await c.wait(2)
            try c.checkEqual(try await q.reap(), ReapResult(requeued: 1, deadLettered: 0), "reap")
            let late = try await q.ackAndClaim(second, worker: "w1", lease: c.unit * 30)
            try c.check(!late.acked, "ackAndClaim acked a lost claim")
            let again = try requireValue(late.next, c, "the reaped item claimed again")
            try c.checkEqual(again.item, item(2), "item claimed again")
            try c.checkEqual(again.attempts, 2, "attempts after the lost lease")
            try c.check(again.token != second.token, "the new claim reuses the lost token")
            let last = try await q.ackAndClaim(again, worker: "w1", lease: c.unit * 30)
            try c.check(last.acked, "ackAndClaim of the new claim")
            try c.checkEqual(
                try await q.stats(),
                QueueStats(ready: 0, delayed: 0, leased: 0, dead: 0, pending: 0),
                "stats"
            )
        },
        make("claims come out in enqueue order") { c in
            let q = c.coordination
            let lease = try await leader(c)
            for n in 1...3 { _ = try await q.enqueue(item(n), lease: lease) }
            for n in 1...3 {
                let claim = try requireValue(try await q.claim(worker: "w", lease: c.unit * 30), c, "claim \(n)")
                try c.checkEqual(claim.item.key, item(n).key, "claim \(n)")
            }
        },
        make("heartbeat extends the lease past its first deadline") { c in
            let q = c.coordination
            let lease = try await leader(c)
            _ = try await q.enqueue(item(1), lease: lease)
            let claimed = ContinuousClock.now
            let claim = try requireValue(try await q.claim(worker: "w1", lease: c.unit), c, "claim")
            let extended = try await c.inside(1, since: claimed) { try await q.heartbeat(claim, lease: c.unit * 30) }
            try c.check(extended, "heartbeat")
            try await c.wait(2)
            try c.checkEqual(try await q.reap(), ReapResult(), "reap of a heartbeated lease")
            try c.check(try await q.heartbeat(claim, lease: c.unit * 30), "second heartbeat")
            try c.check(try await q.ack(claim), "ack after heartbeats")
        },
        make("an expired lease is reaped to the front of the queue with its attempts kept") { c in
            let q = c.coordination
            let lease = try await leader(c)
            _ = try await q.enqueue(item(1), lease: lease)
            _ = try await q.enqueue(item(2), lease: lease)
            let first = try requireValue(try await q.claim(worker: "w1", lease: c.unit), c, "claim")
            try c.checkEqual(first.item.key, item(1).key, "first claim")
            try await c.wait(2)
            try c.checkEqual(try await q.reap(), ReapResult(requeued: 1, deadLettered: 0), "reap")
            try c.checkEqual(try await q.reap(), ReapResult(), "a second reap")
            let again = try requireValue(try await q.claim(worker: "w2", lease: c.unit * 30), c, "re-claim")
            try c.checkEqual(again.item.key, item(1).key, "the reaped item comes first")
            try c.checkEqual(again.attempts, 2, "attempts after a reap")
            try c.check(again.token != first.token, "the re-claim reused the token")
        },
        make("heartbeat, ack and nack of a claim that was reaped and re-claimed return false") { c in
            let q = c.coordination
            let lease = try await leader(c)
            _ = try await q.enqueue(item(1), lease: lease)
            let lost = try requireValue(try await q.claim(worker: "w1", lease: c.unit), c, "claim")
            try await c.wait(2)
            _ = try await q.reap()
            let current = try requireValue(try await q.claim(worker: "w2", lease: c.unit * 30), c, "re-claim")
            try c.check(!(try await q.heartbeat(lost, lease: c.unit * 30)), "heartbeat of the lost claim")
            try c.check(!(try await q.ack(lost)), "ack of the lost claim")
            try c.check(!(try await q.nack(lost, delay: .zero, error: "late")), "nack of the lost claim")
            try c.check(try await q.heartbeat(current, lease: c.unit * 30), "heartbeat of the current claim")
            try c.check(try await q.ack(current), "ack of the current claim")
        },
        make("a lost claim whose lease expired cannot be acked after the reap") { c in
            let q = c.coordination
            let lease = try await leader(c)
            _ = try await q.enqueue(item(1), lease: lease)
            let lost = try requireValue(try await q.claim(worker: "w1", lease: c.unit), c, "claim")
            try await c.wait(2)
            _ = try await q.reap()
            try c.check(!(try await q.ack(lost)), "ack after the reap")
            try c.check(!(try await q.heartbeat(lost, lease: c.unit)), "heartbeat after the reap")
            try c.check(try await q.isPending(key: item(1).key), "the reaped item is no longer pending")
        },
        make("nack with a delay keeps the item away until the delay has passed") { c in
            let q = c.coordination
            let lease = try await leader(c)
            _ = try await q.enqueue(item(1), lease: lease)
            let claim = try requireValue(try await q.claim(worker: "w1", lease: c.unit * 30), c, "claim")
            let nacked = ContinuousClock.now
            try c.check(try await q.nack(claim, delay: c.unit * 4, error: "analysis unavailable"), "nack")
            let during = try await c.inside(4, since: nacked) { try await q.claim(worker: "w1", lease: c.unit * 30) }
            try c.checkEqual(during, nil, "claim during the delay")
            let stats = try await c.inside(4, since: nacked) { try await q.stats() }
            try c.checkEqual(stats.delayed, 1, "delayed")
            try c.checkEqual(stats.leased, 0, "leased")
            try c.check(try await q.isPending(key: item(1).key), "a delayed item is not pending")
            let duplicate = try await c.inside(4, since: nacked) { try await q.enqueue(item(1), lease: lease) }
            try c.checkEqual(duplicate, .duplicate, "enqueue while delayed")
            try await c.wait(5)
            let again = try requireValue(try await q.claim(worker: "w2", lease: c.unit * 30), c, "claim after delay")
            try c.checkEqual(again.item.key, item(1).key, "claimed after the delay")
            try c.checkEqual(again.attempts, 2, "attempts after a nack")
        },
        make("nack with zero delay makes the item claimable at once") { c in
            let q = c.coordination
            let lease = try await leader(c)
            _ = try await q.enqueue(item(1), lease: lease)
            let claim = try requireValue(try await q.claim(worker: "w1", lease: c.unit * 30), c, "claim")
            try c.check(try await q.nack(claim, delay: .zero, error: "shutdown"), "nack")
            let again = try requireValue(try await q.claim(worker: "w2", lease: c.unit * 30), c, "re-claim")
            try c.checkEqual(again.attempts, 2, "attempts")
        },
        make("stats count ready, delayed, leased, dead and pending items") { c in
            let q = c.coordination
            let lease = try await leader(c)
            for n in 1...3 { _ = try await q.enqueue(item(n), lease: lease) }
            _ = try requireValue(try await q.claim(worker: "w", lease: c.unit * 30), c, "claim 1")
            let second = try requireValue(try await q.claim(worker: "w", lease: c.unit * 30), c, "claim 2")
            _ = try await q.nack(second, delay: c.unit * 30, error: "later")
            try c.checkEqual(
                try await q.stats(),
                QueueStats(ready: 1, delayed: 1, leased: 1, dead: 0, pending: 3),
                "stats"
            )
        },
        make("waitForWork returns without waiting out its timeout when work is queued") { c in
            let q = c.coordination
            let lease = try await leader(c)
            _ = try await q.enqueue(item(1), lease: lease)
            // Nothing lets the coordination's time pass here (a manual clock stands still; Redis would block for 240
            // units), so only queued work can end the wait before the 30 s guard, which is not the thing checked.
            let returned = try await returnsWithin(.seconds(30)) { try await q.waitForWork(timeout: c.unit * 240) }
            try c.check(returned, "waitForWork waited for its timeout with work queued")
        },
    ]

    static let deadLetterCases: [Case] = [
        make("nacks dead-letter an item after maxAttempts claims and keep the last error", maxAttempts: 2) { c in
            let q = c.coordination
            let lease = try await leader(c)
            _ = try await q.enqueue(item(1), lease: lease)
            let first = try requireValue(try await q.claim(worker: "w", lease: c.unit * 30), c, "claim 1")
            try c.check(try await q.nack(first, delay: .zero, error: "boom 1"), "nack 1")
            let second = try requireValue(try await q.claim(worker: "w", lease: c.unit * 30), c, "claim 2")
            try c.checkEqual(second.attempts, 2, "attempts")
            try c.check(try await q.nack(second, delay: .zero, error: "boom 2"), "nack 2")
            try c.checkEqual(try await q.claim(worker: "w", lease: c.unit * 30), nil, "claim of a dead item")
            try c.check(!(try await q.isPending(key: item(1).key)), "a dead item is pending")
            let stats = try await q.stats()
            try c.checkEqual(stats.dead, 1, "dead")
            try c.checkEqual(stats.pending, 0, "pending")
            let letters = try await q.deadLetters(limit: 10)
            try c.checkEqual(letters.count, 1, "dead letters")
            try c.checkEqual(letters.first?.key, item(1).key, "dead letter key")
            try c.checkEqual(letters.first?.item, item(1), "dead letter item")
            try c.checkEqual(letters.first?.attempts, 2, "dead letter attempts")
            try c.checkEqual(letters.first?.lastError, "boom 2", "dead letter error")
        },
        make("expired leases dead-letter an item after maxAttempts claims", maxAttempts: 2) { c in
            let q = c.coordination
            let lease = try await leader(c)
            _ = try await q.enqueue(item(1), lease: lease)
            _ = try requireValue(try await q.claim(worker: "w", lease: c.unit), c, "claim 1")
            try await c.wait(2)
            try c.checkEqual(try await q.reap(), ReapResult(requeued: 1, deadLettered: 0), "first reap")
            _ = try requireValue(try await q.claim(worker: "w", lease: c.unit), c, "claim 2")
            try await c.wait(2)
            try c.checkEqual(try await q.reap(), ReapResult(requeued: 0, deadLettered: 1), "second reap")
            let letters = try await q.deadLetters(limit: 10)
            try c.checkEqual(letters.map(\.key), [item(1).key], "dead letters")
            try c.checkEqual(letters.first?.attempts, 2, "attempts")
            try c.check(
                letters.first?.lastError?.contains("lease expired") == true,
                "last error \(String(describing: letters.first?.lastError))"
            )
            try c.check(!(try await q.isPending(key: item(1).key)), "a dead item is pending")
        },
        make("an item nacked once and then lost keeps the nack's error when dead-lettered", maxAttempts: 2) { c in
            let q = c.coordination
            let lease = try await leader(c)
            _ = try await q.enqueue(item(1), lease: lease)
            let first = try requireValue(try await q.claim(worker: "w", lease: c.unit * 30), c, "claim 1")
            _ = try await q.nack(first, delay: .zero, error: "HTTP 503")
            _ = try requireValue(try await q.claim(worker: "w", lease: c.unit), c, "claim 2")
            try await c.wait(2)
            try c.checkEqual(try await q.reap().deadLettered, 1, "dead-lettered by the reap")
            try c.checkEqual(try await q.deadLetters(limit: 1).first?.lastError, "HTTP 503", "last error")
        },
        make("requeueDead brings a dead letter back once, with attempts reset", maxAttempts: 1) { c in
            let q = c.coordination
            let lease = try await leader(c)
            _ = try await q.enqueue(item(1), lease: lease)
            _ = try await q.enqueue(item(2), lease: lease)
            for _ in 1...2 {
                let claim = try requireValue(try await q.claim(worker: "w", lease: c.unit * 30), c, "claim")
                _ = try await q.nack(claim, delay: .zero, error: "poison")
            }
            try c.checkEqual(try await q.deadLetters(limit: 10).map(\.key), [item(1).key, item(2).key], "dead letters")
            try c.checkEqual(try await q.deadLetters(limit: 1).map(\.key), [item(1).key], "limited dead letters")
            try c.checkEqual(try await q.requeueDead(key: item(1).key), 1, "requeue one")
            try c.checkEqual(try await q.requeueDead(key: item(1).key), 0, "requeue it again")
            try c.checkEqual(try await q.requeueDead(key: "no-such-key"), 0, "requeue an unknown key")
            try c.check(try await q.isPending(key: item(1).key), "the requeued item is not pending")
            try c.checkEqual(try await q.enqueue(item(1), lease: lease), .duplicate, "enqueue of the requeued item")
            try c.checkEqual(
                try await q.stats(),
                QueueStats(ready: 1, delayed: 0, leased: 0, dead: 1, pending: 1),
                "stats"
            )
            let claim = try requireValue(try await q.claim(worker: "w", lease: c.unit * 30), c, "claim requeued")
            try c.checkEqual(claim.item.key, item(1).key, "requeued item")
            try c.checkEqual(claim.attempts, 1, "attempts after requeue")
            try c.checkEqual(try await q.claim(worker: "w", lease: c.unit * 30), nil, "a second claim")
            try c.checkEqual(try await q.requeueDead(key: nil), 1, "requeue all")
            try c.checkEqual(try await q.requeueDead(key: nil), 0, "requeue all again")
            try c.checkEqual(try await q.deadLetters(limit: 10), [], "dead letters after requeue all")
        },
        make("enqueueing a dead-lettered key starts it afresh", maxAttempts: 1) { c in
            let q = c.coordination
            let lease = try await leader(c)
            _ = try await q.enqueue(item(1), lease: lease)
            let claim = try requireValue(try await q.claim(worker: "w", lease: c.unit * 30), c, "claim")
            _ = try await q.nack(claim, delay: .zero, error: "poison")
            try c.checkEqual(try await q.enqueue(item(1), lease: lease), .enqueued, "enqueue of a dead key")
            try c.checkEqual(try await q.deadLetters(limit: 10), [], "dead letters after the fresh enqueue")
            let fresh = try requireValue(try await q.claim(worker: "w", lease: c.unit * 30), c, "claim")
            try c.checkEqual(fresh.attempts, 1, "attempts of the fresh item")
            try c.checkEqual(try await q.requeueDead(key: item(1).key), 0, "requeue of a live item")
        },
    ]

    static let indexCases: [Case] = [
        make("the incident index opens, replaces and closes by fingerprint") { c in
            let q = c.coordination
            let lease = try await leader(c)
            let first = incident(1, revision: 1)
            let replacement = incident(1, revision: 2)
            let other = incident(2)
            let elsewhere = incident(1, cluster: "c2")
            try await q.open(first, lease: lease)
            try await q.open(other, lease: lease)
            try await q.open(elsewhere, lease: lease)
            try c.checkEqual(try await q.openIncidents(cluster: "c1"), [first, other], "open in c1")
            try await q.open(replacement, lease: lease)
            try c.checkEqual(try await q.openIncidents(cluster: "c1"), [replacement, other], "after replacing")
            try await q.close(first.object, fingerprint: first.fingerprint, lease: lease)
            try c.checkEqual(
                try await q.openIncidents(cluster: "c1"),
                [replacement, other],
                "after closing the old fingerprint"
            )
            try await q.close(replacement.object, fingerprint: replacement.fingerprint, lease: lease)
            try c.checkEqual(try await q.openIncidents(cluster: "c1"), [other], "after closing")
            try c.checkEqual(try await q.openIncidents(cluster: "c2"), [elsewhere], "the other cluster")
            try c.checkEqual(try await q.openIncidents(cluster: "c3"), [], "an unknown cluster")
        },
        make("the incident index opens and closes batches in order") { c in
            let q = c.coordination
            let lease = try await leader(c)
            let first = incident(1, revision: 1)
            let replacement = incident(1, revision: 2)
            let other = incident(2)
            try await q.open([], lease: lease)
            try await q.open([first, other, replacement, incident(1, cluster: "c2")], lease: lease)
            try c.checkEqual(try await q.openIncidents(cluster: "c1"), [replacement, other], "the later one replaced")
            try await q.close([first, other], lease: lease)
            try c.checkEqual(
                try await q.openIncidents(cluster: "c1"),
                [replacement],
                "after closing the old fingerprint and the other"
            )
            try await q.close([replacement, incident(1, cluster: "c2")], lease: lease)
            try c.checkEqual(try await q.openIncidents(cluster: "c1"), [], "c1 after closing")
            try c.checkEqual(try await q.openIncidents(cluster: "c2"), [], "c2 after closing")
            try await q.release(lease)
            _ = try requireValue(try await q.acquire(replicaID: "other", ttl: c.unit * 1000), c, "other acquire")
            try await c.checkFenced("a stale batch open") { try await q.open([other], lease: lease) }
            try await c.checkFenced("a stale batch close") { try await q.close([other], lease: lease) }
            try c.checkEqual(try await q.openIncidents(cluster: "c1"), [], "after the fenced batch")
        },
        make("incident index writes from a stale leader are fenced") { c in
            let q = c.coordination
            let acquired = ContinuousClock.now
            let stale = try requireValue(try await q.acquire(replicaID: "replica-a", ttl: c.unit * 4), c, "acquire")
            try await c.inside(4, since: acquired) { try await q.open(incident(1), lease: stale) }
            try await c.wait(5)
            let current = try requireValue(
                try await q.acquire(replicaID: "replica-b", ttl: c.unit * 30),
                c,
                "b acquire"
            )
            try await c.checkFenced("a stale open") { try await q.open(incident(2), lease: stale) }
            try await c.checkFenced("a stale close") {
                try await q.close(incident(1).object, fingerprint: incident(1).fingerprint, lease: stale)
            }
            try c.checkEqual(try await q.openIncidents(cluster: "c1"), [incident(1)], "after fenced writes")
            try await q.close(incident(1).object, fingerprint: incident(1).fingerprint, lease: current)
            try c.checkEqual(try await q.openIncidents(cluster: "c1"), [], "after the leader's close")
        },
    ]

    /// Takes the lock for a long time as `leader`.
    static func leader(_ c: Context) async throws -> LeaderLease {
        try requireValue(try await c.coordination.acquire(replicaID: "leader", ttl: c.unit * 1000), c, "acquire")
    }
}

/// Unwraps `value` or fails the case.
func requireValue<T>(
    _ value: T?,
    _ context: WorkQueueConformance.Context,
    _ what: String,
    line: Int = #line
) throws -> T {
    guard let value else {
        throw WorkQueueConformance.Failure(description: "[\(context.name)] line \(line): \(what) returned nil")
    }
    return value
}
