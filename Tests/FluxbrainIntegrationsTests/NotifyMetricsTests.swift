import CoreMetrics
import FluxbrainCore
import FluxbrainIntegrations
import Synchronization
import Testing

/// A metrics backend that keeps counts and timer recordings by label and dimensions.
final class CapturingMetrics: MetricsFactory, Sendable {
    final class Handler: CounterHandler, TimerHandler, RecorderHandler, Sendable {
        let key: String
        let owner: CapturingMetrics
        init(key: String, owner: CapturingMetrics) {
            self.key = key
            self.owner = owner
        }
        func increment(by amount: Int64) { owner.values.withLock { $0[key, default: 0] += amount } }
        func reset() {}
        func recordNanoseconds(_ duration: Int64) { owner.values.withLock { $0[key, default: 0] += 1 } }
        func record(_ value: Int64) {}
        func record(_ value: Double) {}
    }

    let values = Mutex<[String: Int64]>([:])
    /// How many handles were asked for.
    let made = Mutex(0)

    subscript(_ key: String) -> Int64 { values.withLock { $0[key] ?? 0 } }

    private func key(_ label: String, _ dimensions: [(String, String)]) -> String {
        made.withLock { $0 += 1 }
        return label + "{" + dimensions.map { "\($0.0)=\($0.1)" }.joined(separator: ",") + "}"
    }
    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        Handler(key: key(label, dimensions), owner: self)
    }
    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        Handler(key: key(label, dimensions), owner: self)
    }
    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        Handler(key: key(label, dimensions), owner: self)
    }
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}
}

@Suite struct NotifyMetricsTests {
    @Test func countsAndLatencyUseConventionalNamesAndLabels() {
        let backend = CapturingMetrics()
        let metrics = SwiftMetricsNotificationMetrics(factory: backend)
        metrics.count(channel: .slack, kind: .firing, result: .sent)
        metrics.count(channel: .slack, kind: .firing, result: .sent)
        metrics.count(channel: .github, kind: .resolved, result: .failed)
        metrics.count(channel: .webhook, kind: .reminder, result: .retried)
        metrics.recordLatency(channel: .slack, seconds: 0.25)
        #expect(backend["fluxbrain_notifications_total{channel=slack,kind=firing,result=sent}"] == 2)
        #expect(backend["fluxbrain_notifications_total{channel=github,kind=resolved,result=failed}"] == 1)
        #expect(backend["fluxbrain_notifications_total{channel=webhook,kind=reminder,result=retried}"] == 1)
        #expect(backend["fluxbrain_notification_seconds{channel=slack}"] == 1)
    }

    /// A send records two metrics; the backend is asked for each label combination's handle once, not per send.
    @Test func handlesAreMadeOncePerLabelCombination() {
        let backend = CapturingMetrics()
        let metrics = SwiftMetricsNotificationMetrics(factory: backend)
        for _ in 0..<50 {
            metrics.count(channel: .webhook, kind: .firing, result: .sent)
            metrics.recordLatency(channel: .webhook, seconds: 0.01)
        }
        metrics.count(channel: .webhook, kind: .firing, result: .failed)
        #expect(backend["fluxbrain_notifications_total{channel=webhook,kind=firing,result=sent}"] == 50)
        #expect(backend["fluxbrain_notification_seconds{channel=webhook}"] == 50)
        #expect(backend.made.withLock { $0 } == 3)
    }
}
