import FluxbrainCore
import Foundation

/// The calls that do the work of several ports at once (one round trip on Redis) must mean exactly the separate
/// calls: ``NotificationStore/claim(fingerprint:channel:status:token:settings:after:)`` (the verdict's write, then
/// the claim) and ``WorkQueue/ack(_:recording:thenClaimFor:lease:)`` (each delivery's `markSent`, then the ack,
/// then the next claim). Run on the in-memory ports (which make the separate calls) and on Redis (one pipeline).
package enum CombinedCallsConformance {
    /// The ports under test, sharing one installation.
    package struct Ports: Sendable {
        package var queue: any WorkQueue & LeaderLock & IncidentIndex
        package var notifications: any NotificationStore
        package var analysis: any AnalysisStore
        /// Lets time pass (a manual clock, or a sleep on real time).
        package var advance: @Sendable (Duration) async throws -> Void

        package init(
            queue: any WorkQueue & LeaderLock & IncidentIndex,
            notifications: any NotificationStore,
            analysis: any AnalysisStore,
            advance: @escaping @Sendable (Duration) async throws -> Void
        ) {
            self.queue = queue
            self.notifications = notifications
            self.analysis = analysis
            self.advance = advance
        }

        /// The in-memory ports on one manual clock.
        package static func inMemory() -> Ports {
            let clock = ManualClock(start: Date(timeIntervalSince1970: 1_780_000_000))
            let wall = clock.wall
            return Ports(
                queue: InMemoryCoordination(maxAttempts: 5, clock: wall),
                notifications: InMemoryNotificationStore(now: { wall.now() }),
                analysis: InMemoryAnalysisStore(clock: wall),
                advance: { clock.advance(by: $0) }
            )
        }
    }

    /// The checks, by name.
    package static let checks: [String] = [
        "claimAfterWriteCachesTheVerdictAndClearsFailuresThenClaims",
        "claimAfterWriteOnAChannelInFlightStillCachesTheVerdict",
        "ackRecordingADeliveryRecordsItAcksAndClaimsTheNextItem",
        "ackRecordingAStaleDeliveryReportsItLateAndStillAcks",
        "ackRecordingOnALostClaimStillRecordsTheDelivery",
        "ackRecordingWithoutAWorkerClaimsNothing",
    ]

    /// Runs the check `name` on `ports`; `unit` is the time step (a lease that must expire lasts one unit).
    package static func run(_ name: String, on ports: Ports, unit: Duration) async throws {
        func check(_ condition: Bool, _ message: @autoclosure () -> String, line: Int = #line) throws {
            if !condition { throw ConformanceFailure(check: name, message: "line \(line): \(message())") }
        }
        let settings = NotificationStoreConformance.settings(unit: unit * 30)
        let queue = ports.queue
        let notifications = ports.notifications
        let result = AnalysisStoreConformance.sampleResult(verdictID: "v-\(name)")
        let item1 = WorkQueueConformance.item(1)
        let item2 = WorkQueueConformance.item(2)
        let fingerprint = item1.incident.fingerprint
        let write = PendingAnalysisWrite(store: ports.analysis, result: result, fingerprint: fingerprint)
        func deliveryClaim(token: String) async throws -> PendingDelivery {
            let claim = try await notifications.claim(
                fingerprint: fingerprint,
                channel: .webhook,
                status: .firing,
                token: token,
                settings: settings
            )
            try check(claim.decision == .send(.firing, sequence: 1), "the claim to deliver: \(claim.decision)")
            return delivery(token: token)
        }
        func delivery(token: String) -> PendingDelivery {
            PendingDelivery(
                store: notifications,
                fingerprint: fingerprint,
                channel: .webhook,
                token: token,
                status: .firing,
                reference: "ref-1",
                sendLease: settings.sendLease
            )
        }
        func enqueue(_ items: [WorkItem]) async throws {
            guard let lease = try await queue.acquire(replicaID: "leader", ttl: unit * 3600) else {
                throw ConformanceFailure(check: name, message: "could not take the lock")
            }
            for item in items { _ = try await queue.enqueue(item, lease: lease) }
        }

        switch name {
        case "claimAfterWriteCachesTheVerdictAndClearsFailuresThenClaims":
            _ = try await ports.analysis.recordFailure(for: fingerprint, reason: "boom", backoff: Backoff())
            let claim = try await notifications.claim(
                fingerprint: fingerprint,
                channel: .webhook,
                status: .firing,
                token: "t1",
                settings: settings,
                after: write
            )
            try check(claim.decision == .send(.firing, sequence: 1), "decision \(claim.decision)")
            let stored = try await ports.analysis.lookup(fingerprint)
            try check(stored.result == result, "the verdict was not cached: \(String(describing: stored.result))")
            try check(stored.failure == nil, "the failure record was not cleared")
            let state = try await notifications.state(fingerprint: fingerprint, channel: .webhook)
            try check(state?.claim?.token == "t1", "the claim is not held by its token")

        case "claimAfterWriteOnAChannelInFlightStillCachesTheVerdict":
            _ = try await deliveryClaim(token: "first")
            let claim = try await notifications.claim(
                fingerprint: fingerprint,
                channel: .webhook,
                status: .firing,
                token: "second",
                settings: settings,
                after: write
            )
            guard case .skipInFlight = claim.decision else {
                throw ConformanceFailure(check: name, message: "a second claim decided \(claim.decision)")
            }
            try check(try await ports.analysis.cachedResult(for: fingerprint) == result, "the verdict was not cached")

        case "ackRecordingADeliveryRecordsItAcksAndClaimsTheNextItem":
            try await enqueue([item1, item2])
            guard let claimed = try await queue.claim(worker: "w", lease: unit * 30) else {
                throw ConformanceFailure(check: name, message: "nothing to claim")
            }
            let pending = try await deliveryClaim(token: "t1")
            let done = try await queue.ack(claimed, recording: [pending], thenClaimFor: "w", lease: unit * 30)
            try check(done.acked, "not acked")
            try check(done.next?.item == item2, "next: \(String(describing: done.next?.item.key))")
            try check(
                done.unrecorded.isEmpty && done.late.isEmpty,
                "unrecorded \(done.unrecorded.count), late \(done.late.count)"
            )
            try check(!(try await queue.isPending(key: item1.key)), "the acked item is still pending")
            let state = try await notifications.state(fingerprint: fingerprint, channel: .webhook)
            try check(state?.notifyCount == 1, "notify count \(String(describing: state?.notifyCount))")
            try check(state?.claim == nil, "the claim was not dropped")
            try check(
                state?.lastStatusNotified == .firing,
                "last status \(String(describing: state?.lastStatusNotified))"
            )
            try check(state?.reference == "ref-1", "reference \(String(describing: state?.reference))")
            // Recorded: the same incident is not due again.
            let again = try await notifications.claim(
                fingerprint: fingerprint,
                channel: .webhook,
                status: .firing,
                token: "t2",
                settings: settings
            )
            guard case .skipNotDue = again.decision else {
                throw ConformanceFailure(check: name, message: "after the recorded delivery: \(again.decision)")
            }

        case "ackRecordingAStaleDeliveryReportsItLateAndStillAcks":
            try await enqueue([item1])
            guard let claimed = try await queue.claim(worker: "w", lease: unit * 30) else {
                throw ConformanceFailure(check: name, message: "nothing to claim")
            }
            _ = try await deliveryClaim(token: "holder")
            let done = try await queue.ack(
                claimed,
                recording: [delivery(token: "stale")],
                thenClaimFor: "w",
                lease: unit * 30
            )
            try check(done.acked, "not acked")
            try check(done.late.map(\.token) == ["stale"], "late: \(done.late.map(\.token))")
            try check(done.unrecorded.isEmpty, "unrecorded \(done.unrecorded.count)")
            try check(done.next == nil, "claimed from an empty queue")
            let state = try await notifications.state(fingerprint: fingerprint, channel: .webhook)
            try check(state?.notifyCount == 0 && state?.claim?.token == "holder", "a stale token changed the state")

        case "ackRecordingOnALostClaimStillRecordsTheDelivery":
            try await enqueue([item1])
            guard let claimed = try await queue.claim(worker: "w", lease: unit) else {
                throw ConformanceFailure(check: name, message: "nothing to claim")
            }
            let pending = try await deliveryClaim(token: "t1")
            try await ports.advance(unit * 2)
            let reaped = try await queue.reap()
            try check(reaped.requeued == 1, "reap: \(reaped)")
            let done = try await queue.ack(claimed, recording: [pending], thenClaimFor: "w", lease: unit * 30)
            try check(!done.acked, "a lost claim was acked")
            try check(done.next?.item == item1 && done.next?.attempts == 2, "the reaped item is claimed again")
            let state = try await notifications.state(fingerprint: fingerprint, channel: .webhook)
            try check(state?.notifyCount == 1 && state?.claim == nil, "the delivery was not recorded")

        case "ackRecordingWithoutAWorkerClaimsNothing":
            try await enqueue([item1, item2])
            guard let claimed = try await queue.claim(worker: "w", lease: unit * 30) else {
                throw ConformanceFailure(check: name, message: "nothing to claim")
            }
            let pending = try await deliveryClaim(token: "t1")
            let done = try await queue.ack(claimed, recording: [pending], thenClaimFor: nil, lease: unit * 30)
            try check(done.acked && done.next == nil, "acked \(done.acked), next \(String(describing: done.next))")
            try check(try await queue.stats().ready == 1, "the next item was claimed")
            let state = try await notifications.state(fingerprint: fingerprint, channel: .webhook)
            try check(state?.notifyCount == 1, "the delivery was not recorded")

        default:
            throw ConformanceFailure(check: name, message: "no such check")
        }
    }
}
