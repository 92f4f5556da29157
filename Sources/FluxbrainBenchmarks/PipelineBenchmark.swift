import FluxbrainCore
import FluxbrainTestbed
import Foundation
import Logging

/// `fluxbrain-bench pipeline [--replicas 3] [--workers 4] [--items 600] [--delays-ms 100,0] [--rounds 1]
/// [--baseline PATH]`
///
/// Items per second and Fluxbrain CPU per item through the real pipeline: `--replicas` release `fluxbrain run
/// --snapshot` processes with `--workers` workers each, coordinated through a throwaway `redis-server` on loopback,
/// a snapshot of `--items` failing Kustomizations (so the leader enqueues them all in its first pass), an
/// Errorbrain stand-in answering after each delay of `--delays-ms` (``BenchmarkErrorbrain``) and the testbed's
/// webhook sink, both in this process on loopback. Every incident is analysed and delivered to the webhook once.
///
/// - Throughput: deliveries from the first to the last one (the steady state, without process start-up and the
///   first pass), against the ideal `replicas × workers / delay`.
/// - CPU: user + system time of the replica processes (`/proc/<pid>/stat`, summed) between the first and the last
///   delivery, divided by the items delivered in between; this process (the fakes, Redis) is not counted. CPU
///   time, not wall time, so other work on the machine does not inflate it.
/// - Idle: the replicas' CPU over the 5 s after the last delivery, every incident still open and nothing left to do
///   (lock renewals, heartbeat timers, the leader's passes over the open incidents), and what that rate adds to the
///   CPU per item over the measured span: the part of the figure that is not the items' own work.
/// - `--rounds N` measures each delay N times and reports the median (and the range): on a shared host the same
///   binary's CPU per item moves by ±15 % from one minute to the next. `--baseline PATH` runs another `fluxbrain`
///   binary (an earlier build) before this one in every round, with the same settings, and prints each round's pair
///   and the median of their ratios: the comparison the host's drift does not spoil.
enum PipelineBenchmark {
    static let usage =
        "pipeline [--replicas 3] [--workers 4] [--items 600] [--delays-ms 100,0] [--rounds 1] [--baseline PATH]: "
        + "items/s and CPU ms per item, N fluxbrain run replicas on Redis, fake Errorbrain and webhook on loopback; "
        + "with a baseline binary, interleaved pairs and their ratios"

    static func run(_ arguments: [String]) async throws {
        let options = try BenchmarkSupport.Options(
            arguments,
            known: ["--replicas", "--workers", "--items", "--delays-ms", "--rounds", "--baseline"],
            usage: usage
        )
        let replicas = try options.int("--replicas", default: 3)
        let workers = try options.int("--workers", default: 4)
        let items = try options.int("--items", default: 600)
        let delays = try options.ints("--delays-ms", default: [100, 0])
        let rounds = try options.int("--rounds", default: 1)
        let baseline = options.string("--baseline").map { URL(fileURLWithPath: $0) }
        if let baseline, !FileManager.default.isExecutableFile(atPath: baseline.path) {
            throw DetectionBenchmark.BenchmarkError("--baseline \(baseline.path) is not an executable file")
        }
        print("machine: \(BenchmarkSupport.machine())")
        if let baseline { print("baseline: \(baseline.path), run first in each round") }
        let redis = try await BenchmarkRedisServer.start()
        defer { redis.stop() }
        for delay in delays {
            var results: [Result] = []
            var baselineResults: [Result] = []
            for round in 1...max(rounds, 1) {
                func measured(_ executable: URL?) async throws -> Result {
                    try await measure(
                        replicas: replicas,
                        workers: workers,
                        items: items,
                        delay: .milliseconds(delay),
                        redisPort: redis.port,
                        executable: executable
                    )
                }
                if let baseline {
                    let before = try await measured(baseline)
                    let now = try await measured(nil)
                    baselineResults.append(before)
                    results.append(now)
                    print(
                        "  \(delay) ms, round \(round): CPU per item baseline \(BenchmarkSupport.format(before.cpuPerItem, 2)) ms, "
                            + "this build \(BenchmarkSupport.format(now.cpuPerItem, 2)) ms, ratio "
                            + "\(BenchmarkSupport.format(now.cpuPerItem / before.cpuPerItem, 2)); throughput "
                            + "\(BenchmarkSupport.format(before.rate, 0)) / \(BenchmarkSupport.format(now.rate, 0)) items/s"
                            + "  (load average \(RedisBenchmark.loadAverage()))"
                    )
                } else {
                    results.append(try await measured(nil))
                    if rounds > 1 {
                        print(
                            "  \(delay) ms, round \(round): CPU per item \(BenchmarkSupport.format(results.last!.cpuPerItem, 2)) ms"
                                + "  (load average \(RedisBenchmark.loadAverage()))"
                        )
                    }
                }
            }
            report(
                results,
                baseline: baselineResults,
                delay: delay,
                replicas: replicas,
                workers: workers,
                items: items
            )
        }
    }

    /// The summary of one delay: the median round's figures (the only round's, with `--rounds 1`), the range over
    /// the rounds, and against the baseline the median of the per-round ratios.
    private static func report(
        _ results: [Result],
        baseline: [Result],
        delay: Int,
        replicas: Int,
        workers: Int,
        items: Int
    ) {
        let result = median(results)
        let ideal = delay > 0 ? Double(replicas * workers) * 1000 / Double(delay) : nil
        let rounds = results.count > 1 ? ", median of \(results.count) rounds" : ""
        print(
            "Errorbrain answering in \(delay) ms, \(replicas) replicas × \(workers) workers, \(items) items\(rounds):"
        )
        print(
            "  throughput (first to last delivery): \(BenchmarkSupport.format(result.rate, 0)) items/s"
                + (ideal.map {
                    "; ideal \(BenchmarkSupport.format($0, 0)) items/s; ratio "
                        + "\(BenchmarkSupport.format(result.rate / $0, 2)) (target ≥ 0.9)"
                } ?? "; anchor: Redis runs the 3-script queue cycle at ~14,700/s on this machine")
        )
        print(
            "  Fluxbrain CPU per item (user+sys, sum over replicas): \(BenchmarkSupport.format(result.cpuPerItem, 2)) ms"
                + "; limit 1 ms; ratio \(BenchmarkSupport.format(result.cpuPerItem / 1, 2))"
                + "  (whole run incl. start-up and first pass: \(BenchmarkSupport.format(result.cpuPerItemWholeRun, 2)) ms)"
        )
        if results.count > 1 {
            let all = results.map(\.cpuPerItem)
            print(
                "  CPU per item over the rounds: \(BenchmarkSupport.format(all.min()!, 2))–"
                    + "\(BenchmarkSupport.format(all.max()!, 2)) ms"
            )
        }
        if !baseline.isEmpty {
            let ratios = zip(results, baseline).map { $0.cpuPerItem / $1.cpuPerItem }
            print(
                "  baseline CPU per item: \(BenchmarkSupport.format(median(baseline).cpuPerItem, 2)) ms (median); "
                    + "this build / baseline, per round: "
                    + ratios.map { BenchmarkSupport.format($0, 2) }.joined(separator: ", ")
                    + "; median \(BenchmarkSupport.format(ratios.sorted()[ratios.count / 2], 2))"
            )
        }
        print(
            "  idle afterwards with \(items) open incidents: \(BenchmarkSupport.format(result.idleMillisecondsPerSecond, 1)) ms "
                + "CPU per second (sum over replicas); over the measured span that is "
                + "\(BenchmarkSupport.format(result.idleShareOfCPUPerItem, 2)) ms of the CPU per item"
        )
        print(
            "  replica RSS after the run: "
                + result.rssMiB.map { BenchmarkSupport.format($0) + " MiB" }.joined(separator: ", ")
                + "  (anchor: Go controllers 30–60 MB)"
        )
    }

    /// The round whose CPU per item is the median (the upper one of an even count).
    private static func median(_ results: [Result]) -> Result {
        results.sorted { $0.cpuPerItem < $1.cpuPerItem }[results.count / 2]
    }

    struct Result {
        var rate: Double
        var cpuPerItem: Double
        var cpuPerItemWholeRun: Double
        /// Replica CPU per second of wall time once everything was delivered (milliseconds per second).
        var idleMillisecondsPerSecond: Double
        /// ``idleMillisecondsPerSecond`` over the measured span, per item measured (milliseconds).
        var idleShareOfCPUPerItem: Double
        var rssMiB: [Double]
    }

    static func measure(
        replicas count: Int,
        workers: Int,
        items: Int,
        delay: Duration,
        redisPort: Int,
        executable: URL? = nil
    ) async throws -> Result {
        let logger = BenchmarkSupport.quietLogger
        return try await BenchmarkErrorbrain.withRunning(delay: delay, logger: logger) { errorbrain in
            try await WebhookSink.withRunning(logger: logger) { sink, sinkURL in
                var environment = ReplicaProcesses.environment(
                    redisPort: redisPort,
                    prefix: "bench-\(UUID().uuidString.prefix(8).lowercased())",
                    webhook: sinkURL,
                    errorbrain: errorbrain
                )
                environment["FLUXBRAIN_WORKERS"] = "\(workers)"
                let replicas = try ReplicaProcesses(environment: environment, executable: executable)
                defer { replicas.stopAll() }
                let snapshot = replicas.directory.appendingPathComponent("snapshot")
                try writeFailing(items, to: snapshot)
                for index in 1...count {
                    try replicas.start("r\(index)", arguments: ["run", "--snapshot", snapshot.path])
                }
                try await BenchmarkSupport.wait(for: "the first delivery", timeout: .seconds(60), replicas: replicas) {
                    !sink.records.isEmpty
                }
                let firstCPU = replicas.cpuSeconds()
                let firstCount = sink.records.count
                try await BenchmarkSupport.wait(
                    for: "\(items) deliveries",
                    timeout: .seconds(300),
                    poll: .milliseconds(10),
                    replicas: replicas
                ) {
                    sink.records.count >= items
                }
                let lastCPU = replicas.cpuSeconds()
                let records = sink.records
                let failed = records.filter { ($0.status ?? 200) >= 300 || $0.body["kind"]?.stringValue != "firing" }
                guard failed.isEmpty, Set(records.compactMap(\.fingerprint)).count == items else {
                    throw DetectionBenchmark.BenchmarkError(
                        "expected \(items) distinct firing deliveries, got \(records.count) (\(failed.count) other)"
                    )
                }
                let times = records.map(\.receivedAt).sorted()
                let span = times.last!.timeIntervalSince(times.first!)
                let idleStart = (cpu: replicas.cpuSeconds(), at: ContinuousClock.now)
                try await Task.sleep(for: .seconds(5))
                let idleSeconds = (ContinuousClock.now - idleStart.at).timeInterval
                let idleRate = (replicas.cpuSeconds() - idleStart.cpu) * 1000 / idleSeconds
                let measured = Double(max(records.count - firstCount, 1))
                return Result(
                    rate: span > 0 ? Double(times.count - 1) / span : 0,
                    cpuPerItem: (lastCPU - firstCPU) * 1000 / measured,
                    cpuPerItemWholeRun: lastCPU * 1000 / Double(records.count),
                    idleMillisecondsPerSecond: idleRate,
                    idleShareOfCPUPerItem: idleRate * span / measured,
                    rssMiB: replicas.rssMiB()
                )
            }
        }
    }

    /// `count` failing Kustomizations (the detection benchmark's realistic objects) as one `List` file.
    static func writeFailing(_ count: Int, to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var text = #"{"apiVersion":"v1","kind":"List","items":["#
        for index in 0..<count {
            if index > 0 { text += "," }
            text += DetectionBenchmark.objectJSON(kind: .kustomization, index: index, failing: true)
        }
        text += "]}"
        try text.write(to: directory.appendingPathComponent("objects.json"), atomically: true, encoding: .utf8)
    }
}
