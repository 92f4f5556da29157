import CoreMetrics
import FluxbrainCore

/// The queue's swift-metrics instruments.
///
/// - `fluxbrain_queue_depth{state=ready|delayed|leased|dead|pending}` (gauge): refreshed by
///   ``RedisCoordination/stats()`` and ``RedisCoordination/refreshGauges()``.
/// - `fluxbrain_queue_dead_letters_total` (counter): items this replica's calls dead-lettered.
/// - `fluxbrain_queue_malformed_total` (counter): claimed items whose payload could not be decoded.
struct QueueMetrics: Sendable {
    let ready: Gauge
    let delayed: Gauge
    let leased: Gauge
    let dead: Gauge
    let pending: Gauge
    let deadLetters: Counter
    let malformed: Counter

    init(factory: any MetricsFactory) {
        func depth(_ state: String) -> Gauge {
            Gauge(label: "fluxbrain_queue_depth", dimensions: [("state", state)], factory: factory)
        }
        ready = depth("ready")
        delayed = depth("delayed")
        leased = depth("leased")
        dead = depth("dead")
        pending = depth("pending")
        deadLetters = Counter(label: "fluxbrain_queue_dead_letters_total", factory: factory)
        malformed = Counter(label: "fluxbrain_queue_malformed_total", factory: factory)
    }

    func record(_ stats: QueueStats) {
        ready.record(stats.ready)
        delayed.record(stats.delayed)
        leased.record(stats.leased)
        dead.record(stats.dead)
        pending.record(stats.pending)
    }
}
