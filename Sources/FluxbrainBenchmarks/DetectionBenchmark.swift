import FluxbrainCore
import FluxbrainIntegrations
import FluxbrainTestbed
import Foundation
import Logging

/// `fluxbrain-bench detection [--objects N] [--failing-percent P] [--flips N] [--keep FILE]`
///
/// 1. Decode + detect: generates a `kubectl get … -o json`-shaped list of N Flux objects (default 10,000, 10 %
///    failing), then times reading the file → `ObjectList(json:)` (the client's list path) → `Detector.assess` (best of 5) and reports objects/s and
///    the peak RSS of that phase (Linux: `VmHWM` after resetting it through `/proc/self/clear_refs`). In the same
///    run, `python3` does `json.load` and the same `Ready=False` filter on the same file, for comparison.
/// 2. Watch latency (the testbed's fake API server): 200 Ready Kustomizations on a fake Kubernetes API over
///    loopback HTTP, a `ClusterCollector` watching them; each is flipped to `Ready=False` and the time until the
///    collector's change stream yields it and the detector produces its incident is measured; p50/p99.
enum DetectionBenchmark {
    static let usage =
        "detection [--objects N] [--failing-percent P] [--flips N] [--keep FILE]: decode+detect vs python3, watch latency"

    static func run(_ arguments: [String]) async throws {
        try await run(arguments: arguments)
    }

    static func run(arguments: [String]) async throws {
        var objects = 10_000
        var failingPercent = 10
        var flips = 200
        var keep: String?
        var index = 0
        while index < arguments.count {
            let value = index + 1 < arguments.count ? arguments[index + 1] : ""
            switch arguments[index] {
            case "--objects": objects = Int(value) ?? objects
            case "--failing-percent": failingPercent = Int(value) ?? failingPercent
            case "--flips": flips = Int(value) ?? flips
            case "--keep": keep = value
            default: throw BenchmarkError("unknown option \(arguments[index])")
            }
            index += 2
        }
        let path = keep ?? (NSTemporaryDirectory() + "fluxbrain-detection-\(getpid()).json")
        try generate(objects: objects, failingPercent: failingPercent, to: path)
        defer { if keep == nil { try? FileManager.default.removeItem(atPath: path) } }
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        print(
            "input: \(objects) objects, \(failingPercent)% failing, \(String(format: "%.1f", Double(size) / 1_048_576)) MiB JSON"
        )

        let swift = try measureSwift(path: path)
        print(
            String(
                format:
                    "swift  decode+detect: best %.3f s  %8.0f objects/s  peak RSS %.1f MiB  (%d failing objects, %d incidents after folding)",
                swift.seconds,
                Double(objects) / swift.seconds,
                Double(swift.peakRSSKiB) / 1024,
                swift.failing,
                swift.incidents
            )
        )
        if let python = try measurePython(path: path) {
            print(
                String(
                    format:
                        "python json.load+filter: best %.3f s  %8.0f objects/s  peak RSS %.1f MiB  (%d Ready=False)",
                    python.seconds,
                    Double(objects) / python.seconds,
                    Double(python.peakRSSKiB) / 1024,
                    python.failing
                )
            )
            print(String(format: "speed ratio swift/python: %.2fx", python.seconds / swift.seconds))
        } else {
            print("python3 not found: comparison skipped")
        }

        let latencies = try await measureWatchLatency(flips: flips)
        print(
            String(
                format: "watch latency (%d flips → incident): p50 %.1f ms  p99 %.1f ms  max %.1f ms",
                latencies.count,
                percentile(latencies, 0.50),
                percentile(latencies, 0.99),
                latencies.max() ?? 0
            )
        )
    }

    struct BenchmarkError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    // MARK: Input

    /// Writes a list of `objects` realistic Flux objects over all ten kinds.
    static func generate(objects: Int, failingPercent: Int, to path: String) throws {
        var generator = SystemRandomNumberGenerator()
        var text = #"{"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":""},"items":["#
        text.reserveCapacity(objects * 2200)
        for index in 0..<objects {
            let kind = FluxKind.all[index % FluxKind.all.count]
            let failing = Int.random(in: 0..<100, using: &generator) < failingPercent
            if index > 0 { text += "," }
            text += objectJSON(kind: kind, index: index, failing: failing)
        }
        text += "]}"
        try text.write(toFile: path, atomically: false, encoding: .utf8)
    }

    static func objectJSON(kind: FluxKind, index: Int, failing: Bool) -> String {
        let namespace = "team-\(index % 50)"
        let name = "\(kind.plural.dropLast())-\(index)"
        let sha = String(repeating: String(format: "%08lx", index &* 2_654_435_761 & 0xffff_ffff), count: 5)
        let revision = "main@sha1:\(sha)"
        let spec: String
        switch kind {
        case .kustomization:
            spec =
                #""interval":"10m0s","retryInterval":"2m0s","path":"./apps/\#(name)","prune":true,"wait":true,"timeout":"5m0s","sourceRef":{"kind":"GitRepository","name":"repo-\#(index % 97)","namespace":"flux-system"},"dependsOn":[{"name":"infra"}],"postBuild":{"substitute":{"cluster":"production","region":"eu-west-1"}}"#
        case .helmRelease:
            spec =
                #""interval":"10m","timeout":"5m","chart":{"spec":{"chart":"podinfo","version":"6.9.x","sourceRef":{"kind":"HelmRepository","name":"podinfo","namespace":"flux-system"},"reconcileStrategy":"ChartVersion"}},"values":{"replicaCount":2,"resources":{"limits":{"cpu":"500m","memory":"256Mi"}},"ingress":{"enabled":true,"hosts":[{"host":"\#(name).example.org","paths":[{"path":"/","pathType":"Prefix"}]}]}}"#
        default:
            spec =
                #""interval":"5m0s","url":"https://github.com/example-org/\#(name)","ref":{"branch":"main"},"secretRef":{"name":"deploy-key"},"timeout":"60s""#
        }
        let ready =
            failing
            ? #"{"lastTransitionTime":"2026-11-28T19:41:03Z","message":"kustomize build failed: accumulating resources: accumulation err='accumulating resources from 'ingress': open /tmp/kustomization-1183476921/apps/\#(name)/ingress.yaml: no such file or directory'","observedGeneration":3,"reason":"BuildFailed","status":"False","type":"Ready"}"#
            : #"{"lastTransitionTime":"2026-11-28T19:41:03Z","message":"Applied revision: \#(revision)","observedGeneration":3,"reason":"ReconciliationSucceeded","status":"True","type":"Ready"}"#
        let reconciling =
            failing
            ? #"{"lastTransitionTime":"2026-11-28T19:41:03Z","message":"Reconciliation in progress","observedGeneration":3,"reason":"ProgressingWithRetry","status":"True","type":"Reconciling"},"#
            : ""
        return """
            {"apiVersion":"\(kind.apiVersion)","kind":"\(kind.name)","metadata":{"creationTimestamp":"2026-10-02T08:11:40Z",\
            "finalizers":["finalizers.fluxcd.io"],"generation":3,"labels":{"kustomize.toolkit.fluxcd.io/name":"flux-system",\
            "kustomize.toolkit.fluxcd.io/namespace":"flux-system","app.kubernetes.io/part-of":"\(namespace)"},\
            "name":"\(name)","namespace":"\(namespace)","resourceVersion":"\(48_213_650 + index)",\
            "uid":"5f1d3c2e-7a7b-4d55-\(String(format: "%04x", index & 0xffff))-0e3a6f4b8d11"},"spec":{\(spec)},\
            "status":{"conditions":[\(reconciling)\(ready)],"lastAppliedRevision":"\(revision)","lastAttemptedRevision":"\(revision)",\
            "lastHandledReconcileAt":"2026-11-28T19:40:00.123456789Z","observedGeneration":3,\
            "artifact":{"digest":"sha256:\(sha)\(sha.prefix(24))","lastUpdateTime":"2026-11-28T19:40:55Z","path":"gitrepository/\(namespace)/\(name)/\(sha).tar.gz","revision":"\(revision)","size":48213,"url":"http://source-controller.flux-system.svc.cluster.local./gitrepository/\(namespace)/\(name)/\(sha).tar.gz"},\
            "inventory":{"entries":[{"id":"\(namespace)_\(name)_apps_Deployment","v":"v1"},{"id":"\(namespace)_\(name)__Service","v":"v1"},{"id":"\(namespace)_\(name)_networking.k8s.io_Ingress","v":"v1"}]}}}
            """
    }

    // MARK: Swift

    struct Measurement {
        var seconds: Double
        var peakRSSKiB: Int
        var failing: Int
        var incidents: Int
    }

    static func measureSwift(path: String) throws -> Measurement {
        let detector = Detector()
        let now = Date()
        var best = Double.infinity
        var failing = 0
        var incidents = 0
        resetPeakRSS()
        for _ in 0..<5 {
            let start = ContinuousClock.now
            // Reading the file is part of the work, as for python's json.load(open(…)).
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            let list = try ObjectList(json: data)
            let assessment = detector.assess(list.items, cluster: "bench", now: now)
            let elapsed = (ContinuousClock.now - start).timeInterval
            best = min(best, elapsed)
            failing = list.items.lazy.filter { $0.condition("Ready")?.status == "False" }.count
            incidents = assessment.incidents.count
        }
        return Measurement(seconds: best, peakRSSKiB: peakRSSKiB(), failing: failing, incidents: incidents)
    }

    /// Resets the peak RSS counter (Linux ≥ 4.0).
    static func resetPeakRSS() {
        if let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") {
            handle.write(Data("5".utf8))
            try? handle.close()
        }
    }

    /// `VmHWM` from /proc/self/status, KiB.
    static func peakRSSKiB() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
        }
        return 0
    }

    // MARK: Python

    static func measurePython(path: String) throws -> Measurement? {
        let script = """
            import json, resource, sys, time
            best = None
            for _ in range(5):
                start = time.perf_counter()
                with open(sys.argv[1]) as f:
                    data = json.load(f)
                failing = [o for o in data["items"] if any(c.get("type") == "Ready" and c.get("status") == "False" for c in (o.get("status") or {}).get("conditions") or [])]
                elapsed = time.perf_counter() - start
                best = elapsed if best is None else min(best, elapsed)
            print(json.dumps({"seconds": best, "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "failing": len(failing)}))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, path]
        let pipe = Pipe()
        process.standardOutput = pipe
        do { try process.run() } catch { return nil }
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        struct Result: Decodable {
            var seconds: Double
            var maxrss_kib: Int
            var failing: Int
        }
        let result = try JSONDecoder().decode(Result.self, from: output)
        return Measurement(
            seconds: result.seconds,
            peakRSSKiB: result.maxrss_kib,
            failing: result.failing,
            incidents: 0
        )
    }

    static func percentile(_ values: [Double], _ p: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let rank = Int((p * Double(sorted.count)).rounded(.up)) - 1
        return sorted[max(0, min(sorted.count - 1, rank))]
    }

    // MARK: Watch latency

    static func measureWatchLatency(flips: Int) async throws -> [Double] {
        var mutableLogger = Logger(label: "bench")
        mutableLogger.logLevel = .error
        let logger = mutableLogger
        let state = FakeKubernetesState()
        for index in 0..<flips {
            try await state.apply(json: watchObject(index: index, failing: false))
        }
        let server = FakeKubernetesServer(state: state)
        let http = KubernetesClient.makeHTTPClient()
        let result: Result<[Double], any Error>
        do {
            // Stopped gracefully when the body returns (cancelling it would log HummingbirdCore errors).
            result = .success(
                try await server.withRunning(port: 0, logger: logger) { port in
                    let client = try KubernetesClient(
                        cluster: "bench",
                        config: .url(URL(string: "http://127.0.0.1:\(port)")!),
                        httpClient: http,
                        logger: logger
                    )
                    return try await watchLatencies(flips: flips, state: state, client: client, logger: logger)
                }
            )
        } catch {
            result = .failure(error)
        }
        try await http.shutdown()
        return try result.get()
    }

    /// Starts a collector watching the fake server, flips `flips` objects to failing and times each to its incident;
    /// stops the collector before returning.
    static func watchLatencies(
        flips: Int,
        state: FakeKubernetesState,
        client: KubernetesClient,
        logger: Logger
    ) async throws -> [Double] {
        var options = CollectorOptions()
        options.kinds = [.kustomization]
        let collector = ClusterCollector(client: client, options: options, logger: logger)
        return try await withThrowingTaskGroup(of: [Double]?.self) { group in
            group.addTask {
                await collector.run()
                return nil
            }
            let starts = FlipTimes()
            let detector = Detector()
            // The consumer: change → cached object → incident.
            group.addTask {
                var latencies: [Double] = []
                for await reference in collector.changes {
                    guard let object = await collector.object(reference),
                        detector.incident(for: object, cluster: "bench", now: Date()) != nil,
                        let start = await starts.take(reference.name)
                    else { continue }
                    latencies.append((ContinuousClock.now - start).timeInterval * 1000)
                    if latencies.count == flips { return latencies }
                }
                return latencies
            }
            while true {
                let healthy = await collector.health == .healthy
                let watches = await state.watchCount
                if healthy && watches > 0 { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            for index in 0..<flips {
                await starts.set("ks-\(index)", ContinuousClock.now)
                try await state.apply(json: watchObject(index: index, failing: true))
            }
            var result: [Double] = []
            while let next = try await group.next() {
                if let latencies = next {
                    result = latencies
                    break
                }
            }
            group.cancelAll()
            return result
        }
    }

    static func watchObject(index: Int, failing: Bool) -> String {
        objectJSON(kind: .kustomization, index: index, failing: failing)
            .replacingOccurrences(of: "\"name\":\"kustomization-\(index)\"", with: "\"name\":\"ks-\(index)\"")
            .replacingOccurrences(of: "\"namespace\":\"team-\(index % 50)\"", with: "\"namespace\":\"flux-system\"")
    }

    actor FlipTimes {
        var times: [String: ContinuousClock.Instant] = [:]
        func set(_ name: String, _ instant: ContinuousClock.Instant) { times[name] = instant }
        func take(_ name: String) -> ContinuousClock.Instant? { times.removeValue(forKey: name) }
    }
}
