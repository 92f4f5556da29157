import FluxbrainCore
import Metrics

/// Feeds analysis outcomes to swift-metrics: `fluxbrain_analysis_total{result}` and `fluxbrain_analysis_seconds`
/// (the time of each Errorbrain call, including the retries inside it).
package struct MetricsAnalysisObserver: AnalysisObserver {
    private let counters: [AnalysisMetricResult: Counter]
    private let seconds: Timer

    package init() {
        var counters: [AnalysisMetricResult: Counter] = [:]
        for result in AnalysisMetricResult.allCases {
            counters[result] = Counter(label: "fluxbrain_analysis_total", dimensions: [("result", result.rawValue)])
        }
        self.counters = counters
        self.seconds = Timer(label: "fluxbrain_analysis_seconds", preferredDisplayUnit: .seconds)
    }

    package func analysisFinished(result: AnalysisMetricResult, serviceSeconds: Double?) {
        counters[result]?.increment()
        if let serviceSeconds {
            seconds.recordNanoseconds(Int64(serviceSeconds * 1_000_000_000))
        }
    }
}
