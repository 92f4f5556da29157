import CoreMetrics
import FluxbrainCore
import Prometheus

/// The swift-metrics backend of the executable: Prometheus metrics in a ``PrometheusCollectorRegistry``, each with
/// the `# HELP` text of ``FluxbrainMetricsFactory/catalog`` and, for timers, buckets up to five minutes (an
/// Errorbrain call may take its 30 s timeout several times; a notification may sleep through `Retry-After`).
///
/// A metric missing from the catalog is exported without `# HELP`, which `promtool check metrics` (run by CI on a
/// live scrape) reports.
package struct FluxbrainMetricsFactory: Sendable {
    /// Where the metrics live; ``FluxbrainRuntime`` serves it on `/metrics`.
    package let registry: PrometheusCollectorRegistry

    /// `# HELP` text of every metric Fluxbrain exports, by name.
    package static let catalog: [String: String] = [
        "fluxbrain_build_info": "Always 1; the labels name the version and git revision of the running binary.",
        "fluxbrain_leader": "1 while this replica holds the scheduler lock, else 0.",
        "fluxbrain_leader_epoch": "Fencing epoch of the scheduler lock this replica last held.",
        "fluxbrain_cluster_up": "1 while every watched Flux kind of the cluster can be read, else 0.",
        "fluxbrain_incidents_open": "Open incidents per cluster, as the leader last counted them.",
        "fluxbrain_enqueued_total": "Work items the scheduler put on the queue, by incident transition.",
        "fluxbrain_incidents_unrouted_total":
            "Incidents that matched no route and were not notified (each counted once per process).",
        "fluxbrain_fenced_writes_total": "Queue writes refused because another replica had taken the lock.",
        "fluxbrain_work_items_total":
            "Work items this replica processed, by result (done, retry, error, lost, interrupted).",
        "fluxbrain_work_item_seconds": "Time to process one work item: analysis and notifications, retries included.",
        "fluxbrain_queue_depth": "Items in the shared work queue, by state (ready, delayed, leased, dead, pending).",
        "fluxbrain_queue_dead_letters_total":
            "Work items this replica moved to the dead-letter list after the last attempt.",
        "fluxbrain_queue_malformed_total": "Claimed work items whose payload could not be decoded.",
        "fluxbrain_queue_errors_total": "Failed queue operations, by operation.",
        "fluxbrain_queue_reaped_total": "Expired leases reclaimed from crashed workers, by result (requeued, dead).",
        "fluxbrain_analysis_total":
            "Errorbrain analyses, by result (analyzed, cached, backoff, failed, unavailable, not_configured).",
        "fluxbrain_analysis_seconds": "Time of one Errorbrain analysis call, retries included.",
        "fluxbrain_notifications_total":
            "Notification attempts, by channel, kind (firing, resolved, reminder) and result (sent, failed, retried).",
        "fluxbrain_alertmanager_requests_total":
            "Alerts posted to each Alertmanager of an alertmanager channel, by channel, alertmanager (host:port) and "
            + "result (accepted, rejected, failed).",
        "fluxbrain_notification_seconds":
            "Time of one notification send, retries and Retry-After waits included, by channel.",
        "fluxbrain_kube_requests_total": "Kubernetes API requests, by cluster and HTTP status code.",
        "fluxbrain_kube_watch_restarts_total": "Watch streams restarted, by cluster and kind.",
        "fluxbrain_kube_objects_malformed_total":
            "Flux objects skipped because they could not be decoded, by cluster and kind.",
        "fluxbrain_silences_active":
            "Silences in effect now (fluxbrain silence add), as this replica last read them from the shared store.",
        "fluxbrain_redis_commands_total": "Redis commands sent.",
        "fluxbrain_redis_errors_total": "Redis command failures, by kind.",
        "fluxbrain_redis_reconnects_total": "Redis reconnections.",
    ]

    /// Bucket bounds of every timer: 5 ms to 5 min, so a slow Errorbrain (30 s timeout, retried) or a notification
    /// waiting out a `Retry-After` still falls into a finite bucket.
    package static let durationBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
        .seconds(30), .seconds(60), .seconds(120), .seconds(300),
    ]

    /// A factory over `registry`, which also gets `fluxbrain_build_info{version,revision} 1`.
    package init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        registry.makeGauge(
            name: "fluxbrain_build_info",
            labels: [("version", BuildInfo.version), ("revision", BuildInfo.revision)],
            help: Self.help("fluxbrain_build_info")
        ).set(1.0)
    }

    private static func help(_ name: String) -> String {
        catalog[name] ?? ""
    }
}

extension FluxbrainMetricsFactory: CoreMetrics.MetricsFactory {
    package func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(name: label, labels: dimensions, help: Self.help(label))
    }

    package func makeFloatingPointCounter(
        label: String,
        dimensions: [(String, String)]
    ) -> any FloatingPointCounterHandler {
        registry.makeCounter(name: label, labels: dimensions, help: Self.help(label))
    }

    package func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else { return registry.makeGauge(name: label, labels: dimensions, help: Self.help(label)) }
        return registry.makeValueHistogram(
            name: label,
            labels: dimensions,
            buckets: [1, 5, 10, 50, 100, 500, 1000, 5000, 10000],
            help: Self.help(label)
        )
    }

    package func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(name: label, labels: dimensions, help: Self.help(label))
    }

    package func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        registry.makeDurationHistogram(
            name: label,
            labels: dimensions,
            buckets: Self.durationBuckets,
            help: Self.help(label)
        )
    }

    package func destroyCounter(_ handler: any CounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    package func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    package func destroyRecorder(_ handler: any RecorderHandler) {
        switch handler {
        case let gauge as Prometheus.Gauge: registry.unregisterGauge(gauge)
        case let histogram as Histogram<Double>: registry.unregisterValueHistogram(histogram)
        default: break
        }
    }

    package func destroyMeter(_ handler: any MeterHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
    }

    package func destroyTimer(_ handler: any TimerHandler) {
        if let histogram = handler as? Histogram<Duration> { registry.unregisterDurationHistogram(histogram) }
    }
}
