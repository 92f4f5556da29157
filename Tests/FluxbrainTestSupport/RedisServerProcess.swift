import Foundation
import Synchronization

/// A private `redis-server` on 127.0.0.1 for tests: its own free port, its own temporary directory, and fault
/// injection by signal (only ever sent to its own PID).
///
/// ```swift
/// try await RedisServerProcess.with(.init(password: "s3cret")) { server in
///     let configuration = try RedisConfiguration(url: server.url(database: 3))
///     server.pause()      // SIGSTOP: clients time out, new TCP connects still succeed (listen backlog)
///     server.resume()     // SIGCONT
///     try await server.kill9()
///     try await server.restart()   // same port, same dir: with `appendOnly` the data survives
/// }
/// ```
///
/// The server runs with `--save ''` (no RDB snapshots), `--appendonly no` unless ``Options/appendOnly`` is set (then
/// `--appendfsync always`, so an acknowledged write survives `kill9()` + `restart()`), `--bind 127.0.0.1`, and
/// logs to `redis.log` in its directory (included in start-up errors). The directory is removed by ``stop()``.
/// `deinit` kills a still-running server as a safety net; prefer the scoped ``with(_:_:)``.
package final class RedisServerProcess: Sendable {
    /// How to start the server.
    package struct Options: Sendable {
        /// `--requirepass`; `nil` runs without a password.
        package var password: String?
        /// `--appendonly yes --appendfsync always` when `true` (data survives kill9/restart).
        package var appendOnly: Bool
        /// Extra `redis-server` arguments, appended as given (e.g. `["--maxmemory", "10mb"]`).
        package var extraArguments: [String]
        /// Path of the `redis-server` binary; default: `$REDIS_SERVER`, else the first on `$PATH`.
        package var executable: String?
        /// How long to wait for the first `PING` answer.
        package var startTimeout: Duration

        /// Creates options; all default to a plain, password-less, non-persistent server.
        package init(
            password: String? = nil,
            appendOnly: Bool = false,
            extraArguments: [String] = [],
            executable: String? = nil,
            startTimeout: Duration = .seconds(30)
        ) {
            self.password = password
            self.appendOnly = appendOnly
            self.extraArguments = extraArguments
            self.executable = executable
            self.startTimeout = startTimeout
        }
    }

    /// An error starting or controlling the server; `log` is the tail of `redis.log`.
    package struct StartError: Error, CustomStringConvertible {
        /// What went wrong.
        package var message: String
        /// The tail of the server's log file, if any.
        package var log: String

        /// The message followed by the log tail.
        package var description: String { log.isEmpty ? message : "\(message)\n--- redis.log ---\n\(log)" }
    }

    /// Always `127.0.0.1`.
    package let host = "127.0.0.1"
    /// The TCP port (kept across ``restart()``).
    package let port: Int
    /// The temporary working directory (`--dir`), removed by ``stop()``.
    package let directory: URL
    /// The options the server was started with.
    package let options: Options

    private let executable: String
    private let process: Mutex<SpawnedProcess?>

    /// The PID of the running server, or `nil` when it is not running (or has exited and was reaped).
    package var pid: Int32? {
        process.withLock { process in
            guard let process, process.isRunning() else { return nil }
            return process.pid
        }
    }

    /// The raw `waitpid` status of the last run once it has exited and was reaped (`0`: it exited by itself with
    /// status 0, as after a SIGTERM it handled; `9`: killed by SIGKILL); `nil` while it runs or before the first start.
    package var lastWaitStatus: Int32? {
        process.withLock { process in
            guard let process, !process.isRunning() else { return nil }
            return process.waitStatus
        }
    }

    /// `redis://[:password@]127.0.0.1:port/database`.
    package func url(database: Int = 0) -> String {
        let auth = options.password.map { ":\(Self.percentEncode($0))@" } ?? ""
        return "redis://\(auth)\(host):\(port)/\(database)"
    }

    /// `url(database: 0)`.
    package var url: String { url(database: 0) }

    private init(port: Int, directory: URL, options: Options, executable: String) {
        self.port = port
        self.directory = directory
        self.options = options
        self.executable = executable
        self.process = Mutex(nil)
    }

    deinit {
        process.withLock { process in
            if let process, process.isRunning() {
                process.send(SIGKILL)
                process.reapBlocking()
            }
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// Starts a server on a free port and waits until it answers `PING`.
    /// Retries with another port when the chosen one was taken in the meantime.
    package static func start(_ options: Options = Options()) async throws -> RedisServerProcess {
        let executable = try options.executable ?? findExecutable()
        var lastError: (any Error)?
        for _ in 0..<5 {
            let port = try freePort()
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("fluxbrain-redis-\(port)-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let server = RedisServerProcess(port: port, directory: directory, options: options, executable: executable)
            do {
                try await server.launch()
                return server
            } catch {
                lastError = error
                await server.stop()
            }
        }
        throw lastError ?? StartError(message: "could not start redis-server", log: "")
    }

    /// Starts a server, runs `body`, and stops the server afterwards (also when `body` throws).
    package static func with<T>(
        _ options: Options = Options(),
        isolation: isolated (any Actor)? = #isolation,
        _ body: (RedisServerProcess) async throws -> T
    ) async throws -> T {
        let server = try await start(options)
        do {
            let result = try await body(server)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }

    /// SIGSTOP: the server stops answering (clients time out) but the kernel still accepts TCP connections.
    package func pause() {
        signal(SIGSTOP)
    }

    /// SIGCONT: resumes a paused server.
    package func resume() {
        signal(SIGCONT)
    }

    /// SIGKILL, then waits for the process to exit (no AOF rewrite, no shutdown save).
    package func kill9() async {
        signal(SIGKILL)
        await waitForExit()
    }

    /// Starts the server again on the same port and directory (after ``kill9()`` or ``stop(removingDirectory:)``
    /// with `removingDirectory: false`); with ``Options/appendOnly`` it reloads its data from the AOF.
    package func restart() async throws {
        if pid != nil {
            signal(SIGKILL)
            await waitForExit()
        }
        var lastError: (any Error)?
        // The port can stay busy for a moment after a kill; retry briefly.
        for _ in 0..<20 {
            do {
                try await launch()
                return
            } catch {
                lastError = error
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        throw lastError!
    }

    /// Stops the server (SIGCONT in case it is paused, then SIGTERM, SIGKILL after 10 s: generous, so a server slowed
    /// down by a busy machine still shuts down by itself) and, by default, removes its directory. Safe to call twice.
    package func stop(removingDirectory: Bool = true) async {
        if pid != nil {
            signal(SIGCONT)
            signal(SIGTERM)
            let deadline = ContinuousClock.now + .seconds(10)
            while pid != nil && ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(20))
            }
            if pid != nil {
                signal(SIGKILL)
                await waitForExit()
            }
        }
        if removingDirectory {
            try? FileManager.default.removeItem(at: directory)
        }
    }

    /// The last `maxBytes` of the server's log.
    package func logTail(maxBytes: Int = 4000) -> String {
        guard let data = try? Data(contentsOf: directory.appendingPathComponent("redis.log")) else { return "" }
        return String(decoding: data.suffix(maxBytes), as: UTF8.self)
    }

    // MARK: - Internals

    private func launch() async throws {
        var arguments = [
            "--port", "\(port)",
            "--bind", host,
            "--save", "",
            "--appendonly", options.appendOnly ? "yes" : "no",
            "--dir", directory.path,
            "--logfile", "redis.log",
            "--daemonize", "no",
            "--databases", "16",
        ]
        if options.appendOnly { arguments += ["--appendfsync", "always"] }
        if let password = options.password { arguments += ["--requirepass", password] }
        arguments += options.extraArguments

        let process = try SpawnedProcess(executable: executable, arguments: arguments)
        self.process.withLock { $0 = process }

        let deadline = ContinuousClock.now + options.startTimeout
        while ContinuousClock.now < deadline {
            if !process.isRunning() {
                throw StartError(
                    message: "redis-server on port \(port) exited (wait status \(process.waitStatus)) during start",
                    log: logTail()
                )
            }
            if await Self.answersPingOffThePool(host: host, port: port) { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        process.send(SIGKILL)
        throw StartError(
            message: "redis-server on port \(port) did not answer PING within \(options.startTimeout)",
            log: logTail()
        )
    }

    private func signal(_ signal: Int32) {
        process.withLock { process in
            // Only the PID this object started, and only while it has not been reaped.
            guard let process, process.isRunning() else { return }
            process.send(signal)
        }
    }

    private func waitForExit() async {
        let deadline = ContinuousClock.now + .seconds(10)
        while pid != nil && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// ``answersPing(host:port:)`` on a thread of its own (`onOwnThread`): its socket calls block.
    private static func answersPingOffThePool(host: String, port: Int) async -> Bool {
        await onOwnThread { answersPing(host: host, port: port) }
    }

    /// Connects, sends `PING` and accepts `+PONG` or `-NOAUTH` (a password-protected server is up too).
    /// Loopback with a 200 ms socket timeout; blocks, so call it off the cooperative pool.
    static func answersPing(host: String, port: Int) -> Bool {
        guard let answer = loopbackExchange(host: host, port: port, request: "PING\r\n", timeoutMicroseconds: 200_000)
        else { return false }
        return answer.hasPrefix("+PONG") || answer.hasPrefix("-NOAUTH")
    }

    /// Connects to `host:port`, writes `request` and returns the first bytes of the answer (at most 64), or `nil` if
    /// any step fails; each socket call times out after `timeoutMicroseconds`. Blocks: call it off the cooperative
    /// pool.
    static func loopbackExchange(host: String, port: Int, request: String, timeoutMicroseconds: Int) -> String? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 0, tv_usec: .init(timeoutMicroseconds))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr(host)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { return nil }
        let bytes = Array(request.utf8)
        guard write(fd, bytes, bytes.count) == bytes.count else { return nil }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = read(fd, &buffer, buffer.count)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count], as: UTF8.self)
    }

    /// Binds port 0 on 127.0.0.1 to let the kernel choose a free port, then releases it.
    package static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw StartError(message: "socket() failed: errno \(errno)", log: "") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { throw StartError(message: "bind() failed: errno \(errno)", log: "") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw StartError(message: "getsockname() failed: errno \(errno)", log: "") }
        let port = Int(UInt16(bigEndian: address.sin_port))
        // Stay clear of the shared CI server and the default port.
        if port == 6379 || port == 6399 { return try freePort() }
        return port
    }

    private static func findExecutable() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["REDIS_SERVER"], !explicit.isEmpty { return explicit }
        for directory in (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/redis-server"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        for candidate in ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        throw StartError(message: "redis-server not found (install redis-server or set REDIS_SERVER)", log: "")
    }

    private static func percentEncode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }
}

/// A child started with `posix_spawn` with an **empty signal mask** and default signal dispositions.
///
/// Foundation's `Process` passes on the spawning thread's signal mask, and Swift concurrency / Dispatch worker
/// threads block most signals: a `redis-server` started that way ignores SIGTERM. Reaped with `waitpid(WNOHANG)`.
final class SpawnedProcess: @unchecked Sendable {
    /// The child's PID (only signalled while not reaped, so it cannot belong to another process).
    let pid: pid_t
    // Guarded by `lock`.
    private let lock = NSLock()
    private var reaped = false
    private var status: Int32 = 0

    init(executable: String, arguments: [String]) throws {
        var fileActions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fileActions)
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        for descriptor: Int32 in [0, 1, 2] {
            posix_spawn_file_actions_addopen(
                &fileActions,
                descriptor,
                "/dev/null",
                descriptor == 0 ? O_RDONLY : O_WRONLY,
                0
            )
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var child: pid_t = 0
        let result = posix_spawn(&child, executable, &fileActions, &attributes, argv, environ)
        guard result == 0 else {
            throw RedisServerProcess.StartError(
                message: "posix_spawn \(executable) failed: \(String(cString: strerror(result)))",
                log: ""
            )
        }
        pid = child
    }

    /// `true` until the child has exited (reaps it without blocking).
    func isRunning() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if reaped { return false }
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == pid || (result == -1 && errno == ECHILD) {
            reaped = true
            self.status = status
            return false
        }
        return true
    }

    /// The raw `waitpid` status once reaped.
    var waitStatus: Int32 {
        lock.lock()
        defer { lock.unlock() }
        return status
    }

    /// Sends `signal` unless the child was already reaped.
    func send(_ signal: Int32) {
        lock.lock()
        defer { lock.unlock() }
        if !reaped { kill(pid, signal) }
    }

    /// Waits for the child to exit (after SIGKILL: immediate); used only from `deinit`.
    func reapBlocking() {
        lock.lock()
        defer { lock.unlock() }
        if reaped { return }
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
        reaped = true
        self.status = status
    }
}
