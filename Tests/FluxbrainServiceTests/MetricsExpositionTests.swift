import FluxbrainCore
import FluxbrainService
import Foundation
import Metrics
import Prometheus
import Testing

/// What `/metrics` exports through ``FluxbrainMetricsFactory``: HELP text, long enough duration buckets,
/// `fluxbrain_build_info`.
@Suite struct MetricsExpositionTests {
    @Test func buildInfoNamesTheVersionAndRevision() {
        let registry = PrometheusCollectorRegistry()
        _ = FluxbrainMetricsFactory(registry: registry)
        let text = registry.emitToString()
        #expect(text.contains("# HELP fluxbrain_build_info "))
        #expect(
            text.contains(
                #"fluxbrain_build_info{version="\#(BuildInfo.version)",revision="\#(BuildInfo.revision)"} 1"#
            )
        )
    }

    @Test func timersHaveHelpAndBucketsBeyondTheErrorbrainTimeout() {
        let registry = PrometheusCollectorRegistry()
        let factory = FluxbrainMetricsFactory(registry: registry)
        // An Errorbrain call that used its whole 30 s timeout, then a retry.
        Metrics.Timer(label: "fluxbrain_analysis_seconds", factory: factory).recordSeconds(45)
        let text = registry.emitToString()
        #expect(text.contains("# HELP fluxbrain_analysis_seconds "))
        #expect(text.contains(#"fluxbrain_analysis_seconds_bucket{le="30.0"} 0"#))
        #expect(text.contains(#"fluxbrain_analysis_seconds_bucket{le="60.0"} 1"#))
    }

    /// Every metric the sources create is in the catalog, so it is exported with `# HELP`.
    @Test func everyMetricInTheSourcesHasHelpText() throws {
        let sources = FluxbrainProcess.packageRoot.appendingPathComponent("Sources")
        let names = try FileManager.default.subpathsOfDirectory(atPath: sources.path)
            .filter { $0.hasSuffix(".swift") }
            .flatMap { file -> [String] in
                let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
                return text.matches(of: /label: "(fluxbrain_[a-z_]+)"/).map { String($0.output.1) }
            }
        #expect(names.count > 20, "the scan found the metrics")
        #expect(Set(names).subtracting(FluxbrainMetricsFactory.catalog.keys).isEmpty)
    }
}
