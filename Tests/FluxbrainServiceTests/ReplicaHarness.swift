import FluxbrainCore
import FluxbrainRedis
import FluxbrainTestSupport
import FluxbrainTestbed
import Foundation
import Logging
import Synchronization

/// Three (or more) real `fluxbrain run` processes around a real `redis-server`, a snapshot directory as the cluster
/// and an in-process webhook sink counting deliveries: the process-level fault-injection rig.
///
/// Signals only ever go to PIDs this harness started.
final class ReplicaHarness: Sendable {
    let redis: RedisServerProcess
    let sink: WebhookSink
    let sinkURL: URL
    let directory: URL
    let snapshotDirectory: URL
    let prefix = "fbtest-\(UUID().uuidString.prefix(8).lowercased())"
    let extraEnvironment: [String: String]
    private let processes = Mutex<[String: Process]>([:])

    init(redis: RedisServerProcess, sink: WebhookSink, sinkURL: URL, extraEnvironment: [String: String] = [:]) throws {
        self.redis = redis
        self.sink = sink
        self.sinkURL = sinkURL
        self.extraEnvironment = extraEnvironment
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "fluxbrain-harness-\(UUID().uuidString)"
        )
        snapshotDirectory = directory.appendingPathComponent("snapshot")
        try FileManager.default.createDirectory(at: snapshotDirectory, withIntermediateDirectories: true)
    }

    /// Runs `body` with a Redis server (AOF on, so it survives kill -9), a webhook sink and a harness; stops all.
    static func with<T: Sendable>(
        environment: [String: String] = [:],
        _ body: @Sendable (ReplicaHarness) async throws -> T
    ) async throws -> T {
        try await RedisServerProcess.with(.init(appendOnly: true)) { redis in
            try await WebhookSink.withRunning(logger: Logger(label: "sink")) { sink, url in
                let harness = try ReplicaHarness(redis: redis, sink: sink, sinkURL: url, extraEnvironment: environment)
                do {
                    let result = try await body(harness)
                    await harness.stopAll()
                    return result
                } catch {
                    await harness.stopAll()
                    throw error
                }
            }
        }
    }

    // MARK: Snapshot

    /// Writes `count` failing Kustomizations `app-0…` (one file), or replaces that file.
    func writeFailing(count: Int, healthy: Set<Int> = [], file: String = "objects.json") throws {
        var items: [[String: Any]] = []
        for index in 0..<count {
            let ready: [String: Any] =
                healthy.contains(index)
                ? [
                    "type": "Ready", "status": "True", "reason": "ReconciliationSucceeded",
                    "message": "Applied revision: main@sha1:1",
                    "lastTransitionTime": "2026-11-28T19:00:00Z", "observedGeneration": 1,
                ]
                : [
                    "type": "Ready", "status": "False", "reason": "BuildFailed",
                    "message": "kustomize build failed: app-\(index) is broken",
                    "lastTransitionTime": "2026-11-28T19:00:00Z",
                    "observedGeneration": 1,
                ]
            items.append([
                "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
                "metadata": ["name": "app-\(index)", "namespace": "apps", "generation": 1],
                "spec": [
                    "interval": "5m", "path": "./apps/\(index)", "prune": true,
                    "sourceRef": ["kind": "GitRepository", "name": "fleet", "namespace": "flux-system"],
                ],
                "status": ["observedGeneration": 1, "conditions": [ready], "lastAttemptedRevision": "main@sha1:1"],
            ])
        }
        let list: [String: Any] = ["apiVersion": "v1", "kind": "List", "items": items]
        let data = try JSONSerialization.data(withJSONObject: list)
        let target = snapshotDirectory.appendingPathComponent(file)
        let temporary = directory.appendingPathComponent(file + ".tmp")
        try data.write(to: temporary)
        // rename(2) is atomic: a replica never reads a half-written file.
        guard rename(temporary.path, target.path) == 0 else {
            throw CocoaError(.fileWriteUnknown)
        }
    }

    /// The fingerprint the replicas compute for `app-<index>` while it fails.
    func fingerprint(of index: Int) -> String {
        Fingerprint(
            cluster: "fault",
            kind: "Kustomization",
            namespace: "apps",
            name: "app-\(index)",
            reason: "BuildFailed",
            revision: "main@sha1:1"
        ).hex
    }

    // MARK: Replicas

    var redisURL: String { "redis://127.0.0.1:\(redis.port)/0" }

    /// Starts `fluxbrain run --snapshot` as replica `id`.
    @discardableResult
    func start(_ id: String, environment: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = FluxbrainProcess.executable
        process.arguments = ["run", "--snapshot", snapshotDirectory.path]
        // Hermetic: none of the caller's Fluxbrain settings or proxies (tests talk to loopback only).
        var env = ProcessInfo.processInfo.environment.filter {
            !$0.key.hasPrefix("FLUXBRAIN_") && !["https_proxy", "http_proxy", "no_proxy"].contains($0.key.lowercased())
        }
        let defaults: [String: String] = [
            "FLUXBRAIN_REDIS_URL": redisURL, "FLUXBRAIN_REDIS_PREFIX": prefix, "FLUXBRAIN_REPLICA_ID": id,
            "FLUXBRAIN_CLUSTER": "fault",
            "FLUXBRAIN_WEBHOOK_URL": sinkURL.appendingPathComponent("hook").absoluteString,
            "FLUXBRAIN_LOCK_TTL": "1500ms", "FLUXBRAIN_LEASE": "2s", "FLUXBRAIN_REQUEUE_INTERVAL": "1s",
            "FLUXBRAIN_WORKERS": "4", "FLUXBRAIN_HTTP_ADDR": "127.0.0.1:0", "FLUXBRAIN_MAX_ATTEMPTS": "5",
            "FLUXBRAIN_BACKOFF_BASE": "100ms", "FLUXBRAIN_BACKOFF_MAX": "500ms", "FLUXBRAIN_LOG_FORMAT": "json",
            "FLUXBRAIN_LOG_LEVEL": "info", "FLUXBRAIN_REPEAT_INTERVAL": "24h",
        ]
        env.merge(defaults) { _, new in new }
        env.merge(extraEnvironment) { _, new in new }
        env.merge(environment) { _, new in new }
        process.environment = env
        let log = directory.appendingPathComponent("\(id).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        try handle.seekToEnd()
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        processes.withLock { $0[id] = process }
        return process
    }

    func process(_ id: String) -> Process? { processes.withLock { $0[id] } }

    func signal(_ id: String, _ signal: Int32) {
        guard let process = process(id), process.isRunning else { return }
        kill(process.processIdentifier, signal)
    }

    /// Waits for replica `id` to exit; returns its status, or nil on timeout.
    func waitForExit(_ id: String, timeout: Duration) async -> Int32? {
        guard let process = process(id) else { return nil }
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline { return nil }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return process.terminationStatus
    }

    /// Kills every replica and waits for them to be reaped (polling: `waitUntilExit` would block a thread of the
    /// global executor).
    func stopAll() async {
        let all = processes.withLock { $0 }
        for process in all.values where process.isRunning {
            kill(process.processIdentifier, SIGCONT)
            kill(process.processIdentifier, SIGKILL)
        }
        while all.values.contains(where: \.isRunning) { try? await Task.sleep(for: .milliseconds(10)) }
    }

    /// The replica's log so far.
    func log(_ id: String) -> String {
        (try? String(contentsOf: directory.appendingPathComponent("\(id).log"), encoding: .utf8)) ?? ""
    }

    /// The epochs replica `id` announced leadership with (from its JSON log lines).
    func leaderEpochs(_ id: String) -> [Int64] {
        log(id).split(separator: "\n").compactMap { line -> Int64? in
            guard line.contains("became scheduler leader"),
                let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let epoch = object["epoch"] as? String
            else { return nil }
            return Int64(epoch)
        }
    }

    // MARK: Redis inspection

    func withRedis<T: Sendable>(_ body: @Sendable (RedisClient) async throws -> T) async throws -> T {
        let client = RedisClient(
            configuration: try RedisConfiguration(url: redisURL, commandTimeout: .seconds(2)),
            logger: Logger(label: "inspect")
        )
        do {
            let result = try await body(client)
            await client.shutdown()
            return result
        } catch {
            await client.shutdown()
            throw error
        }
    }
}
