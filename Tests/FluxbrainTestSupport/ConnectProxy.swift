import FluxbrainCore
import Foundation

/// An HTTP `CONNECT` proxy on loopback for tests: `Tests/Fixtures/connect_proxy.py` (Python 3 standard library),
/// recording every request it gets.
/// `@unchecked`: the `Process` is only asked whether it runs and told to stop.
package final class ConnectProxy: @unchecked Sendable {
    /// One request the proxy received.
    package struct RecordedRequest: Sendable, Hashable {
        package var method: String
        package var target: String
        package var authorization: String?
    }

    package let port: Int
    private let process: Process
    private let directory: URL

    private init(process: Process, directory: URL, port: Int) {
        self.process = process
        self.directory = directory
        self.port = port
    }

    /// Runs `body` with a proxy (requiring `requireAuthorization` as `Proxy-Authorization` when set), then stops it.
    package static func with<T: Sendable>(
        requireAuthorization: String? = nil, _ body: (ConnectProxy) async throws -> T
    ) async throws -> T {
        let proxy = try await start(requireAuthorization: requireAuthorization)
        do {
            let result = try await body(proxy)
            await proxy.stop()
            return result
        } catch {
            await proxy.stop()
            throw error
        }
    }

    private static func start(requireAuthorization: String?) async throws -> ConnectProxy {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("connect-proxy-\(UUID().uuidString.lowercased())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let portFile = directory.appendingPathComponent("port")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            ["python3", FakeErrorbrain.repositoryRoot.appendingPathComponent("Tests/Fixtures/connect_proxy.py").path,
             "--port-file", portFile.path, "--record", directory.appendingPathComponent("requests.jsonl").path]
            + (requireAuthorization.map { ["--require-auth", $0] } ?? [])
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let started = ContinuousClock.now
        while ContinuousClock.now - started < .seconds(30) {
            if let text = try? String(contentsOf: portFile, encoding: .utf8), let port = Int(text) {
                return ConnectProxy(process: process, directory: directory, port: port)
            }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        throw TestServerError(message: "the CONNECT proxy did not start")
    }

    /// Every request received so far, in order.
    package func requests() throws -> [RecordedRequest] {
        guard let text = try? String(contentsOf: directory.appendingPathComponent("requests.jsonl"), encoding: .utf8) else {
            return []
        }
        return try text.split(separator: "\n").map { line in
            let entry = try JSONDecoder().decode(JSONValue.self, from: Data(line.utf8))
            return RecordedRequest(
                method: entry["method"]?.stringValue ?? "", target: entry["target"]?.stringValue ?? "",
                authorization: entry["authorization"]?.stringValue)
        }
    }

    private func stop() async {
        if process.isRunning {
            process.terminate()
            let started = ContinuousClock.now
            while process.isRunning, ContinuousClock.now - started < .seconds(2) {
                try? await Task.sleep(for: .milliseconds(20))
            }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        try? FileManager.default.removeItem(at: directory)
    }
}
