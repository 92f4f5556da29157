/// The outcome a notification metric counts.
package enum NotificationResult: String, Sendable, Hashable, CaseIterable {
    /// Delivered.
    case sent
    /// The send failed; the channel backs off.
    case failed
    /// A send that repeats an earlier attempt (after a backoff, or an HTTP retry inside the notifier).
    case retried
}

/// Where the dispatcher reports per-channel metrics.
///
/// Core has no metrics dependency: `FluxbrainIntegrations` provides `SwiftMetricsNotificationMetrics`, which records
/// `fluxbrain_notifications_total{channel,kind,result}` and `fluxbrain_notification_seconds{channel}`.
package protocol NotificationMetrics: Sendable {
    /// Counts one notification outcome.
    func count(channel: ChannelID, kind: NotificationKind, result: NotificationResult)
    /// Records how long one send took, retries included.
    func recordLatency(channel: ChannelID, seconds: Double)
}

/// Records nothing.
package struct NoNotificationMetrics: NotificationMetrics {
    package init() {}
    package func count(channel: ChannelID, kind: NotificationKind, result: NotificationResult) {}
    package func recordLatency(channel: ChannelID, seconds: Double) {}
}
