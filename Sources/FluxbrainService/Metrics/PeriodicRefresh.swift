import ServiceLifecycle

/// Runs `refresh` at once and then every `interval` on `clock`, until graceful shutdown or cancellation: the loop of
/// the services that keep a gauge current (`QueueGauges`, ``SilenceGauge``).
func refreshPeriodically(
    every interval: Duration,
    on clock: any Clock<Duration>,
    _ refresh: @escaping @Sendable () async -> Void
) async {
    try? await cancelWhenGracefulShutdown {
        while !Task.isCancelled {
            await refresh()
            try await clock.sleep(for: interval)
        }
    }
}
