import CoreMetrics
import FluxbrainRedis
import FluxbrainTestSupport
import Logging
import Synchronization
import Testing

/// Log lines captured in memory (tests never bootstrap the global logging system).
final class CapturedLogs: Sendable {
    private let lines = Mutex<[String]>([])

    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }

    /// A logger at `trace` level writing here.
    func logger(_ label: String = "redis-test") -> Logger {
        var logger = Logger(label: label) { _ in CapturingLogHandler(sink: self) }
        logger.logLevel = .trace
        return logger
    }
}

struct CapturingLogHandler: LogHandler {
    let sink: CapturedLogs
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        sink.append("\(event.level) \(event.message) \(merged)")
    }
}

/// Counters captured in memory (tests never bootstrap the global metrics system).
final class CapturedMetrics: MetricsFactory, Sendable {
    private let counters = Mutex<[String: TestCounter]>([:])

    /// The value of the counter with this label and dimensions (`"label{kind=io}"` form), 0 if never created.
    func value(_ label: String, _ dimensions: [(String, String)] = []) -> Int64 {
        counters.withLock { $0[Self.key(label, dimensions)]?.value ?? 0 }
    }

    private static func key(_ label: String, _ dimensions: [(String, String)]) -> String {
        dimensions.isEmpty ? label : label + "{" + dimensions.map { "\($0)=\($1)" }.joined(separator: ",") + "}"
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        counters.withLock { counters in
            let key = Self.key(label, dimensions)
            if let existing = counters[key] { return existing }
            let counter = TestCounter()
            counters[key] = counter
            return counter
        }
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        NOOPMetricsHandler.instance
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        NOOPMetricsHandler.instance
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        NOOPMetricsHandler.instance
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        NOOPMetricsHandler.instance
    }

    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}
    func destroyMeter(_ handler: any MeterHandler) {}
}

final class TestCounter: CounterHandler, Sendable {
    private let total = Atomic<Int64>(0)
    var value: Int64 { total.load(ordering: .relaxed) }
    func increment(by amount: Int64) { total.add(amount, ordering: .relaxed) }
    func reset() { total.store(0, ordering: .relaxed) }
}

/// Runs `body` and returns the `RedisError` it threw; fails the test when it does not throw one.
func redisError(
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> Void
) async -> RedisError? {
    do {
        try await body()
        Issue.record("expected a RedisError, got success", sourceLocation: sourceLocation)
        return nil
    } catch let error as RedisError {
        return error
    } catch {
        Issue.record("expected a RedisError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// Runs `body` with a client of `redis`'s default configuration whose metrics go to a fresh ``CapturedMetrics``.
func withMeteredClient(
    _ redis: PlainRedis,
    _ body: (RedisClient, CapturedMetrics) async throws -> Void
) async throws {
    let metrics = CapturedMetrics()
    try await withRedisClient(
        configuration: redis.configuration(),
        logger: CapturedLogs().logger(),
        metricsFactory: metrics
    ) { client in
        try await body(client, metrics)
    }
}
