import FluxbrainCore
import Foundation

/// A fake Errorbrain on loopback: `Tests/Fixtures/fake_errorbrain.py` (Python 3 with the `jsonschema` package),
/// which validates every `POST /events` body against the JSON Schemas in `shared/errorbrain-spec/v1` and answers
/// like the real server (422 shapes, timezone-less `created_at`, rules-engine verdicts).
///
/// Use the scoped API: `try await FakeErrorbrain.with { fake in … }`. The schemas are found in
/// `$FLUXBRAIN_ERRORBRAIN_SPEC_DIR`, else in the copy kept in `Tests/Fixtures/errorbrain-spec/v1` (a test checks it
/// still equals `shared/errorbrain-spec/v1` wherever that sits beside the checkout).
///
package final class FakeErrorbrain: Sendable {
    /// Scripted behaviours of the fake (see the script's docstring).
    package enum Mode: String, Sendable, CaseIterable {
        case ok
        case uppercase
        case fail500Once = "fail500once"
        case always500
        case slow
        case garbage
        case confidence7
        case missing
        case reject422
        case retrySafe = "retry_safe"
    }

    /// One `POST /events` as the fake saw it.
    package struct RecordedRequest: Sendable {
        /// The body, parsed.
        package var body: JSONValue?
        /// The body exactly as received (re-encoded with sorted keys).
        package var text: String
        /// `true` when it validated against the schema.
        package var valid: Bool
        /// Validation errors: `body.path: type`.
        package var errors: [String]
    }

    /// `http://127.0.0.1:<port>`.
    package let baseURL: URL
    private let process: FixtureProcess
    private let directory: URL

    private init(process: FixtureProcess, directory: URL) {
        self.process = process
        self.directory = directory
        self.baseURL = URL(string: "http://127.0.0.1:\(process.port)")!
    }

    /// Starts a fake, runs `body` with it and stops it.
    package static func with<T: Sendable>(
        mode: Mode = .ok,
        _ body: (FakeErrorbrain) async throws -> T
    ) async throws -> T {
        let fake = try await start(mode: mode)
        do {
            let result = try await body(fake)
            await fake.stop()
            return result
        } catch {
            await fake.stop()
            throw error
        }
    }

    /// Starts a fake on a free loopback port and waits until it listens.
    package static func start(mode: Mode = .ok) async throws -> FakeErrorbrain {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "fake-errorbrain-\(UUID().uuidString.lowercased())"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let portFile = directory.appendingPathComponent("port")
        let control = directory.appendingPathComponent("control.json")
        try Data(#"{"mode": "\#(mode.rawValue)"}"#.utf8).write(to: control)
        // Python and jsonschema start slowly on a busy machine: wait up to 60 s for the port file.
        let process = try await FixtureProcess.start(
            script: "fake_errorbrain.py",
            arguments: [
                "--spec-dir", specDirectory.path, "--port", "0",
                "--record", directory.appendingPathComponent("requests.jsonl").path, "--control-file", control.path,
            ],
            portFile: portFile,
            log: directory.appendingPathComponent("server.log")
        )
        return FakeErrorbrain(process: process, directory: directory)
    }

    /// Changes the behaviour for the following requests.
    package func setMode(_ mode: Mode, slowSeconds: Double = 5) throws {
        let control = directory.appendingPathComponent("control.json")
        let temporary = directory.appendingPathComponent("control.json.tmp")
        try Data(#"{"mode": "\#(mode.rawValue)", "slow_seconds": \#(slowSeconds)}"#.utf8).write(to: temporary)
        guard rename(temporary.path, control.path) == 0 else {
            throw FakeErrorbrainError(message: "could not write \(control.path)")
        }
    }

    /// Every `POST /events` received so far, in order.
    package func requests() throws -> [RecordedRequest] {
        let file = directory.appendingPathComponent("requests.jsonl")
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { return [] }
        return try text.split(separator: "\n").map { line in
            let entry = try JSONDecoder().decode(JSONValue.self, from: Data(line.utf8))
            let body = entry["body"]
            let bodyText = try body.map { try StableJSON.string($0) } ?? entry["raw"]?.stringValue ?? ""
            let valid: Bool = if case .bool(let value) = entry["valid"] { value } else { false }
            let errors = entry["errors"]?.arrayValue?.compactMap(\.stringValue) ?? []
            return RecordedRequest(body: body, text: bodyText, valid: valid, errors: errors)
        }
    }

    /// Stops the server (SIGTERM, then SIGKILL after 2s) and removes its files; never blocks a thread.
    package func stop() async {
        await process.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// The repository root: three levels above this file (`Tests/FluxbrainTestSupport/FakeErrorbrain.swift`).
    package static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    /// `Tests/Fixtures/fake_errorbrain.py`.
    package static var scriptPath: URL {
        repositoryRoot.appendingPathComponent("Tests/Fixtures/fake_errorbrain.py")
    }

    /// `$FLUXBRAIN_ERRORBRAIN_SPEC_DIR`, else the repository's copy `Tests/Fixtures/errorbrain-spec/v1`, so a clone
    /// anywhere can run the tests.
    package static var specDirectory: URL {
        if let path = ProcessInfo.processInfo.environment["FLUXBRAIN_ERRORBRAIN_SPEC_DIR"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        return vendoredSpecDirectory
    }

    /// The copy of Errorbrain's spec/v1 schemas kept in the repository.
    package static var vendoredSpecDirectory: URL {
        repositoryRoot.appendingPathComponent("Tests/Fixtures/errorbrain-spec/v1")
    }

    /// `shared/errorbrain-spec/v1` beside the checkout (the contract's source), when it is there.
    package static var sharedSpecDirectory: URL? {
        let url = repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/errorbrain-spec/v1")
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }
}

/// The fake could not be started or read.
package struct FakeErrorbrainError: Error, CustomStringConvertible {
    package var message: String
    package var description: String { message }
}
