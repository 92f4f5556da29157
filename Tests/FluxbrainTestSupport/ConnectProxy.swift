import FluxbrainCore
import Foundation

/// An HTTP `CONNECT` proxy on loopback for tests: `Tests/Fixtures/connect_proxy.py` (Python 3 standard library),
/// recording every request it gets.
package final class ConnectProxy: Sendable {
    /// One request the proxy received.
    package struct RecordedRequest: Sendable, Hashable {
        package var method: String
        package var target: String
        package var authorization: String?
    }

    package var port: Int { process.port }
    private let process: FixtureProcess
    private let directory: URL

    private init(process: FixtureProcess, directory: URL) {
        self.process = process
        self.directory = directory
    }

    /// Runs `body` with a proxy (requiring `requireAuthorization` as `Proxy-Authorization` when set; sending every
    /// tunnel to `connectTo` whatever host is asked for, when set), then stops it.
    package static func with<T: Sendable>(
        requireAuthorization: String? = nil,
        connectTo: String? = nil,
        _ body: (ConnectProxy) async throws -> T
    ) async throws -> T {
        let proxy = try await start(requireAuthorization: requireAuthorization, connectTo: connectTo)
        do {
            let result = try await body(proxy)
            await proxy.stop()
            return result
        } catch {
            await proxy.stop()
            throw error
        }
    }

    private static func start(requireAuthorization: String?, connectTo: String?) async throws -> ConnectProxy {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "connect-proxy-\(UUID().uuidString.lowercased())"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let process = try await FixtureProcess.start(
            script: "connect_proxy.py",
            arguments: ["--record", directory.appendingPathComponent("requests.jsonl").path]
                + (requireAuthorization.map { ["--require-auth", $0] } ?? [])
                + (connectTo.map { ["--connect-to", $0] } ?? []),
            portFile: directory.appendingPathComponent("port"),
            timeout: .seconds(30)
        )
        return ConnectProxy(process: process, directory: directory)
    }

    /// Every request received so far, in order.
    package func requests() throws -> [RecordedRequest] {
        guard let text = try? String(contentsOf: directory.appendingPathComponent("requests.jsonl"), encoding: .utf8)
        else {
            return []
        }
        return try text.split(separator: "\n").map { line in
            let entry = try JSONDecoder().decode(JSONValue.self, from: Data(line.utf8))
            return RecordedRequest(
                method: entry["method"]?.stringValue ?? "",
                target: entry["target"]?.stringValue ?? "",
                authorization: entry["authorization"]?.stringValue
            )
        }
    }

    private func stop() async {
        await process.stop()
        try? FileManager.default.removeItem(at: directory)
    }
}
