import FluxbrainCore
import FluxbrainTestbed
import Foundation
import Logging

/// `fluxbrain-bench latency [--replicas 3] [--objects 200] [--flips 100] [--gap-ms 100] [--errorbrain-delay-ms 0]`
///
/// Failure visible in the API → webhook received, through `--replicas` release `fluxbrain run` processes on a
/// throwaway `redis-server`: the testbed's fake Kubernetes API (in this process, on loopback) serves `--objects`
/// Ready Kustomizations; the replicas watch it (`FLUXBRAIN_KUBE_API_URL`), analyse through the Errorbrain
/// stand-in and deliver to the testbed's webhook sink. After one warm-up incident, `--flips` objects are turned
/// `Ready=False` one at a time, `--gap-ms` apart once the previous one arrived; each latency is from the moment
/// the fake API server stored the failing object (and told its watchers) to the moment the sink received the
/// webhook, on this process's clock.
///
/// The steps are timed from the replicas' own JSON logs (the leader's `incident opened` line, millisecond
/// timestamps): API → incident opened (watch delivery, the scheduler's debounce, the pass) and incident opened →
/// webhook (queue, claim, Errorbrain, notification claim, POST).
enum LatencyBenchmark {
    static let usage =
        "latency [--replicas 3] [--objects 200] [--flips 100] [--gap-ms 100] [--errorbrain-delay-ms 0]: "
        + "failure in the fake API → webhook received, p50/p99"

    static func run(_ arguments: [String]) async throws {
        let options = try BenchmarkSupport.Options(
            arguments,
            known: ["--replicas", "--objects", "--flips", "--gap-ms", "--errorbrain-delay-ms"],
            usage: usage
        )
        let count = try options.int("--replicas", default: 3)
        let objects = try options.int("--objects", default: 200, minimum: 2)
        let flips = min(try options.int("--flips", default: 100), objects - 1)
        let gap = try options.int("--gap-ms", default: 100, minimum: 0)
        let delay = try options.int("--errorbrain-delay-ms", default: 0, minimum: 0)
        print("machine: \(BenchmarkSupport.machine())")
        let logger = BenchmarkSupport.quietLogger
        let redis = try await BenchmarkRedisServer.start()
        defer { redis.stop() }
        let state = FakeKubernetesState()
        for index in 0..<objects {
            try await state.apply(json: DetectionBenchmark.watchObject(index: index, failing: false))
        }
        let server = FakeKubernetesServer(state: state)
        let result = try await server.withRunning(logger: logger) { apiPort in
            try await BenchmarkErrorbrain.withRunning(delay: .milliseconds(delay), logger: logger) { errorbrain in
                try await WebhookSink.withRunning(logger: logger) { sink, sinkURL in
                    var environment = ReplicaProcesses.environment(
                        redisPort: redis.port,
                        prefix: "bench-latency",
                        webhook: sinkURL,
                        errorbrain: errorbrain
                    )
                    environment["FLUXBRAIN_KUBE_API_URL"] = "http://127.0.0.1:\(apiPort)"
                    let replicas = try ReplicaProcesses(environment: environment)
                    defer { replicas.stopAll() }
                    for index in 1...count { try replicas.start("r\(index)") }
                    return try await measure(
                        flips: flips,
                        gap: .milliseconds(gap),
                        state: state,
                        sink: sink,
                        replicas: replicas,
                        replicaCount: count
                    )
                }
            }
        }
        let latencies = result.latencies
        let p99 = DetectionBenchmark.percentile(latencies, 0.99)
        print(
            "\(count) replicas, \(objects) watched Kustomizations, \(latencies.count) flips, Errorbrain answering in "
                + "\(delay) ms:"
        )
        print(
            "  failure in the API → webhook received: p50 \(BenchmarkSupport.format(DetectionBenchmark.percentile(latencies, 0.5))) ms  "
                + "p99 \(BenchmarkSupport.format(p99)) ms  max \(BenchmarkSupport.format(latencies.max() ?? 0)) ms; "
                + "limit p99 ≤ 30 ms; ratio \(BenchmarkSupport.format(p99 / 30, 2))"
        )
        if !result.toOpened.isEmpty {
            print(
                "  of which API → `incident opened` (watch, debounce, pass; ms-resolution log timestamps): p50 "
                    + "\(BenchmarkSupport.format(DetectionBenchmark.percentile(result.toOpened, 0.5))) ms  p99 "
                    + "\(BenchmarkSupport.format(DetectionBenchmark.percentile(result.toOpened, 0.99))) ms"
            )
            print(
                "  and `incident opened` → webhook (queue, Errorbrain, notification): p50 "
                    + "\(BenchmarkSupport.format(DetectionBenchmark.percentile(result.fromOpened, 0.5))) ms  p99 "
                    + "\(BenchmarkSupport.format(DetectionBenchmark.percentile(result.fromOpened, 0.99))) ms"
            )
        }
        print(
            "  idle replica RSS before the flips: "
                + result.idleRSS.map { BenchmarkSupport.format($0) + " MiB" }.joined(separator: ", ")
                + "  (anchor: Go controllers 30–60 MB)"
        )
    }

    struct Result {
        var latencies: [Double] = []
        var toOpened: [Double] = []
        var fromOpened: [Double] = []
        var idleRSS: [Double] = []
    }

    static func measure(
        flips: Int,
        gap: Duration,
        state: FakeKubernetesState,
        sink: WebhookSink,
        replicas: ReplicaProcesses,
        replicaCount: Int
    ) async throws -> Result {
        var result = Result()
        // Warm-up: connections open, scripts loaded, leader elected, the cluster listed.
        try await state.apply(json: DetectionBenchmark.watchObject(index: 0, failing: true))
        try await BenchmarkSupport.wait(for: "the warm-up incident", timeout: .seconds(90), replicas: replicas) {
            !sink.records.isEmpty
        }
        try await Task.sleep(for: .seconds(1))
        result.idleRSS = replicas.rssMiB()
        var flipped: [(name: String, at: Date)] = []
        for index in 1...flips {
            let expected = sink.records.count + 1
            try await state.apply(json: DetectionBenchmark.watchObject(index: index, failing: true))
            let start = Date()
            try await BenchmarkSupport.wait(
                for: "the webhook of flip \(index)",
                timeout: .seconds(30),
                poll: .microseconds(500),
                replicas: replicas
            ) {
                sink.records.count >= expected
            }
            let received = sink.records[expected - 1].receivedAt
            result.latencies.append(received.timeIntervalSince(start) * 1000)
            flipped.append(("ks-\(index)", start))
            try await Task.sleep(for: gap)
        }
        // `incident opened` lines of whichever replica led, by object name.
        var opened: [String: Date] = [:]
        let parser = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)
        for index in 1...replicaCount {
            for line in replicas.log("r\(index)").split(separator: "\n") where line.contains("incident opened") {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                    let text = object["ts"] as? String, let date = try? parser.parse(text),
                    let reference = object["object"] as? String,
                    let name = reference.split(separator: "/").last
                else { continue }
                opened[String(name)] = date
            }
        }
        let records = sink.records
        for (offset, flip) in flipped.enumerated() {
            guard let at = opened[flip.name], offset + 1 < records.count else { continue }
            result.toOpened.append(max(0, at.timeIntervalSince(flip.at) * 1000))
            result.fromOpened.append(max(0, records[offset + 1].receivedAt.timeIntervalSince(at) * 1000))
        }
        return result
    }
}
