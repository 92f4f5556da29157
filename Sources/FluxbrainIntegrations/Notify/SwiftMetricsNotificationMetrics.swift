import FluxbrainCore
import Metrics
import Synchronization

/// Per-channel notification metrics through swift-metrics:
/// `fluxbrain_notifications_total{channel,kind,result}` (counter; result is `sent`, `failed` or `retried`) and
/// `fluxbrain_notification_seconds{channel}` (timer: how long one send took, retries included).
///
/// Each label combination's handle is made on first use and kept: a send records two metrics, and asking the
/// backend for a handle by label each time costs more than the recording.
package final class SwiftMetricsNotificationMetrics: NotificationMetrics {
    private struct CountKey: Hashable {
        var channel: ChannelID
        var kind: NotificationKind
        var result: NotificationResult
    }

    private let factory: any MetricsFactory
    private let counters = Mutex<[CountKey: Counter]>([:])
    private let timers = Mutex<[ChannelID: Metrics.Timer]>([:])

    /// - Parameter factory: the metrics backend; defaults to the one bootstrapped by the executable.
    package init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
    }

    package func count(channel: ChannelID, kind: NotificationKind, result: NotificationResult) {
        let key = CountKey(channel: channel, kind: kind, result: result)
        let counter = counters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = Counter(
                label: "fluxbrain_notifications_total",
                dimensions: [("channel", channel.rawValue), ("kind", kind.rawValue), ("result", result.rawValue)],
                factory: factory
            )
            counters[key] = counter
            return counter
        }
        counter.increment()
    }

    package func recordLatency(channel: ChannelID, seconds: Double) {
        let timer = timers.withLock { timers in
            if let timer = timers[channel] { return timer }
            let timer = Metrics.Timer(
                label: "fluxbrain_notification_seconds",
                dimensions: [("channel", channel.rawValue)],
                factory: factory
            )
            timers[channel] = timer
            return timer
        }
        timer.recordNanoseconds(Int64(seconds * 1e9))
    }
}
