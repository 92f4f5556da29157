import FluxbrainCore

/// What processing one work item came to.
package enum ProcessingResult: Sendable, Equatable {
    /// Done: every channel notified or had nothing to send. The item is acked.
    case done
    /// Try again after `delay` (analysis backoff, a failing channel). The item is nacked with `reason`.
    case retry(after: Duration, reason: String)
}

/// Analyzes and notifies one work item. The worker pool owns claiming, leases and acks around it.
///
/// Implementations check `Task.isCancelled` before each side effect: the pool cancels processing when the lease
/// is lost, so that a worker that lost its claim stops before sending anything.
package protocol IncidentProcessor: Sendable {
    func process(_ item: WorkItem) async throws -> ProcessingResult

    /// ``process(_:)``, leaving deliveries it made unrecorded in `deliveries` for the worker to record with the
    /// item's ack (one round trip on Redis; ``PendingDelivery``). The worker records them whatever the outcome,
    /// also when processing throws or is stopped. By default, ``process(_:)``, which records its own.
    func process(_ item: WorkItem, deliveries: DeliveryLog) async throws -> ProcessingResult
}

extension IncidentProcessor {
    package func process(_ item: WorkItem, deliveries: DeliveryLog) async throws -> ProcessingResult {
        try await process(item)
    }
}
