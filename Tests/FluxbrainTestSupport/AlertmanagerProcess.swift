import Foundation

/// A private Prometheus Alertmanager (Debian's `prometheus-alertmanager`) on 127.0.0.1 for tests: its own free
/// port, its own temporary directory for `--storage.path`, clustering off (`--cluster.listen-address=`), logs in
/// `alertmanager.log` of that directory (included in errors). Only ever signals its own PID.
///
/// The binary is `$FLUXBRAIN_TEST_ALERTMANAGER`, else `prometheus-alertmanager` or `alertmanager` on `$PATH`;
/// `amtool` is found beside it or on `$PATH`. ``skipReason`` says when the suite may skip: only when the binary is
/// absent **and** `CI` is not set; under CI a missing binary fails the tests (`scripts/install-deps.sh` installs it).
package final class AlertmanagerProcess: Sendable {
    package let port: Int
    package let directory: URL
    package let executable: String
    private let process: SpawnedProcess

    /// `http://127.0.0.1:<port>`.
    package var url: URL { URL(string: "http://127.0.0.1:\(port)")! }

    /// The Alertmanager binary, if one can be found.
    package static var executablePath: String? {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["FLUXBRAIN_TEST_ALERTMANAGER"], !explicit.isEmpty {
            return FileManager.default.isExecutableFile(atPath: explicit) ? explicit : nil
        }
        return findOnPath(["prometheus-alertmanager", "alertmanager"])
    }

    /// `amtool`, if it can be found.
    package static var amtoolPath: String? { findOnPath(["amtool"]) }

    /// Why the Alertmanager tests are skipped, or `nil` when they run: they run whenever the binaries are there, and
    /// always under `CI` (where a missing binary is an error the tests report).
    package static var skipReason: String? {
        if executablePath != nil, amtoolPath != nil { return nil }
        if let ci = ProcessInfo.processInfo.environment["CI"], !ci.isEmpty { return nil }
        return "prometheus-alertmanager/amtool not installed (apt-get install prometheus-alertmanager, or "
            + "scripts/install-deps.sh); set CI=1 to make this a failure"
    }

    private init(port: Int, directory: URL, executable: String, process: SpawnedProcess) {
        self.port = port
        self.directory = directory
        self.executable = executable
        self.process = process
    }

    /// Starts Alertmanager with `config` (YAML), waits for `/-/ready`, runs `body`, and stops it.
    package static func with<T>(
        config: String,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (AlertmanagerProcess) async throws -> T
    ) async throws -> T {
        let server = try await start(config: config)
        do {
            let result = try await body(server)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }

    /// Starts Alertmanager with `config` and waits up to `timeout` for it to answer `/-/ready`.
    package static func start(config: String, timeout: Duration = .seconds(60)) async throws -> AlertmanagerProcess {
        guard let executable = executablePath else {
            throw TestServerError(message: "prometheus-alertmanager not found (CI is set: install it)")
        }
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("fluxbrain-am-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let configFile = directory.appendingPathComponent("alertmanager.yml")
        try config.write(to: configFile, atomically: true, encoding: .utf8)
        let port = try RedisServerProcess.freePort()
        // `exec` keeps the PID, so signals reach Alertmanager itself; the shell only redirects its output.
        let process = try SpawnedProcess(
            executable: "/bin/sh",
            arguments: [
                "-c",
                #"exec "$0" "$@" >"$LOG" 2>&1"#.replacingOccurrences(
                    of: "$LOG",
                    with: directory.appendingPathComponent("alertmanager.log").path
                ),
                executable,
                "--config.file=\(configFile.path)",
                "--storage.path=\(directory.appendingPathComponent("data").path)",
                "--web.listen-address=127.0.0.1:\(port)",
                "--cluster.listen-address=",
                "--log.level=debug",
            ]
        )
        let server = AlertmanagerProcess(port: port, directory: directory, executable: executable, process: process)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard process.isRunning() else {
                throw TestServerError(message: "alertmanager exited during start:\n\(server.logTail())")
            }
            if await server.isReady() { return server }
            try await Task.sleep(for: .milliseconds(50))
        }
        await server.stop()
        throw TestServerError(message: "alertmanager did not become ready:\n\(server.logTail())")
    }

    /// SIGTERM, SIGKILL after 5 s; removes the directory.
    package func stop() async {
        process.send(SIGTERM)
        let deadline = ContinuousClock.now + .seconds(5)
        while process.isRunning(), ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning() {
            process.send(SIGKILL)
            while process.isRunning() { try? await Task.sleep(for: .milliseconds(5)) }
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// The end of Alertmanager's log.
    package func logTail(maxBytes: Int = 6000) -> String {
        guard let data = try? Data(contentsOf: directory.appendingPathComponent("alertmanager.log")) else { return "" }
        return String(decoding: data.suffix(maxBytes), as: UTF8.self)
    }

    /// Runs `amtool --alertmanager.url=<url> <arguments>` and returns its exit status and output (stdout+stderr).
    package func amtool(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await Self.amtoolCommand(["--alertmanager.url=\(url.absoluteString)"] + arguments, home: directory.path)
    }

    /// Runs `amtool <arguments>` (no server needed, e.g. `check-config FILE`) with `HOME` set to `home`.
    package static func amtoolCommand(
        _ arguments: [String],
        home: String = FileManager.default.temporaryDirectory.path
    ) async throws -> (status: Int32, output: String) {
        guard let amtool = Self.amtoolPath else { throw TestServerError(message: "amtool not found") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: amtool)
        process.arguments = arguments
        // A $HOME/.config/amtool/config.yml of this machine does not get in the way (/etc/amtool/config.yml
        // still could: the explicit --alertmanager.url above wins over it).
        process.environment = ["PATH": "/usr/bin:/bin", "HOME": home]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        return try await onOwnThread { () throws(any Error) in
            try process.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: data, as: UTF8.self))
        }
    }

    private func isReady() async -> Bool {
        let port = port
        return await onOwnThread { () throws(Never) in Self.httpGetOK(port: port, path: "/-/ready") }
    }

    /// A blocking `GET` on loopback with a 500 ms timeout: `true` on a `200` answer.
    private static func httpGetOK(port: Int, path: String) -> Bool {
        let answer = RedisServerProcess.loopbackExchange(
            host: "127.0.0.1",
            port: port,
            request: "GET \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n",
            timeoutMicroseconds: 500_000
        )
        return answer?.hasPrefix("HTTP/1.0 200") == true || answer?.hasPrefix("HTTP/1.1 200") == true
    }

    private static func findOnPath(_ names: [String]) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for name in names {
            for directory in path.split(separator: ":") + ["/usr/bin"] {
                let candidate = "\(directory)/\(name)"
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
        }
        return nil
    }
}
