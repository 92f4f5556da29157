import Foundation
import Testing

@testable import FluxbrainCore

@Suite struct NotificationStateMachineTests {
    static let t0 = Date(timeIntervalSince1970: 1_795_000_000)
    static let settings = NotificationSettings(
        repeatInterval: .seconds(4 * 3600),
        sendResolved: true,
        sendLease: .seconds(120),
        backoffBase: .seconds(30),
        backoffMax: .seconds(3600)
    )

    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        var state: NotificationState
        var status: NotificationStatus
        /// Seconds after t0.
        var at: TimeInterval
        var sendResolved = true
        var expected: NotificationDecision
        /// The status recorded without a send (only `skipResolvedDisabled` records one).
        var expectedLastStatus: NotificationStatus?
        var testDescription: String { name }
    }

    static func at(_ seconds: TimeInterval) -> Date { t0.addingTimeInterval(seconds) }

    static let firedAt0 = NotificationState(lastStatusNotified: .firing, lastNotifiedAt: t0, notifyCount: 1)
    static let resolvedAt0 = NotificationState(lastStatusNotified: .resolved, lastNotifiedAt: t0, notifyCount: 2)

    static let rows: [Row] = [
        Row(
            name: "first firing notifies",
            state: NotificationState(),
            status: .firing,
            at: 0,
            expected: .send(.firing, sequence: 1),
            expectedLastStatus: nil
        ),
        Row(
            name: "same incident inside the repeat interval is silent",
            state: firedAt0,
            status: .firing,
            at: 60,
            expected: .skipNotDue(until: at(4 * 3600)),
            expectedLastStatus: .firing
        ),
        Row(
            name: "one second before the repeat interval is silent",
            state: firedAt0,
            status: .firing,
            at: 4 * 3600 - 1,
            expected: .skipNotDue(until: at(4 * 3600)),
            expectedLastStatus: .firing
        ),
        Row(
            name: "at the repeat interval a reminder",
            state: firedAt0,
            status: .firing,
            at: 4 * 3600,
            expected: .send(.reminder, sequence: 2),
            expectedLastStatus: .firing
        ),
        Row(
            name: "recovery sends one resolved",
            state: firedAt0,
            status: .resolved,
            at: 60,
            expected: .send(.resolved, sequence: 2),
            expectedLastStatus: .firing
        ),
        Row(
            name: "a second recovery is silent",
            state: resolvedAt0,
            status: .resolved,
            at: 60,
            expected: .skipAlreadyResolved,
            expectedLastStatus: .resolved
        ),
        Row(
            name: "resolved long after is still silent",
            state: resolvedAt0,
            status: .resolved,
            at: 10 * 86400,
            expected: .skipAlreadyResolved,
            expectedLastStatus: .resolved
        ),
        Row(
            name: "resolved disabled records silently",
            state: firedAt0,
            status: .resolved,
            at: 60,
            sendResolved: false,
            expected: .skipResolvedDisabled,
            expectedLastStatus: .resolved
        ),
        Row(
            name: "resolved before any notification is silent",
            state: NotificationState(),
            status: .resolved,
            at: 0,
            expected: .skipNeverNotified,
            expectedLastStatus: nil
        ),
        Row(
            name: "recurrence after resolve notifies as firing at once",
            state: resolvedAt0,
            status: .firing,
            at: 60,
            expected: .send(.firing, sequence: 3),
            expectedLastStatus: .resolved
        ),
        Row(
            name: "a live claim means in flight",
            state: NotificationState(claim: .init(token: "other", until: at(100), kind: .firing)),
            status: .firing,
            at: 10,
            expected: .skipInFlight(until: at(100)),
            expectedLastStatus: nil
        ),
        Row(
            name: "an expired claim is taken over",
            state: NotificationState(claim: .init(token: "other", until: at(100), kind: .firing)),
            status: .firing,
            at: 100,
            expected: .send(.firing, sequence: 1),
            expectedLastStatus: nil
        ),
        Row(
            name: "backoff after a failure",
            state: NotificationState(failures: 2, nextAttemptAt: at(60)),
            status: .firing,
            at: 30,
            expected: .skipBackoff(until: at(60)),
            expectedLastStatus: nil
        ),
        Row(
            name: "backoff applies to resolved too",
            state: NotificationState(
                lastStatusNotified: .firing,
                lastNotifiedAt: t0,
                failures: 1,
                nextAttemptAt: at(90),
                notifyCount: 1
            ),
            status: .resolved,
            at: 60,
            expected: .skipBackoff(until: at(90)),
            expectedLastStatus: .firing
        ),
        Row(
            name: "retry when the backoff has passed keeps the sequence",
            state: NotificationState(failures: 2, nextAttemptAt: at(60)),
            status: .firing,
            at: 60,
            expected: .send(.firing, sequence: 1),
            expectedLastStatus: nil
        ),
        Row(
            name: "a failed reminder retried is still a reminder",
            state: NotificationState(
                lastStatusNotified: .firing,
                lastNotifiedAt: t0,
                failures: 1,
                nextAttemptAt: at(4 * 3600 + 30),
                notifyCount: 1
            ),
            status: .firing,
            at: 4 * 3600 + 30,
            expected: .send(.reminder, sequence: 2),
            expectedLastStatus: .firing
        ),
    ]

    @Test(arguments: rows)
    func claimDecides(_ row: Row) {
        var settings = Self.settings
        settings.sendResolved = row.sendResolved
        var machine = NotificationStateMachine(state: row.state, settings: settings)
        let decision = machine.claim(status: row.status, token: "mine", now: Self.at(row.at))
        #expect(decision == row.expected)
        #expect(machine.state.lastStatusNotified == row.expectedLastStatus)
        if case .send = decision {
            #expect(machine.state.claim?.token == "mine")
            #expect(machine.state.claim?.until == Self.at(row.at + 120))
        } else if case .skipInFlight = decision {
            #expect(machine.state.claim?.token == "other")
        } else {
            #expect(machine.state.claim == nil)
        }
    }

    @Test func markSentRecordsTheDelivery() {
        var machine = NotificationStateMachine(
            state: NotificationState(failures: 3, nextAttemptAt: Self.at(10)),
            settings: Self.settings
        )
        let decision = machine.claim(status: .firing, token: "a", now: Self.at(10))
        #expect(decision == .send(.firing, sequence: 1))
        let applied = machine.markSent(token: "a", status: .firing, now: Self.at(12))
        #expect(applied)
        #expect(
            machine.state == NotificationState(lastStatusNotified: .firing, lastNotifiedAt: Self.at(12), notifyCount: 1)
        )
    }

    @Test func markWithAStaleTokenChangesNothing() {
        var machine = NotificationStateMachine(settings: Self.settings)
        _ = machine.claim(status: .firing, token: "a", now: Self.t0)
        let before = machine.state
        let sent = machine.markSent(token: "b", status: .firing, now: Self.t0)
        let failed = machine.markFailed(token: "b", error: "x", now: Self.t0)
        #expect(!sent)
        #expect(failed == nil)
        #expect(machine.state == before)
    }

    @Test(arguments: [(1, 30), (2, 60), (3, 90), (10, 300), (119, 3570), (120, 3600), (121, 3600), (500, 3600)])
    func backoffIsLinearAndCapped(failures: Int, seconds: Int) {
        #expect(Self.settings.backoff(afterFailures: failures) == .seconds(seconds))
    }

    @Test func markFailedBacksOffAndReleasesTheClaim() {
        var machine = NotificationStateMachine(settings: Self.settings)
        var now = Self.t0
        for expected in [30.0, 60, 90] {
            guard case .send = machine.claim(status: .firing, token: "t", now: now) else {
                Issue.record("no send at \(now)")
                return
            }
            let next = machine.markFailed(token: "t", error: "HTTP 500", now: now)
            #expect(next == now.addingTimeInterval(expected))
            #expect(machine.state.claim == nil)
            #expect(machine.state.lastError == "HTTP 500")
            let blocked = machine.claim(status: .firing, token: "t", now: now)
            #expect(blocked == .skipBackoff(until: next!))
            now = next!
        }
        #expect(machine.state.failures == 3)
    }

    @Test func fullLifecycle() {
        // first firing → silent → reminder → resolved once → recurrence.
        var machine = NotificationStateMachine(settings: Self.settings)
        var kinds: [NotificationKind] = []
        let timeline: [(TimeInterval, NotificationStatus)] = [
            (0, .firing), (300, .firing), (3600, .firing), (4 * 3600, .firing), (5 * 3600, .firing),
            (8 * 3600, .firing), (8 * 3600 + 60, .resolved), (8 * 3600 + 120, .resolved), (9 * 3600, .firing),
            (9 * 3600 + 10, .firing),
        ]
        for (offset, status) in timeline {
            if case .send(let kind, _) = machine.claim(status: status, token: "t\(offset)", now: Self.at(offset)) {
                kinds.append(kind)
                machine.markSent(token: "t\(offset)", status: kind.status, now: Self.at(offset))
            }
        }
        #expect(kinds == [.firing, .reminder, .reminder, .resolved, .firing])
        #expect(machine.state.notifyCount == 5)
    }

    @Test func aNewRevisionFailingIsANewIncident() {
        let object = ObjectReference(cluster: "prod", kind: .helmRelease, namespace: "podinfo", name: "podinfo")
        let old = Incident(
            object: object,
            state: .stalled,
            reason: "UpgradeFailed",
            message: "m",
            revision: "6.9.3",
            detectedAt: Self.t0
        )
        let new = Incident(
            object: object,
            state: .stalled,
            reason: "UpgradeFailed",
            message: "m",
            revision: "6.9.4",
            detectedAt: Self.t0
        )
        #expect(old.fingerprint != new.fingerprint)
        let key1 = IncidentNotification(
            kind: .firing,
            incident: old,
            analysis: .notConfigured,
            sequence: 1,
            notifiedAt: Self.t0
        )
        let key2 = IncidentNotification(
            kind: .firing,
            incident: new,
            analysis: .notConfigured,
            sequence: 1,
            notifiedAt: Self.t0
        )
        #expect(key1.idempotencyKey != key2.idempotencyKey)
        #expect(key1.idempotencyKey == "\(old.fingerprint.hex):firing:1")
    }
}
