import FluxbrainCore
import Foundation
import Synchronization

/// A failed conformance check: what was expected and what the store did.
package struct ConformanceFailure: Error, CustomStringConvertible {
    package var check: String
    package var message: String
    package var description: String { "\(check): \(message)" }
}

/// The semantics every `NotificationStore` must have, as one reusable suite: the in-memory store runs it in
/// `FluxbrainIntegrationsTests`, the Redis store runs the same against a real server.
///
/// Durations are multiples of `unit`: repeat 10u, lease 4u, backoff 2u × failures capped at 5u. With a manual clock
/// `unit` can be 1s; a store on real time (Redis `TIME`) passes a short unit and an `advance` that sleeps.
/// Every check uses fresh random fingerprints, so one store can serve the whole suite.
package enum NotificationStoreConformance {
    /// The checks, by name.
    package static let checks: [String] = [
        "firstFiringSends", "sameIncidentSilentUntilRepeatInterval", "resolvedSentExactlyOnce",
        "resolvedDisabledIsSilentAndRecurrenceNotifiesAgain", "resolvedBeforeAnyNotificationIsSilent",
        "recurrenceAfterResolveNotifiesAsFiring", "claimIsExclusiveUntilLeaseExpires", "failureBacksOffLinearlyCapped",
        "channelsAreIndependent", "newRevisionIsNewIncident", "staleTokenIsIgnored",
        "deliveryReferenceFollowsTheLastDelivery",
    ]

    /// Settings in units.
    package static func settings(unit: Duration, sendResolved: Bool = true) -> NotificationSettings {
        NotificationSettings(
            repeatInterval: unit * 10,
            sendResolved: sendResolved,
            sendLease: unit * 4,
            backoffBase: unit * 2,
            backoffMax: unit * 5
        )
    }

    /// Runs every check; throws the first `ConformanceFailure`.
    package static func run(
        store: any NotificationStore,
        unit: Duration = .seconds(1),
        advance: @Sendable (Duration) async throws -> Void
    ) async throws {
        for check in checks {
            try await run(check, store: store, unit: unit, advance: advance)
        }
    }

    /// Runs one check by name; again with fresh fingerprints when a stalled machine made it miss a window on real
    /// time (``MissedWindow``).
    package static func run(
        _ check: String,
        store: any NotificationStore,
        unit: Duration = .seconds(1),
        advance: @Sendable (Duration) async throws -> Void
    ) async throws {
        try await retryingMissedWindows {
            try await runOnce(check, store: store, unit: unit, advance: advance)
        }
    }

    private static func runOnce(
        _ check: String,
        store: any NotificationStore,
        unit: Duration,
        advance: @Sendable (Duration) async throws -> Void
    ) async throws {
        let s = settings(unit: unit)
        let fp = randomFingerprint()
        let ch = ChannelID.slack
        func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
            if !condition { throw ConformanceFailure(check: check, message: message()) }
        }
        func claim(
            _ status: NotificationStatus,
            token: String,
            fingerprint: Fingerprint? = nil,
            channel: ChannelID = .slack,
            settings: NotificationSettings? = nil
        ) async throws -> NotificationClaim {
            try await store.claim(
                fingerprint: fingerprint ?? fp,
                channel: channel,
                status: status,
                token: token,
                settings: settings ?? s
            )
        }
        func sendAndMark(_ status: NotificationStatus, _ expected: NotificationKind, sequence: Int) async throws {
            let token = UUID().uuidString
            let result = try await claim(status, token: token)
            try expect(
                result.decision == .send(expected, sequence: sequence),
                "expected send(\(expected), \(sequence)), got \(result.decision)"
            )
            let applied = try await store.markSent(fingerprint: fp, channel: ch, token: token, status: expected.status)
            try expect(applied, "markSent with the claim's token was not applied")
        }

        switch check {
        case "firstFiringSends":
            try await expect(store.state(fingerprint: fp, channel: ch) == nil, "unknown incident has state")
            try await sendAndMark(.firing, .firing, sequence: 1)
            let state = try await store.state(fingerprint: fp, channel: ch)
            try expect(
                state?.lastStatusNotified == .firing,
                "lastStatusNotified is \(String(describing: state?.lastStatusNotified))"
            )
            try expect(state?.notifyCount == 1, "notifyCount is \(String(describing: state?.notifyCount))")
            try expect(state?.claim == nil, "claim not cleared")

        case "sameIncidentSilentUntilRepeatInterval":
            // The claims that must come before the repeat interval ends are checked only if they did (on real time
            // a stalled machine can miss it; `MissedWindow` runs the check again).
            let sent = ContinuousClock.now
            try await sendAndMark(.firing, .firing, sequence: 1)
            let early = try await claim(.firing, token: "t2")
            try requireInside(s.repeatInterval, since: sent, "\(check): the claim right after the send")
            guard case .skipNotDue = early.decision else {
                throw ConformanceFailure(check: check, message: "expected skipNotDue, got \(early.decision)")
            }
            try await advance(unit * 9)
            let stillEarly = try await claim(.firing, token: "t3")
            try requireInside(s.repeatInterval, since: sent, "\(check): the claim at 9u")
            guard case .skipNotDue = stillEarly.decision else {
                throw ConformanceFailure(check: check, message: "expected skipNotDue at 9u, got \(stillEarly.decision)")
            }
            try await advance(unit * 1)
            let reminded = ContinuousClock.now
            try await sendAndMark(.firing, .reminder, sequence: 2)
            let after = try await claim(.firing, token: "t4")
            try requireInside(s.repeatInterval, since: reminded, "\(check): the claim right after the reminder")
            guard case .skipNotDue = after.decision else {
                throw ConformanceFailure(
                    check: check,
                    message: "expected skipNotDue after reminder, got \(after.decision)"
                )
            }

        case "resolvedSentExactlyOnce":
            try await sendAndMark(.firing, .firing, sequence: 1)
            try await sendAndMark(.resolved, .resolved, sequence: 2)
            let again = try await claim(.resolved, token: "t3")
            try expect(again.decision == .skipAlreadyResolved, "second resolved: \(again.decision)")
            try await advance(unit * 20)
            let later = try await claim(.resolved, token: "t4")
            try expect(later.decision == .skipAlreadyResolved, "resolved after repeat interval: \(later.decision)")

        case "resolvedDisabledIsSilentAndRecurrenceNotifiesAgain":
            try await sendAndMark(.firing, .firing, sequence: 1)
            let off = settings(unit: unit, sendResolved: false)
            let resolved = try await claim(.resolved, token: "t2", settings: off)
            try expect(
                resolved.decision == .skipResolvedDisabled,
                "resolved with sendResolved off: \(resolved.decision)"
            )
            let again = try await claim(.resolved, token: "t3", settings: off)
            try expect(again.decision == .skipAlreadyResolved, "second resolved: \(again.decision)")
            let refire = try await claim(.firing, token: "t4", settings: off)
            try expect(refire.decision == .send(.firing, sequence: 2), "recurrence: \(refire.decision)")

        case "resolvedBeforeAnyNotificationIsSilent":
            let result = try await claim(.resolved, token: "t1")
            try expect(result.decision == .skipNeverNotified, "got \(result.decision)")

        case "recurrenceAfterResolveNotifiesAsFiring":
            try await sendAndMark(.firing, .firing, sequence: 1)
            try await sendAndMark(.resolved, .resolved, sequence: 2)
            try await sendAndMark(.firing, .firing, sequence: 3)

        case "claimIsExclusiveUntilLeaseExpires":
            let claimed = ContinuousClock.now
            let first = try await claim(.firing, token: "a")
            try expect(first.decision == .send(.firing, sequence: 1), "first claim: \(first.decision)")
            let second = try await claim(.firing, token: "b")
            try requireInside(s.sendLease, since: claimed, "\(check): the second claim")
            guard case .skipInFlight = second.decision else {
                throw ConformanceFailure(check: check, message: "second claim while leased: \(second.decision)")
            }
            try await advance(unit * 5)
            let takeover = try await claim(.firing, token: "c")
            try expect(
                takeover.decision == .send(.firing, sequence: 1),
                "claim after lease expiry: \(takeover.decision)"
            )
            let late = try await store.markSent(fingerprint: fp, channel: ch, token: "a", status: .firing)
            try expect(!late, "markSent with an expired token was applied")
            let current = try await store.markSent(fingerprint: fp, channel: ch, token: "c", status: .firing)
            try expect(current, "markSent with the current token was not applied")

        case "failureBacksOffLinearlyCapped":
            var expectedBackoff: [Duration] = [unit * 2, unit * 4, unit * 5, unit * 5]
            var failures = 0
            while !expectedBackoff.isEmpty {
                let backoff = expectedBackoff.removeFirst()
                let token = "f\(failures)"
                let result = try await claim(.firing, token: token)
                try expect(
                    result.decision == .send(.firing, sequence: 1),
                    "attempt \(failures + 1): \(result.decision)"
                )
                try expect(
                    result.previousFailures == failures,
                    "previousFailures \(result.previousFailures) ≠ \(failures)"
                )
                let next = try await store.markFailed(
                    fingerprint: fp,
                    channel: ch,
                    token: token,
                    error: "boom",
                    settings: s
                )
                failures += 1
                guard let next else { throw ConformanceFailure(check: check, message: "markFailed not applied") }
                // `next` is the store's time of the failure plus the backoff. That time lies between the claim's
                // `now` and the next claim's `now` (store clock, however long the machine took in between), so the
                // backoff is bracketed exactly, without assuming anything about elapsed time.
                let blocked = try await claim(.firing, token: "blocked")
                let longest = next.timeIntervalSince(result.now)
                let shortest = next.timeIntervalSince(blocked.now)
                let slack = 0.002  // Redis TIME in whole milliseconds
                try expect(
                    shortest - slack <= backoff.timeInterval && backoff.timeInterval <= longest + slack,
                    "backoff after \(failures) failures is between \(shortest)s and \(longest)s, expected \(backoff)"
                )
                // Before the backoff ends on the store's clock, or the claim shows nothing (a stalled machine).
                if blocked.now >= next {
                    throw MissedWindow(description: "\(check): the claim after failure \(failures) came too late")
                }
                guard case .skipBackoff = blocked.decision else {
                    throw ConformanceFailure(check: check, message: "claim during backoff: \(blocked.decision)")
                }
                try await advance(backoff)
            }
            let state = try await store.state(fingerprint: fp, channel: ch)
            try expect(state?.failures == 4, "failures \(String(describing: state?.failures))")
            try await sendAndMark(.firing, .firing, sequence: 1)
            let cleared = try await store.state(fingerprint: fp, channel: ch)
            try expect(cleared?.failures == 0 && cleared?.nextAttemptAt == nil, "failures not reset after a delivery")

        case "channelsAreIndependent":
            let slack = try await claim(.firing, token: "s", channel: .slack)
            let webhook = try await claim(.firing, token: "w", channel: .webhook)
            try expect(slack.decision == .send(.firing, sequence: 1), "slack: \(slack.decision)")
            try expect(webhook.decision == .send(.firing, sequence: 1), "webhook: \(webhook.decision)")
            _ = try await store.markFailed(fingerprint: fp, channel: .slack, token: "s", error: "down", settings: s)
            let sent = try await store.markSent(fingerprint: fp, channel: .webhook, token: "w", status: .firing)
            try expect(sent, "webhook markSent not applied")
            let slackState = try await store.state(fingerprint: fp, channel: .slack)
            let webhookState = try await store.state(fingerprint: fp, channel: .webhook)
            try expect(
                slackState?.failures == 1 && slackState?.lastStatusNotified == nil,
                "slack state \(String(describing: slackState))"
            )
            try expect(
                webhookState?.failures == 0 && webhookState?.notifyCount == 1,
                "webhook state \(String(describing: webhookState))"
            )
            let github = try await claim(.firing, token: "g", channel: .github)
            try expect(github.decision == .send(.firing, sequence: 1), "github: \(github.decision)")

        case "newRevisionIsNewIncident":
            try await sendAndMark(.firing, .firing, sequence: 1)
            let other = randomFingerprint()
            let result = try await claim(.firing, token: "n", fingerprint: other)
            try expect(result.decision == .send(.firing, sequence: 1), "new fingerprint: \(result.decision)")

        case "staleTokenIsIgnored":
            _ = try await claim(.firing, token: "right")
            let wrongSent = try await store.markSent(fingerprint: fp, channel: ch, token: "wrong", status: .firing)
            let wrongFailed = try await store.markFailed(
                fingerprint: fp,
                channel: ch,
                token: "wrong",
                error: "x",
                settings: s
            )
            try expect(!wrongSent && wrongFailed == nil, "a wrong token changed the state")
            let state = try await store.state(fingerprint: fp, channel: ch)
            try expect(
                state?.claim?.token == "right" && state?.notifyCount == 0 && state?.failures == 0,
                "state \(String(describing: state))"
            )

        case "deliveryReferenceFollowsTheLastDelivery":
            // The reference a delivery reports comes back with every later claim (skips included), survives a failed
            // send, is replaced by the next delivery's, and a delivery without one clears it; stale tokens change
            // nothing; channels keep their own.
            let first = try await claim(.firing, token: "r1")
            try expect(first.reference == nil, "reference before any delivery: \(String(describing: first.reference))")
            try await expect(
                store.markSent(fingerprint: fp, channel: ch, token: "r1", status: .firing, reference: "C1:100.1:1"),
                "markSent not applied"
            )
            let early = try await claim(.firing, token: "r2")
            try expect(early.reference == "C1:100.1:1", "skip claim reference \(String(describing: early.reference))")
            let other = try await claim(.firing, token: "o1", channel: .webhook)
            try expect(other.reference == nil, "another channel sees \(String(describing: other.reference))")
            try await advance(unit * 10)
            let reminder = try await claim(.firing, token: "r3")
            try expect(
                reminder.decision == .send(.reminder, sequence: 2) && reminder.reference == "C1:100.1:1",
                "reminder claim \(reminder.decision) \(String(describing: reminder.reference))"
            )
            _ = try await store.markFailed(fingerprint: fp, channel: ch, token: "r3", error: "down", settings: s)
            let stale = try await store.markSent(
                fingerprint: fp,
                channel: ch,
                token: "r3",
                status: .firing,
                reference: "X"
            )
            try expect(!stale, "a stale token recorded a reference")
            try await advance(unit * 2)
            let retry = try await claim(.firing, token: "r4")
            try expect(
                retry.previousFailures == 1 && retry.reference == "C1:100.1:1",
                "retry claim \(retry.previousFailures) \(String(describing: retry.reference))"
            )
            try await expect(
                store.markSent(fingerprint: fp, channel: ch, token: "r4", status: .firing, reference: "C1:100.1:2"),
                "reminder markSent not applied"
            )
            try expect(
                try await store.state(fingerprint: fp, channel: ch)?.reference == "C1:100.1:2",
                "the reminder's reference did not replace the firing's"
            )
            let resolve = try await claim(.resolved, token: "r5")
            try expect(resolve.reference == "C1:100.1:2", "resolve claim \(String(describing: resolve.reference))")
            try await expect(
                store.markSent(fingerprint: fp, channel: ch, token: "r5", status: .resolved),
                "resolved markSent not applied"
            )
            let cleared = try await store.state(fingerprint: fp, channel: ch)
            try expect(
                cleared?.reference == nil,
                "a delivery without a reference kept \(String(describing: cleared?.reference))"
            )

        default:
            throw ConformanceFailure(check: check, message: "no such check")
        }
    }

    private static func randomFingerprint() -> Fingerprint {
        Fingerprint(
            cluster: "conformance",
            kind: "Kustomization",
            namespace: "ns",
            name: UUID().uuidString,
            reason: "BuildFailed",
            revision: UUID().uuidString
        )
    }
}
