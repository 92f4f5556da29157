import FluxbrainCore
import FluxbrainTestbed
import Foundation
import Logging

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `fluxbrain-bench central [--clusters 10] [--sizes 200,1000] [--idle-seconds 10]`
///
/// One release `fluxbrain run` leader (a throwaway `redis-server`, `FLUXBRAIN_CLUSTERS` over a generated kubeconfig)
/// watching N fake clusters that this process serves on N loopback ports (the testbed's `FakeKubernetesServer`),
/// each with M Ready Kustomizations (the detection benchmark's realistic objects, ~2 KB of JSON each). Three runs,
/// a new leader process each: (N, M₁), (N, M₂) and (2N, M₁).
///
/// - Time to first full pass: leader start → every cluster has `fluxbrain_incidents_open{cluster=…}` on
///   `/metrics` (recorded once the cluster's every kind was listed and assessed).
/// - RSS (`VmRSS` of the leader once it is idle), after the first full pass (every object came from a list) and
///   again after every object was modified once (the watch delivered it: in a live cluster, status updates do
///   this all the time): per additional watched object as the slope between (N, M₁) and (N, M₂); per additional
///   cluster between (N, M₁) and (2N, M₁).
/// - Idle CPU: user + system time of the leader over `--idle-seconds` after the (N, M₂) pass, nothing changing.
/// - What one leader can hold: 1,000 clusters × 500 objects extrapolated from the two slopes, against 1.5 GiB.
enum CentralBenchmark {
    static let usage =
        "central [--clusters 10] [--sizes 200,1000] [--idle-seconds 10]: one leader watching N fake clusters × M "
        + "objects: first full pass, RSS per object and per cluster, idle CPU"

    static func run(_ arguments: [String]) async throws {
        let options = try BenchmarkSupport.Options(
            arguments,
            known: ["--clusters", "--sizes", "--idle-seconds"],
            usage: usage
        )
        let clusters = try options.int("--clusters", default: 10)
        let sizes = try options.ints("--sizes", default: [200, 1000])
        let idleSeconds = try options.int("--idle-seconds", default: 10)
        guard sizes.count == 2, sizes[0] < sizes[1] else {
            throw DetectionBenchmark.BenchmarkError("--sizes takes two object counts, smaller first")
        }
        print("machine: \(BenchmarkSupport.machine())")
        print(
            "one FluxObject: \(MemoryLayout<FluxObject>.size) bytes inline (spec \(MemoryLayout<FluxObject.Spec?>.size), "
                + "status \(MemoryLayout<FluxObject.Status?>.size), metadata \(MemoryLayout<FluxObject.ObjectMeta>.size))"
        )
        let redis = try await BenchmarkRedisServer.start()
        defer { redis.stop() }
        let small = try await measure(clusters: clusters, objects: sizes[0], idle: nil, redisPort: redis.port)
        small.print()
        let large = try await measure(
            clusters: clusters,
            objects: sizes[1],
            idle: .seconds(idleSeconds),
            redisPort: redis.port
        )
        large.print()
        let wide = try await measure(clusters: clusters * 2, objects: sizes[0], idle: nil, redisPort: redis.port)
        wide.print()

        let perObjectListedKiB =
            (large.listedRSSKiB - small.listedRSSKiB) / Double(clusters * (sizes[1] - sizes[0]))
        print(
            "RSS per additional object after the first list only: \(BenchmarkSupport.format(perObjectListedKiB, 2)) KiB"
        )
        let perObjectKiB = (large.rssKiB - small.rssKiB) / Double(clusters * (sizes[1] - sizes[0]))
        // The wide run also holds `clusters × sizes[0]` more objects.
        let perClusterKiB = (wide.rssKiB - small.rssKiB) / Double(clusters) - Double(sizes[0]) * perObjectKiB
        let baseKiB = small.rssKiB - Double(clusters) * perClusterKiB - Double(clusters * sizes[0]) * perObjectKiB
        print(
            "RSS per additional watched object, every object also modified once (slope \(clusters)×\(sizes[0]) → \(clusters)×\(sizes[1])): "
                + "\(BenchmarkSupport.format(perObjectKiB, 2)) KiB; limit 2 KiB; ratio "
                + "\(BenchmarkSupport.format(perObjectKiB / 2, 2))"
        )
        print(
            "RSS per additional watched cluster, its objects not counted (slope \(clusters) → \(clusters * 2) clusters of \(sizes[0])): "
                + "\(BenchmarkSupport.format(perClusterKiB, 0)) KiB; base \(BenchmarkSupport.format(baseKiB / 1024)) MiB"
        )
        let extrapolatedMiB = (baseKiB + 1000 * perClusterKiB + 1000 * 500 * perObjectKiB) / 1024
        print(
            "extrapolated 1,000 clusters × 500 objects: base + 1,000 × cluster + 500,000 × object = "
                + "\(BenchmarkSupport.format(extrapolatedMiB, 0)) MiB; limit 1536 MiB; ratio "
                + "\(BenchmarkSupport.format(extrapolatedMiB / 1536, 2))"
        )
    }

    struct Measurement {
        var clusters: Int
        var objects: Int
        var firstPassSeconds: Double
        var firstPassCPUSeconds: Double
        /// After the first pass (every object from a list).
        var listedRSSKiB: Double
        /// After a reconcile round (every object also delivered once by the watch).
        var rssKiB: Double
        var idleCPUPercent: Double?

        func print() {
            Swift.print(
                "\(clusters) clusters × \(objects) Kustomizations: first full pass \(BenchmarkSupport.format(firstPassSeconds, 2)) s "
                    + "(leader CPU \(BenchmarkSupport.format(firstPassCPUSeconds, 2)) s), RSS listed "
                    + "\(BenchmarkSupport.format(listedRSSKiB / 1024)) MiB, after every object was modified once "
                    + "\(BenchmarkSupport.format(rssKiB / 1024)) MiB"
                    + (idleCPUPercent.map { ", idle CPU \(BenchmarkSupport.format($0, 2)) % of a core" } ?? "")
            )
        }
    }

    static func measure(clusters: Int, objects: Int, idle: Duration?, redisPort: Int) async throws -> Measurement {
        let logger = BenchmarkSupport.quietLogger
        var states: [FakeKubernetesState] = []
        for _ in 0..<clusters {
            let state = FakeKubernetesState()
            for index in 0..<objects {
                try await state.apply(
                    json: DetectionBenchmark.objectJSON(kind: .kustomization, index: index, failing: false)
                )
            }
            states.append(state)
        }
        return try await withServers(states[...], ports: [], logger: logger) { ports in
            let replicas = try ReplicaProcesses(environment: [:])
            defer { replicas.stopAll() }
            let kubeconfig = replicas.directory.appendingPathComponent("kubeconfig")
            try Self.kubeconfig(ports: ports).write(to: kubeconfig, atomically: true, encoding: .utf8)
            let metricsPort = try BenchmarkRedisServer.freePort()
            let start = ContinuousClock.now
            try replicas.start(
                "leader",
                environment: [
                    "KUBECONFIG": kubeconfig.path,
                    "FLUXBRAIN_CLUSTERS": ports.indices.map { "c\($0)=c\($0)" }.joined(separator: ","),
                    "FLUXBRAIN_REDIS_URL": "redis://127.0.0.1:\(redisPort)/0",
                    "FLUXBRAIN_REDIS_PREFIX": "bench-central-\(UUID().uuidString.prefix(8).lowercased())",
                    "FLUXBRAIN_WEBHOOK_URL": "http://127.0.0.1:9/unused",
                    "FLUXBRAIN_HTTP_ADDR": "127.0.0.1:\(metricsPort)",
                    "FLUXBRAIN_LOG_FORMAT": "json",
                    "FLUXBRAIN_LOG_LEVEL": "info",
                ]
            )
            let wanted = ports.indices.map { "cluster=\"c\($0)\"" }
            try await BenchmarkSupport.wait(
                for: "the first full pass over \(ports.count) clusters",
                timeout: .seconds(300),
                poll: .milliseconds(50),
                replicas: replicas
            ) {
                guard let metrics = try? await Self.get("http://127.0.0.1:\(metricsPort)/metrics") else { return false }
                let lines = metrics.split(separator: "\n").filter { $0.hasPrefix("fluxbrain_incidents_open{") }
                return wanted.allSatisfy { label in lines.contains { $0.contains(label) } }
            }
            let firstPass = (ContinuousClock.now - start).timeInterval
            let firstPassCPU = replicas.cpuSeconds()
            try await settle(replicas)
            let listedRSS = Double(ReplicaProcesses.rssKiB(pid: replicas.pids[0]))
            // A reconcile round: every object MODIFIED once, so the cache holds what the watch path keeps.
            for state in states {
                for index in 0..<objects {
                    try await state.apply(
                        json: DetectionBenchmark.objectJSON(kind: .kustomization, index: index, failing: false)
                    )
                }
            }
            try await settle(replicas)
            let rss = Double(ReplicaProcesses.rssKiB(pid: replicas.pids[0]))
            var idlePercent: Double?
            if let idle {
                let before = replicas.cpuSeconds()
                let idleStart = ContinuousClock.now
                try await Task.sleep(for: idle)
                idlePercent = (replicas.cpuSeconds() - before) * 100 / (ContinuousClock.now - idleStart).timeInterval
            }
            return Measurement(
                clusters: clusters,
                objects: objects,
                firstPassSeconds: firstPass,
                firstPassCPUSeconds: firstPassCPU,
                listedRSSKiB: listedRSS,
                rssKiB: rss,
                idleCPUPercent: idlePercent
            )
        }
    }

    /// Waits until the leader is idle (under 5 ms of CPU in 500 ms, at most 60 s), then one more second.
    static func settle(_ replicas: ReplicaProcesses) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        var last = replicas.cpuSeconds()
        while ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(500))
            let now = replicas.cpuSeconds()
            if now - last < 0.005 { break }
            last = now
        }
        try await Task.sleep(for: .seconds(1))
    }

    /// Serves every state on its own loopback port for the duration of `body`.
    static func withServers<T: Sendable>(
        _ states: ArraySlice<FakeKubernetesState>,
        ports: [Int],
        logger: Logger,
        _ body: ([Int]) async throws -> T
    ) async throws -> T {
        guard let state = states.first else { return try await body(ports) }
        return try await FakeKubernetesServer(state: state).withRunning(logger: logger) { port in
            try await withServers(states.dropFirst(), ports: ports + [port], logger: logger, body)
        }
    }

    /// A kubeconfig with a context `c<i>` per port, no credentials (the fake API server asks for none).
    static func kubeconfig(ports: [Int]) -> String {
        var text = "apiVersion: v1\nkind: Config\ncurrent-context: c0\nclusters:\n"
        for (index, port) in ports.enumerated() {
            text += "- name: c\(index)\n  cluster:\n    server: http://127.0.0.1:\(port)\n"
        }
        text += "users:\n- name: bench\n  user: {}\ncontexts:\n"
        for index in ports.indices {
            text += "- name: c\(index)\n  context:\n    cluster: c\(index)\n    user: bench\n"
        }
        return text
    }

    static func get(_ url: String) async throws -> String {
        let (data, _) = try await URLSession.shared.data(from: URL(string: url)!)
        return String(decoding: data, as: UTF8.self)
    }
}
