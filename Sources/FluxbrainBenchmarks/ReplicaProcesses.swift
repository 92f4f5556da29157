import FluxbrainCore
import FluxbrainTestbed
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// Real `fluxbrain run` processes started by a benchmark (`pipeline`, `central`, `latency`), and what the kernel
/// says they cost: CPU time from `/proc/<pid>/stat` (user + system, not wall time: the machine may be shared) and
/// RSS from `/proc/<pid>/status`.
///
/// The binary is the `fluxbrain` next to `fluxbrain-bench` (the same `swift build -c release` products), or
/// `$FLUXBRAIN_BENCH_BINARY`. Signals only go to processes started here.
final class ReplicaProcesses: @unchecked Sendable {
    /// Where logs, snapshots and kubeconfigs of this run live (removed by ``stopAll()``).
    let directory: URL
    private let executable: URL
    private let baseEnvironment: [String: String]
    private var processes: [(id: String, process: Process)] = []

    /// - Parameters:
    ///   - environment: settings every replica gets (``start(_:arguments:environment:)`` adds its own).
    ///   - executable: the `fluxbrain` binary to run (default: ``executable()``).
    init(environment: [String: String], executable: URL? = nil) throws {
        self.executable = try executable ?? Self.executable()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "fluxbrain-bench-\(getpid())-\(UUID().uuidString.prefix(8))"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // Hermetic: none of the caller's Fluxbrain settings or proxies (everything is on loopback).
        var base = ProcessInfo.processInfo.environment.filter {
            !$0.key.hasPrefix("FLUXBRAIN_") && !["https_proxy", "http_proxy", "no_proxy"].contains($0.key.lowercased())
        }
        base.merge(environment) { _, new in new }
        baseEnvironment = base
    }

    /// The settings the pipeline and latency replicas share: Redis on `redisPort` under `prefix`, cluster `bench`,
    /// the webhook at `<webhook>/hook`, Errorbrain at `errorbrain`, JSON logs at info, any free HTTP port.
    static func environment(redisPort: Int, prefix: String, webhook: URL, errorbrain: URL) -> [String: String] {
        [
            "FLUXBRAIN_REDIS_URL": "redis://127.0.0.1:\(redisPort)/0",
            "FLUXBRAIN_REDIS_PREFIX": prefix,
            "FLUXBRAIN_CLUSTER": "bench",
            "FLUXBRAIN_WEBHOOK_URL": webhook.appendingPathComponent("hook").absoluteString,
            "FLUXBRAIN_ERRORBRAIN_URL": errorbrain.absoluteString,
            "FLUXBRAIN_HTTP_ADDR": "127.0.0.1:0",
            "FLUXBRAIN_LOG_FORMAT": "json",
            "FLUXBRAIN_LOG_LEVEL": "info",
            "FLUXBRAIN_REPEAT_INTERVAL": "24h",
        ]
    }

    static func executable() throws -> URL {
        if let given = ProcessInfo.processInfo.environment["FLUXBRAIN_BENCH_BINARY"], !given.isEmpty {
            return URL(fileURLWithPath: given)
        }
        let own = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let candidate = own.deletingLastPathComponent().appendingPathComponent("fluxbrain")
        guard FileManager.default.isExecutableFile(atPath: candidate.path) else {
            throw DetectionBenchmark.BenchmarkError(
                "\(candidate.path) not found: build it with `swift build -c release --product fluxbrain` "
                    + "(scripts/bench.sh does), or set FLUXBRAIN_BENCH_BINARY"
            )
        }
        return candidate
    }

    /// Starts `fluxbrain <arguments>` as replica `id`, logging to `<directory>/<id>.log`.
    @discardableResult
    func start(_ id: String, arguments: [String] = ["run"], environment: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var env = baseEnvironment
        env["FLUXBRAIN_REPLICA_ID"] = id
        env.merge(environment) { _, new in new }
        process.environment = env
        let log = directory.appendingPathComponent("\(id).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        processes.append((id, process))
        return process
    }

    var pids: [Int32] { processes.map(\.process.processIdentifier) }

    /// User + system CPU seconds of every replica so far.
    func cpuSeconds() -> Double {
        pids.reduce(0) { $0 + Self.cpuSeconds(pid: $1) }
    }

    /// RSS of each replica, MiB, in start order.
    func rssMiB() -> [Double] {
        pids.map { Double(Self.rssKiB(pid: $0)) / 1024 }
    }

    /// Replicas that exited, with their status and the end of their log: a benchmark stops on the first.
    func exited() -> String? {
        for (id, process) in processes where !process.isRunning {
            return "replica \(id) exited with status \(process.terminationStatus): \(log(id).suffix(800))"
        }
        return nil
    }

    func log(_ id: String) -> String {
        (try? String(contentsOf: directory.appendingPathComponent("\(id).log"), encoding: .utf8)) ?? ""
    }

    /// Kills every replica (SIGKILL: nothing to drain in a benchmark), waits for them, removes the directory
    /// unless `$FLUXBRAIN_BENCH_KEEP` is set.
    func stopAll() {
        for (_, process) in processes where process.isRunning { kill(process.processIdentifier, SIGKILL) }
        for (_, process) in processes { process.waitUntilExit() }
        processes.removeAll()
        if ProcessInfo.processInfo.environment["FLUXBRAIN_BENCH_KEEP"] == nil {
            try? FileManager.default.removeItem(at: directory)
        } else {
            print("kept \(directory.path)")
        }
    }

    // MARK: /proc

    /// User + system CPU seconds of `pid` (`/proc/<pid>/stat` fields 14 and 15, clock ticks).
    static func cpuSeconds(pid: Int32) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return 0 }
        // After "pid (comm) ": state is field 3, utime field 14, stime field 15.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// `VmRSS` of `pid`, KiB.
    static func rssKiB(pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
        }
        return 0
    }
}

/// An Errorbrain stand-in for benchmarks, in process on loopback: `POST /events` answers a schema-valid verdict
/// (the shape of `Tests/Fixtures/fake_errorbrain.py`'s rules engine) after `delay`; `GET /healthz` answers at once.
/// The tests' fake validates every event against the JSON Schemas in Python, which costs more CPU than the
/// replicas being measured; this one does not validate.
enum BenchmarkErrorbrain {
    static func withRunning<T: Sendable>(
        delay: Duration,
        logger: Logger,
        _ body: @Sendable (URL) async throws -> T
    ) async throws -> T {
        try await withLoopbackServer(
            logger: logger,
            respond: { request in try await respond(request, delay: delay) },
            body: { port in try await body(URL(string: "http://127.0.0.1:\(port)")!) }
        )
    }

    private static func respond(_ request: Request, delay: Duration) async throws -> Response {
        var request = request
        switch (request.method, request.uri.path) {
        case (.get, "/healthz"):
            return json(#"{"status":"ok","spec_version":"v1","schemas":["error_event","verdict"]}"#)
        case (.post, "/events"):
            let buffer = try await request.collectBody(upTo: 4 << 20)
            let event = try JSONDecoder().decode(JSONValue.self, from: Data(buffer.readableBytesView))
            if delay > .zero { try await Task.sleep(for: delay) }
            let id = event["id"]?.stringValue ?? UUID().uuidString.lowercased()
            let name = event["source"]?["name"]?.stringValue ?? "unknown"
            let verdict: JSONValue = .object([
                "id": .string(UUID().uuidString.lowercased()),
                "event_id": .string(id),
                "hypothesis": .object([
                    "title": .string("Issue observed in \(name)"),
                    "description": .string(event["message"]?.stringValue ?? ""),
                    "confidence": .double(0.85),
                ]),
                "impact": .object(["severity": .string("critical"), "affected_components": .array([.string(name)])]),
                "recommended_actions": .array([
                    .object([
                        "title": .string("Inspect recent error"),
                        "description": .string("Review the error message and recent changes."),
                        "urgency": .string("high"),
                    ])
                ]),
                "evidence_refs": .array([]),
                "created_at": .string("2026-12-06T12:00:00.000000"),
            ])
            return json(String(decoding: try JSONEncoder().encode(verdict), as: UTF8.self))
        default:
            return Response(status: .notFound)
        }
    }

    private static func json(_ text: String) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text))
        )
    }
}

/// Small helpers the replica benchmarks share.
enum BenchmarkSupport {
    /// `--name value` options, each a positive number unless noted; an unknown option is an error naming it.
    struct Options {
        private var values: [String: String] = [:]

        init(_ arguments: [String], known: [String], usage: String) throws {
            var iterator = arguments.makeIterator()
            while let flag = iterator.next() {
                guard known.contains(flag) else {
                    throw DetectionBenchmark.BenchmarkError("unknown option '\(flag)'; usage: \(usage)")
                }
                guard let value = iterator.next() else {
                    throw DetectionBenchmark.BenchmarkError("\(flag) needs a value")
                }
                values[flag] = value
            }
        }

        func int(_ flag: String, default value: Int, minimum: Int = 1) throws -> Int {
            guard let text = values[flag] else { return value }
            guard let number = Int(text), number >= minimum else {
                throw DetectionBenchmark.BenchmarkError("\(flag) must be an integer ≥ \(minimum), got '\(text)'")
            }
            return number
        }

        func string(_ flag: String) -> String? {
            values[flag]
        }

        func ints(_ flag: String, default value: [Int]) throws -> [Int] {
            guard let text = values[flag] else { return value }
            let numbers = text.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !numbers.isEmpty, numbers.count == text.split(separator: ",").count, numbers.allSatisfy({ $0 >= 0 })
            else {
                throw DetectionBenchmark.BenchmarkError("\(flag) must be comma-separated integers ≥ 0, got '\(text)'")
            }
            return numbers
        }
    }

    /// A logger for the in-process fakes: errors only.
    static var quietLogger: Logger {
        var logger = Logger(label: "fluxbrain-bench")
        logger.logLevel = .error
        return logger
    }

    /// Polls `condition` every `poll` until it holds or `timeout` passes; throws a timeout naming `what`.
    static func wait(
        for what: String,
        timeout: Duration,
        poll: Duration = .milliseconds(20),
        replicas: ReplicaProcesses? = nil,
        _ condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while !(try await condition()) {
            if let exited = replicas?.exited() { throw DetectionBenchmark.BenchmarkError(exited) }
            guard ContinuousClock.now < deadline else {
                throw DetectionBenchmark.BenchmarkError("timed out after \(timeout) waiting for \(what)")
            }
            try await Task.sleep(for: poll)
        }
    }

    /// One machine line for the figures: cores, CPU model, load average.
    static func machine() -> String {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model =
            cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }?.split(separator: ":").last?
            .trimmingCharacters(in: .whitespaces) ?? "?"
        return "\(ProcessInfo.processInfo.activeProcessorCount) cores, \(model), load average "
            + RedisBenchmark.loadAverage()
    }

    static func format(_ value: Double, _ decimals: Int = 1) -> String {
        String(format: "%.\(decimals)f", value)
    }
}
