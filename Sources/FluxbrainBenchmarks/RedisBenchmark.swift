import FluxbrainCore
import FluxbrainRedis
import Foundation
import Logging

/// The Redis wrapper against `redis-benchmark`, side by side, in one run against the same server.
///
/// Measures, `--repeat` times interleaved (median reported):
/// - `redis-benchmark -c 1 -n N -t set -q` and the wrapper's sequential `SET` round trips on one connection, using
///   the synchronous ``RedisConnection`` API inside one `withConnection` (no thread hop per command);
/// - `redis-benchmark ... -P 16` and the wrapper's pipelined `SET`s with depth 16 (`append` ×16, `readReply` ×16);
/// - for honesty, the wrapper's async `RedisClient.send` path (one task, one thread hop and one continuation per
///   command) and the `pipeline([16 commands])` array API.
///
/// Every wrapper `SET` builds its `RedisCommand` afresh (`SET key:__rand_int__ xxx`, as redis-benchmark sends).
enum RedisBenchmark {
    static let usage = "[--url redis://127.0.0.1:6379] [--requests 100000] [--depth 16] [--repeat 3]"

    struct Options {
        var url: String?
        var requests = 100_000
        var depth = 16
        var repeats = 3
    }

    static func run(_ arguments: [String]) async throws {
        let options = try parse(arguments)
        let server: BenchmarkRedisServer?
        let url: String
        if let given = options.url {
            server = nil
            url = given
        } else {
            let started = try await BenchmarkRedisServer.start()
            server = started
            url = "redis://127.0.0.1:\(started.port)/0"
        }
        defer { server?.stop() }

        var logger = Logger(label: "fluxbrain-bench")
        logger.logLevel = .warning
        let configuration = try RedisConfiguration(url: url, commandTimeout: .seconds(10), poolSize: 1)
        print(
            "server \(configuration.redactedURL)\(server == nil ? "" : " (started for this run)"), "
                + "requests \(options.requests), depth \(options.depth), repeat \(options.repeats), "
                + "load average \(loadAverage())"
        )

        var results: [String: [Sample]] = [:]
        let asyncRequests = max(options.requests / 5, 1000)
        try await withRedisClient(configuration: configuration, logger: logger) { client in
            // Warm up: connect, let the server allocate.
            try await client.withConnection { connection in
                for _ in 0..<2000 { try connection.send(setCommand()) }
            }
            for round in 1...options.repeats {
                results["rb-seq", default: []].append(
                    try redisBenchmark(configuration, requests: options.requests, pipeline: 1)
                )
                results["wrapper-seq", default: []].append(
                    try await sequential(client, requests: options.requests)
                )
                results["rb-pipe", default: []].append(
                    try redisBenchmark(configuration, requests: options.requests, pipeline: options.depth)
                )
                results["wrapper-pipe", default: []].append(
                    try await pipelined(client, requests: options.requests, depth: options.depth)
                )
                results["wrapper-pipe-array", default: []].append(
                    try await pipelinedArray(client, requests: options.requests, depth: options.depth)
                )
                results["wrapper-async", default: []].append(
                    try await asyncSend(client, requests: asyncRequests)
                )
                print("  round \(round) done (load average \(loadAverage()))")
            }
        }

        func median(_ key: String, _ value: (Sample) -> Double) -> Double {
            let values = (results[key] ?? []).map(value).sorted()
            return values.isEmpty ? 0 : values[values.count / 2]
        }
        let rows: [(name: String, wrapper: String, reference: String, target: String)] = [
            ("sequential SET, 1 connection (sync API in withConnection)", "wrapper-seq", "rb-seq", ">= 0.85"),
            ("pipelined SET, depth \(options.depth) (append/readReply)", "wrapper-pipe", "rb-pipe", ">= 0.70"),
            ("pipelined SET, depth \(options.depth) (pipeline([...]) API)", "wrapper-pipe-array", "rb-pipe", "-"),
            ("sequential SET via async RedisClient.send (1 task)", "wrapper-async", "rb-seq", "-"),
        ]
        print("")
        print(
            pad("workload", 60) + pad("wrapper req/s", 15) + pad("redis-bench req/s", 19) + pad("ratio", 8)
                + pad("target", 9) + pad("client CPU µs/op wrapper", 26) + "redis-bench"
        )
        for row in rows {
            let wrapper = median(row.wrapper, \.rate)
            let reference = median(row.reference, \.rate)
            let ratio = reference > 0 ? wrapper / reference : 0
            print(
                pad(row.name, 60) + pad(format(wrapper, decimals: 0), 15) + pad(format(reference, decimals: 0), 19)
                    + pad(format(ratio, decimals: 2), 8) + pad(row.target, 9)
                    + pad(format(median(row.wrapper, \.cpuMicrosecondsPerRequest), decimals: 2), 26)
                    + format(median(row.reference, \.cpuMicrosecondsPerRequest), decimals: 2)
            )
        }
        print(
            "(medians of \(options.repeats) interleaved rounds; async row: \(asyncRequests) requests; client CPU = "
                + "user+sys of the connection thread (sync rows), of the whole process (async row) or of "
                + "redis-benchmark; the server's CPU is not included)"
        )
    }

    // MARK: - Workloads

    /// Throughput and the client's CPU cost of one measurement.
    struct Sample {
        var rate: Double
        var cpuMicrosecondsPerRequest: Double
    }

    static func setCommand() -> RedisCommand {
        RedisCommand("SET", "key:__rand_int__", "xxx")
    }

    static func sequential(_ client: RedisClient, requests: Int) async throws -> Sample {
        try await client.withConnection { connection in
            let start = ContinuousClock.now
            let cpu = cpuTime(.thread)
            for _ in 0..<requests {
                try connection.send(setCommand())
            }
            return sample(requests, since: start, cpu: cpu, .thread)
        }
    }

    static func pipelined(_ client: RedisClient, requests: Int, depth: Int) async throws -> Sample {
        try await client.withConnection { connection in
            let start = ContinuousClock.now
            let cpu = cpuTime(.thread)
            var remaining = requests
            while remaining > 0 {
                let batch = min(depth, remaining)
                for _ in 0..<batch { try connection.append(setCommand()) }
                for _ in 0..<batch {
                    if case .error(let message) = try connection.readReply() {
                        throw RedisError(.server, message)
                    }
                }
                remaining -= batch
            }
            return sample(requests, since: start, cpu: cpu, .thread)
        }
    }

    static func pipelinedArray(_ client: RedisClient, requests: Int, depth: Int) async throws -> Sample {
        try await client.withConnection { connection in
            let start = ContinuousClock.now
            let cpu = cpuTime(.thread)
            var remaining = requests
            while remaining > 0 {
                let batch = min(depth, remaining)
                let commands = (0..<batch).map { _ in setCommand() }
                _ = try connection.pipeline(commands)
                remaining -= batch
            }
            return sample(requests, since: start, cpu: cpu, .thread)
        }
    }

    static func asyncSend(_ client: RedisClient, requests: Int) async throws -> Sample {
        let start = ContinuousClock.now
        let cpu = cpuTime(.process)
        for _ in 0..<requests {
            try await client.send(setCommand())
        }
        return sample(requests, since: start, cpu: cpu, .process)
    }

    enum CPUScope {
        case thread, process, children
    }

    /// User + system CPU seconds of the calling thread, this process, or its reaped children.
    static func cpuTime(_ scope: CPUScope) -> Double {
        var usage = rusage()
        switch scope {
        case .thread: getrusage(1, &usage)  // RUSAGE_THREAD (Linux), not imported by Glibc
        case .process: getrusage(RUSAGE_SELF.rawValue, &usage)
        case .children: getrusage(RUSAGE_CHILDREN.rawValue, &usage)
        }
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }

    static func sample(_ requests: Int, since start: ContinuousClock.Instant, cpu: Double, _ scope: CPUScope) -> Sample
    {
        Sample(
            rate: rate(requests, since: start),
            cpuMicrosecondsPerRequest: (cpuTime(scope) - cpu) * 1e6 / Double(requests)
        )
    }

    static func rate(_ requests: Int, since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        let seconds = elapsed.timeInterval
        return Double(requests) / seconds
    }

    // MARK: - redis-benchmark

    /// Runs `redis-benchmark -c 1 -n N -t set -q [-P depth]` and returns its requests per second.
    static func redisBenchmark(_ configuration: RedisConfiguration, requests: Int, pipeline: Int) throws -> Sample {
        var arguments = [
            "-h", configuration.host, "-p", "\(configuration.port)", "-c", "1", "-n", "\(requests)", "-t", "set", "-q",
            "--dbnum", "\(configuration.database)",
        ]
        if pipeline > 1 { arguments += ["-P", "\(pipeline)"] }
        if let password = configuration.password {
            if let username = configuration.username { arguments += ["--user", username] }
            arguments += ["-a", password, "--no-auth-warning"]
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try findExecutable("redis-benchmark"))
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        let cpu = cpuTime(.children)
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let cpuPerRequest = (cpuTime(.children) - cpu) * 1e6 / Double(requests)
        let text = String(decoding: data, as: UTF8.self)
        guard let value = parseRequestsPerSecond(text) else {
            throw RedisError(.protocol, "could not parse redis-benchmark output: \(text.suffix(300))")
        }
        return Sample(rate: value, cpuMicrosecondsPerRequest: cpuPerRequest)
    }

    /// Finds `SET: 41666.67 requests per second` in `-q` output (progress lines are separated by `\r`).
    static func parseRequestsPerSecond(_ text: String) -> Double? {
        let segments = text.split(whereSeparator: { $0 == "\r" || $0 == "\n" })
        guard let line = segments.last(where: { $0.contains("requests per second") }) else { return nil }
        guard let colon = line.firstIndex(of: ":") else { return nil }
        let number = line[line.index(after: colon)...].drop(while: { $0 == " " }).prefix(while: {
            $0.isNumber || $0 == "."
        })
        return Double(number)
    }

    static func findExecutable(_ name: String) throws -> String {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw RedisError(
            .invalidConfiguration,
            "\(name) not found on PATH (apt-get install redis-tools / redis-server)"
        )
    }

    // MARK: - Options and formatting

    static func parse(_ arguments: [String]) throws -> Options {
        var options = Options()
        var iterator = arguments.makeIterator()
        func value(_ flag: String) throws -> String {
            guard let value = iterator.next() else { throw RedisError(.invalidConfiguration, "\(flag) needs a value") }
            return value
        }
        func positive(_ flag: String) throws -> Int {
            let text = try value(flag)
            guard let number = Int(text), number > 0 else {
                throw RedisError(.invalidConfiguration, "\(flag) must be a positive integer, got '\(text)'")
            }
            return number
        }
        while let argument = iterator.next() {
            switch argument {
            case "--url": options.url = try value(argument)
            case "--requests", "-n": options.requests = try positive(argument)
            case "--depth", "-P": options.depth = try positive(argument)
            case "--repeat": options.repeats = try positive(argument)
            default: throw RedisError(.invalidConfiguration, "unknown option '\(argument)'; usage: redis \(usage)")
            }
        }
        return options
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }

    static func format(_ value: Double, decimals: Int) -> String {
        String(format: "%.\(decimals)f", value)
    }

    static func loadAverage() -> String {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3)
            .joined(separator: " ") ?? "?"
    }
}

/// A throwaway redis-server for the benchmark (`--save '' --appendonly no`, free port, temp dir).
final class BenchmarkRedisServer: Sendable {
    let port: Int
    let directory: URL
    private let pid: Int32

    private init(port: Int, directory: URL, pid: Int32) {
        self.port = port
        self.directory = directory
        self.pid = pid
    }

    static func start() async throws -> BenchmarkRedisServer {
        let port = try freePort()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fluxbrain-bench-redis-\(port)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try RedisBenchmark.findExecutable("redis-server"))
        process.arguments = [
            "--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", directory.path,
            "--logfile", "redis.log",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let server = BenchmarkRedisServer(port: port, directory: directory, pid: process.processIdentifier)
        var logger = Logger(label: "fluxbrain-bench")
        logger.logLevel = .critical
        let configuration = try RedisConfiguration(url: "redis://127.0.0.1:\(port)", poolSize: 1)
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            do {
                let reply = try await withRedisClient(configuration: configuration, logger: logger) { client in
                    try await client.send("PING")
                }
                if reply == .status("PONG") { return server }
                try await Task.sleep(for: .milliseconds(20))
            } catch  where ContinuousClock.now < deadline && process.isRunning {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    /// SIGKILL: nothing to persist, and a child of Foundation's `Process` inherits the spawning thread's signal
    /// mask, in which SIGTERM is blocked.
    func stop() {
        kill(pid, SIGKILL)
        try? FileManager.default.removeItem(at: directory)
    }

    /// A free TCP port on 127.0.0.1 (bound and released: good enough for a benchmark).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard ok else { throw RedisError(.invalidConfiguration, "could not find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
