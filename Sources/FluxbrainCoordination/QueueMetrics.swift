import CoreMetrics
import FluxbrainCore

/// The Redis queue's own swift-metrics instruments (the depth gauges are the service's `QueueGauges`).
///
/// - `fluxbrain_queue_dead_letters_total` (counter): items this replica's calls dead-lettered.
/// - `fluxbrain_queue_malformed_total` (counter): claimed items whose payload could not be decoded.
struct QueueMetrics: Sendable {
    let deadLetters: Counter
    let malformed: Counter

    init(factory: any MetricsFactory) {
        deadLetters = Counter(label: "fluxbrain_queue_dead_letters_total", factory: factory)
        malformed = Counter(label: "fluxbrain_queue_malformed_total", factory: factory)
    }

}
