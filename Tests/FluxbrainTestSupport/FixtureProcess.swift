import Foundation

/// A Python fixture from `Tests/Fixtures` running as a child process that writes the port it listens on into a
/// file: started, waited for, and stopped without blocking a thread.
package struct FixtureProcess: @unchecked Sendable {
    // `@unchecked`: the `Process` is only asked whether it runs and told to stop.
    package let process: Process
    package let port: Int

    /// Runs `python3 Tests/Fixtures/<script> <arguments> --port-file <portFile>` with its output in `log` (or
    /// discarded), and waits up to `timeout` for the port file.
    package static func start(
        script: String,
        arguments: [String],
        portFile: URL,
        log: URL? = nil,
        timeout: Duration = .seconds(60)
    ) async throws -> FixtureProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            ["python3", FakeErrorbrain.repositoryRoot.appendingPathComponent("Tests/Fixtures/\(script)").path]
            + arguments + ["--port-file", portFile.path]
        if let log {
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            let handle = try FileHandle(forWritingTo: log)
            process.standardOutput = handle
            process.standardError = handle
        } else {
            process.standardOutput = FileHandle.nullDevice
        }
        try process.run()
        let started = ContinuousClock.now
        while ContinuousClock.now - started < timeout {
            if let text = try? String(contentsOf: portFile, encoding: .utf8), let port = Int(text) {
                return FixtureProcess(process: process, port: port)
            }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        let output = log.flatMap { try? String(contentsOf: $0, encoding: .utf8) } ?? ""
        throw TestServerError(message: "\(script) did not start: \(output)")
    }

    /// SIGTERM, then SIGKILL after 2 s.
    package func stop() async {
        guard process.isRunning else { return }
        process.terminate()
        let started = ContinuousClock.now
        while process.isRunning, ContinuousClock.now - started < .seconds(2) {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
