import FluxbrainCore
import Metrics

/// Per-channel notification metrics through swift-metrics:
/// `fluxbrain_notifications_total{channel,kind,result}` (counter; result is `sent`, `failed` or `retried`) and
/// `fluxbrain_notification_seconds{channel}` (timer: how long one send took, retries included).
package struct SwiftMetricsNotificationMetrics: NotificationMetrics {
    private let factory: any MetricsFactory

    /// - Parameter factory: the metrics backend; defaults to the one bootstrapped by the executable.
    package init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
    }

    package func count(channel: ChannelID, kind: NotificationKind, result: NotificationResult) {
        Counter(
            label: "fluxbrain_notifications_total",
            dimensions: [("channel", channel.rawValue), ("kind", kind.rawValue), ("result", result.rawValue)],
            factory: factory
        ).increment()
    }

    package func recordLatency(channel: ChannelID, seconds: Double) {
        Metrics.Timer(
            label: "fluxbrain_notification_seconds",
            dimensions: [("channel", channel.rawValue)],
            factory: factory
        ).recordNanoseconds(Int64(seconds * 1e9))
    }
}
