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
}
