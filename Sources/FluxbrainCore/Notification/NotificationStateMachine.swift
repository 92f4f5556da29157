import Foundation

/// How notifications repeat, resolve, lease and back off.
package struct NotificationSettings: Sendable, Hashable, Codable {
    /// `FLUXBRAIN_REPEAT_INTERVAL` (default 4h): a still-failing incident is re-notified after this long.
    package var repeatInterval: Duration
    /// `FLUXBRAIN_SEND_RESOLVED` (default `true`): send one resolved message when an incident clears.
    package var sendResolved: Bool
    /// How long a claim to send stays exclusive (default 2m). A sender that dies holding it is replaced after this;
    /// it must cover the analysis and the send.
    package var sendLease: Duration
    /// Backoff after a failed send is `min(failures × backoffBase, backoffMax)` (default 30s, 1h).
    package var backoffBase: Duration
    package var backoffMax: Duration

    package init(
        repeatInterval: Duration = .seconds(4 * 3600),
        sendResolved: Bool = true,
        sendLease: Duration = .seconds(120),
        backoffBase: Duration = .seconds(30),
        backoffMax: Duration = .seconds(3600)
    ) {
        self.repeatInterval = repeatInterval
        self.sendResolved = sendResolved
        self.sendLease = sendLease
        self.backoffBase = backoffBase
        self.backoffMax = backoffMax
    }

    /// `min(failures × backoffBase, backoffMax)`, at least one step: 30s, 60s, 90s, … capped at 1h with the
    /// defaults (a linear ``Backoff``).
    package func backoff(afterFailures failures: Int) -> Duration {
        Backoff(base: backoffBase, maximum: backoffMax).delay(afterFailures: max(failures, 1))
    }
}

/// What is known about one incident on one channel.
package struct NotificationState: Sendable, Hashable, Codable {
    /// An exclusive right to send, held by whoever presents `token`, until `until`.
    package struct Claim: Sendable, Hashable, Codable {
        package var token: String
        package var until: Date
        package var kind: NotificationKind
    }

    /// The status the last delivered notification announced; `nil` before the first delivery.
    package var lastStatusNotified: NotificationStatus?
    package var lastNotifiedAt: Date?
    /// Consecutive failed sends.
    package var failures: Int
    /// No send before this, after a failure.
    package var nextAttemptAt: Date?
    package var claim: Claim?
    /// Notifications delivered so far.
    package var notifyCount: Int
    /// The last send error, for people.
    package var lastError: String?
    /// What the last delivery reported as its ``DeliveryReport/reference`` (e.g. Slack's `CHANNEL:ts` of the thread
    /// to continue), handed to the next notification as ``IncidentNotification/previousReference``; `nil` if the
    /// last delivery reported none. Opaque to the store.
    package var reference: String?

    package init(
        lastStatusNotified: NotificationStatus? = nil,
        lastNotifiedAt: Date? = nil,
        failures: Int = 0,
        nextAttemptAt: Date? = nil,
        claim: Claim? = nil,
        notifyCount: Int = 0,
        lastError: String? = nil,
        reference: String? = nil
    ) {
        self.lastStatusNotified = lastStatusNotified
        self.lastNotifiedAt = lastNotifiedAt
        self.failures = failures
        self.nextAttemptAt = nextAttemptAt
        self.claim = claim
        self.notifyCount = notifyCount
        self.lastError = lastError
        self.reference = reference
    }
}

/// The answer to "should this channel notify about this incident now?".
package enum NotificationDecision: Sendable, Hashable {
    /// Send a notification of `kind`; the caller holds the claim and must call `markSent` or `markFailed`.
    case send(NotificationKind, sequence: Int)
    /// Another sender holds the claim until then.
    case skipInFlight(until: Date)
    /// A previous send failed; the next attempt is due then.
    case skipBackoff(until: Date)
    /// Already notified as firing; the next reminder is due then.
    case skipNotDue(until: Date)
    /// The resolved message was already sent (or suppressed).
    case skipAlreadyResolved
    /// `FLUXBRAIN_SEND_RESOLVED=false`: resolution recorded, nothing sent.
    case skipResolvedDisabled
    /// Resolved before any firing notification was delivered on this channel: nothing to take back.
    case skipNeverNotified

    /// The kind to send, if the decision is to send.
    package var kindToSend: NotificationKind? {
        if case .send(let kind, _) = self { return kind }
        return nil
    }
}

/// The pure notification rules for one incident on one channel.
///
/// - Firing: notify if the last delivered status is not `firing` (first notification, or a recurrence after
///   resolve); else remind once `repeatInterval` has passed since the last delivery; else stay silent.
/// - Resolved: notify exactly once, and only if `firing` was delivered; with `sendResolved` off, record the
///   resolution silently so a recurrence notifies as new.
/// - A claim (send lease) makes one sender exclusive; a failure backs off `min(failures × base, max)`.
/// - A new revision failing has a new fingerprint, so it is a new state: it notifies as new by construction.
///
/// The same rules run in Redis (Lua) for replicas; this struct is the reference and what the in-memory store runs.
package struct NotificationStateMachine: Sendable, Hashable {
    package private(set) var state: NotificationState
    package var settings: NotificationSettings

    package init(state: NotificationState = NotificationState(), settings: NotificationSettings) {
        self.state = state
        self.settings = settings
    }

    /// Decides for `status` at `now`; on `.send`, takes the claim with `token` for `settings.sendLease`.
    package mutating func claim(status: NotificationStatus, token: String, now: Date) -> NotificationDecision {
        if let claim = state.claim, claim.until > now {
            return .skipInFlight(until: claim.until)
        }
        if let next = state.nextAttemptAt, now < next {
            return .skipBackoff(until: next)
        }
        let kind: NotificationKind
        switch status {
        case .firing:
            if state.lastStatusNotified != .firing {
                kind = .firing
            } else {
                let last = state.lastNotifiedAt ?? .distantPast
                let due = last.addingTimeInterval(settings.repeatInterval.timeInterval)
                guard now >= due else { return .skipNotDue(until: due) }
                kind = .reminder
            }
        case .resolved:
            switch state.lastStatusNotified {
            case nil: return .skipNeverNotified
            case .resolved: return .skipAlreadyResolved
            case .firing:
                guard settings.sendResolved else {
                    state.lastStatusNotified = .resolved
                    state.claim = nil
                    return .skipResolvedDisabled
                }
                kind = .resolved
            }
        }
        state.claim = NotificationState.Claim(
            token: token,
            until: now.addingTimeInterval(settings.sendLease.timeInterval),
            kind: kind
        )
        return .send(kind, sequence: state.notifyCount + 1)
    }

    /// Records a delivery of `status` by the holder of `token`, with the `reference` the notifier reported (`nil`
    /// clears the previous one); `false` (and no change) if it no longer holds the claim, e.g. its lease expired and
    /// another sender took over.
    @discardableResult
    package mutating func markSent(
        token: String,
        status: NotificationStatus,
        now: Date,
        reference: String? = nil
    ) -> Bool {
        guard state.claim?.token == token else { return false }
        state.reference = reference
        state.claim = nil
        state.lastStatusNotified = status
        state.lastNotifiedAt = now
        state.failures = 0
        state.nextAttemptAt = nil
        state.notifyCount += 1
        state.lastError = nil
        return true
    }

    /// Records a failed send by the holder of `token` and returns when the next attempt is due; `nil` (and no
    /// change) if it no longer holds the claim.
    @discardableResult
    package mutating func markFailed(token: String, error: String, now: Date) -> Date? {
        guard state.claim?.token == token else { return nil }
        state.claim = nil
        state.failures += 1
        state.lastError = error
        let next = now.addingTimeInterval(settings.backoff(afterFailures: state.failures).timeInterval)
        state.nextAttemptAt = next
        return next
    }
}
