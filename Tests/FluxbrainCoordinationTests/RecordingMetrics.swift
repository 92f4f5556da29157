import CoreMetrics
import Synchronization

/// A tiny in-memory `MetricsFactory` for asserting on counters and gauges without a global bootstrap
/// (MetricsTestKit is not a dependency of this test target).
final class RecordingMetrics: MetricsFactory, Sendable {
    private let values = Mutex<[String: Double]>([:])

    /// The last recorded value (gauges) or the sum (counters) of `label` with `dimensions`.
    func value(_ label: String, _ dimensions: [(String, String)] = []) -> Double? {
        values.withLock { $0[Self.name(label, dimensions)] }
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        Handler(name: Self.name(label, dimensions), values: self)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        Handler(name: Self.name(label, dimensions), values: self)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        Handler(name: Self.name(label, dimensions), values: self)
    }

    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}

    fileprivate func add(_ name: String, _ value: Double) {
        values.withLock { $0[name, default: 0] += value }
    }

    fileprivate func set(_ name: String, _ value: Double) {
        values.withLock { $0[name] = value }
    }

    private static func name(_ label: String, _ dimensions: [(String, String)]) -> String {
        dimensions.isEmpty ? label : label + "{" + dimensions.map { "\($0.0)=\($0.1)" }.joined(separator: ",") + "}"
    }

    private final class Handler: CounterHandler, RecorderHandler, TimerHandler, Sendable {
        let name: String
        let values: RecordingMetrics

        init(name: String, values: RecordingMetrics) {
            self.name = name
            self.values = values
        }

        func increment(by amount: Int64) { values.add(name, Double(amount)) }
        func reset() { values.set(name, 0) }
        func record(_ value: Int64) { values.set(name, Double(value)) }
        func record(_ value: Double) { values.set(name, value) }
        func recordNanoseconds(_ duration: Int64) { values.set(name, Double(duration)) }
    }
}
