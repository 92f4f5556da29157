import Foundation

/// The answer of `NotificationStore.claim`: the decision and the store's time it was made at.
package struct NotificationClaim: Sendable, Hashable {
    package var decision: NotificationDecision
    /// The store's clock when deciding (Redis uses `TIME`), to stamp the notification.
    package var now: Date
    /// Consecutive failed sends before this claim (a send with `failures > 0` is a retry).
    package var previousFailures: Int
    /// The reference the last delivery reported (``NotificationState/reference``), for the notifier to continue
    /// from (a Slack thread).
    package var reference: String?

    package init(decision: NotificationDecision, now: Date, previousFailures: Int = 0, reference: String? = nil) {
        self.decision = decision
        self.now = now
        self.previousFailures = previousFailures
        self.reference = reference
    }
}

/// Notification state per (incident fingerprint, channel), shared by every sender.
///
/// Implementations apply `NotificationStateMachine` atomically and take time from their own clock, so replicas
/// agree: the in-memory store for one process, a Redis store (a Lua `should_notify_and_claim`, `mark_sent`,
/// `mark_failed`) across replicas. `Tests/FluxbrainTestSupport/NotificationStoreConformance.swift` is the suite
/// every implementation must pass.
package protocol NotificationStore: Sendable {
    /// Decides whether `channel` should notify about `fingerprint` observed as `status`, and on `.send` claims the
    /// send with `token` for `settings.sendLease`.
    func claim(
        fingerprint: Fingerprint,
        channel: ChannelID,
        status: NotificationStatus,
        token: String,
        settings: NotificationSettings
    ) async throws -> NotificationClaim

    /// `write` (``PendingAnalysisWrite/perform()``), then ``claim(fingerprint:channel:status:token:settings:)``: what
    /// the pipeline does with a fresh verdict. A store may do both in one round trip; by default, the two calls.
    ///
    /// If the write fails, the default throws before claiming; a store that sent both at once returns the claim
    /// anyway (it was taken, and the caller holds the verdict), and only logs that the verdict was not cached. If it
    /// throws, the write and the claim may or may not have been applied (as for a lone `claim` whose reply was lost,
    /// an unknown claim keeps the channel in flight until its send lease ends).
    func claim(
        fingerprint: Fingerprint,
        channel: ChannelID,
        status: NotificationStatus,
        token: String,
        settings: NotificationSettings,
        after write: PendingAnalysisWrite
    ) async throws -> NotificationClaim

    /// Records a delivery and the `reference` the notifier reported (``DeliveryReport/reference``; `nil` clears the
    /// stored one); `false` if `token` no longer holds the claim.
    @discardableResult
    func markSent(
        fingerprint: Fingerprint,
        channel: ChannelID,
        token: String,
        status: NotificationStatus,
        reference: String?
    ) async throws -> Bool

    /// Records a failed send and returns when the next attempt is due; `nil` if `token` no longer holds the claim.
    @discardableResult
    func markFailed(
        fingerprint: Fingerprint,
        channel: ChannelID,
        token: String,
        error: String,
        settings: NotificationSettings
    ) async throws -> Date?

    /// The state, or `nil` if the channel never saw the incident.
    func state(fingerprint: Fingerprint, channel: ChannelID) async throws -> NotificationState?
}

extension NotificationStore {
    /// The write, then the claim: two calls.
    package func claim(
        fingerprint: Fingerprint,
        channel: ChannelID,
        status: NotificationStatus,
        token: String,
        settings: NotificationSettings,
        after write: PendingAnalysisWrite
    ) async throws -> NotificationClaim {
        try await claimSeparately(
            fingerprint: fingerprint,
            channel: channel,
            status: status,
            token: token,
            settings: settings,
            after: write
        )
    }

    /// ``claim(fingerprint:channel:status:token:settings:after:)`` as two calls, the write then the claim: the
    /// default, and a store's way when it cannot send them together.
    package func claimSeparately(
        fingerprint: Fingerprint,
        channel: ChannelID,
        status: NotificationStatus,
        token: String,
        settings: NotificationSettings,
        after write: PendingAnalysisWrite
    ) async throws -> NotificationClaim {
        try await write.perform()
        return try await claim(
            fingerprint: fingerprint,
            channel: channel,
            status: status,
            token: token,
            settings: settings
        )
    }

    /// Records a delivery that reported no reference (any stored one is cleared).
    @discardableResult
    package func markSent(
        fingerprint: Fingerprint,
        channel: ChannelID,
        token: String,
        status: NotificationStatus
    ) async throws -> Bool {
        try await markSent(fingerprint: fingerprint, channel: channel, token: token, status: status, reference: nil)
    }
}

/// A `NotificationStore` in process memory: one replica, state lost on restart (the first occurrence after a
/// restart notifies again, which fails open).
package actor InMemoryNotificationStore: NotificationStore {
    private struct Key: Hashable {
        var fingerprint: Fingerprint
        var channel: ChannelID
    }

    private var states: [Key: NotificationState] = [:]
    private let now: @Sendable () -> Date

    /// - Parameter now: the clock; tests inject a manual one.
    package init(now: @escaping @Sendable () -> Date = { Date() }) {
        self.now = now
    }

    package func claim(
        fingerprint: Fingerprint,
        channel: ChannelID,
        status: NotificationStatus,
        token: String,
        settings: NotificationSettings
    ) -> NotificationClaim {
        let key = Key(fingerprint: fingerprint, channel: channel)
        let time = now()
        var machine = NotificationStateMachine(state: states[key] ?? NotificationState(), settings: settings)
        let failures = machine.state.failures
        let decision = machine.claim(status: status, token: token, now: time)
        states[key] = machine.state
        return NotificationClaim(
            decision: decision,
            now: time,
            previousFailures: failures,
            reference: machine.state.reference
        )
    }

    @discardableResult
    package func markSent(
        fingerprint: Fingerprint,
        channel: ChannelID,
        token: String,
        status: NotificationStatus,
        reference: String?
    ) -> Bool {
        let key = Key(fingerprint: fingerprint, channel: channel)
        guard let state = states[key] else { return false }
        var machine = NotificationStateMachine(state: state, settings: NotificationSettings())
        let applied = machine.markSent(token: token, status: status, now: now(), reference: reference)
        states[key] = machine.state
        return applied
    }

    @discardableResult
    package func markFailed(
        fingerprint: Fingerprint,
        channel: ChannelID,
        token: String,
        error: String,
        settings: NotificationSettings
    ) -> Date? {
        let key = Key(fingerprint: fingerprint, channel: channel)
        guard let state = states[key] else { return nil }
        var machine = NotificationStateMachine(state: state, settings: settings)
        let next = machine.markFailed(token: token, error: error, now: now())
        states[key] = machine.state
        return next
    }

    package func state(fingerprint: Fingerprint, channel: ChannelID) -> NotificationState? {
        states[Key(fingerprint: fingerprint, channel: channel)]
    }

    /// Forgets incidents whose last delivery is older than `age` and that hold no claim (housekeeping).
    package func prune(olderThan age: Duration) {
        let cutoff = now().addingTimeInterval(-age.timeInterval)
        states = states.filter { _, state in
            state.claim != nil || (state.lastNotifiedAt ?? state.nextAttemptAt ?? .distantFuture) >= cutoff
        }
    }
}
