import CoreMetrics
import FluxbrainCore
import Logging
import ServiceLifecycle

/// Publishes how many silences are in effect as `fluxbrain_silences_active`, every `interval`: the one writer of
/// that gauge.
///
/// Every replica runs one and reads the shared store (Redis), so each exports the same number whichever replica
/// Prometheus scrapes; a silence that ends drops out at the next refresh, with nobody having to expire it.
struct SilenceGauge: Service {
    let store: any SilenceStore
    let interval: Duration
    let clock: any Clock<Duration>
    let wallClock: any WallClock
    let gauge: CoreMetrics.Gauge
    let logger: Logger

    init(
        store: any SilenceStore,
        interval: Duration,
        clock: any Clock<Duration>,
        wallClock: any WallClock,
        metricsFactory: any MetricsFactory,
        logger: Logger
    ) {
        self.store = store
        self.interval = interval
        self.clock = clock
        self.wallClock = wallClock
        self.gauge = CoreMetrics.Gauge(label: "fluxbrain_silences_active", dimensions: [], factory: metricsFactory)
        self.logger = logger
    }

    func run() async throws {
        await refreshPeriodically(every: interval, on: clock) { await refresh() }
    }

    /// Counts the active silences once into the gauge; a failed read leaves it as it was.
    func refresh() async {
        do {
            gauge.record(try await store.active(at: wallClock.now()).count)
        } catch {
            logger.debug("could not count the active silences", metadata: ["error": .error(error)])
        }
    }
}
