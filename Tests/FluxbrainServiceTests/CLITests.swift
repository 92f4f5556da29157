import FluxbrainTestSupport
import Foundation
import Testing

/// Runs the built `fluxbrain` executable as a user would.
struct FluxbrainProcess {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The package root (three levels above this file).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// `.build/<triple>/debug/fluxbrain`, next to the test bundle.
    static var executable: URL {
        let bundleDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [bundleDirectory, bundleDirectory.deletingLastPathComponent()] {
            let url = candidate.appendingPathComponent("fluxbrain")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return packageRoot.appendingPathComponent(".build/debug/fluxbrain")
    }

    /// Runs `fluxbrain` with `arguments` and waits for it on a thread of its own (`onOwnThread`): reading its output
    /// and waiting for its exit block for as long as the process runs.
    static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> Result {
        try await onOwnThread { () throws(any Error) in try runBlocking(arguments, environment: environment) }
    }

    private static func runBlocking(_ arguments: [String], environment: [String: String]) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = packageRoot
        // Hermetic: none of the caller's Fluxbrain settings or proxies (tests talk to loopback only).
        var env = ProcessInfo.processInfo.environment.filter {
            !$0.key.hasPrefix("FLUXBRAIN_") && !["https_proxy", "http_proxy", "no_proxy"].contains($0.key.lowercased())
        }
        env["FLUXBRAIN_LOG_FORMAT"] = "json"
        env.merge(environment) { _, new in new }
        process.environment = env
        // Files, not pipes: reading one pipe to its end while the child fills the other would deadlock both once
        // the other holds more than a pipe buffer (64 KiB).
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fluxbrain-cli-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let outURL = directory.appendingPathComponent("stdout")
        let errURL = directory.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)
        defer {
            try? out.close()
            try? err.close()
        }
        process.standardOutput = out
        process.standardError = err
        try process.run()
        process.waitUntilExit()
        let stdout = try Data(contentsOf: outURL)
        let stderr = try Data(contentsOf: errURL)
        return Result(
            status: process.terminationStatus,
            stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self)
        )
    }
}

/// `@unchecked`: plain strings and a status, built once and only read.
extension FluxbrainProcess.Result: @unchecked Sendable {}

@Suite struct CLITests {
    @Test func onceOnTheExampleSnapshotReportsExactlyItsFailingObjects() async throws {
        let result = try await FluxbrainProcess.run(["once", "--snapshot", "examples/snapshot", "--output", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let notifications = try result.stdout.split(separator: "\n").map { line in
            try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
        #expect(notifications.allSatisfy { $0["kind"] as? String == "firing" })
        let incidents = notifications.compactMap { $0["incident"] as? [String: Any] }
        let objects = incidents.compactMap { incident -> String? in
            guard let object = incident["object"] as? [String: Any] else { return nil }
            return "\(object["kind"]!)/\(object["namespace"]!)/\(object["name"]!)"
        }
        #expect(
            Set(objects) == [
                "Kustomization/flux-system/infra", "GitRepository/storefront/storefront", "HelmRelease/podinfo/podinfo",
                "HelmRelease/ingress-nginx/ingress-nginx",
            ]
        )
        #expect(objects.count == 4)
        let infra = try #require(incidents.first { ($0["object"] as? [String: Any])?["name"] as? String == "infra" })
        let affected = (infra["affected"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(affected == ["apps"])
        #expect(
            infra["cause"] as? String == "infrastructure/production/ingress/certificate.yaml: no such file or directory"
        )
        let changes = infra["changes"] as? [String: Any]
        #expect(
            (changes?["compareURL"] as? String)?.hasPrefix("https://github.com/example-org/fleet-infra/compare/")
                == true
        )
        let nginx = try #require(
            incidents.first { ($0["object"] as? [String: Any])?["name"] as? String == "ingress-nginx" }
        )
        #expect(nginx["reason"] as? String == "UpgradeFailed")
        #expect((nginx["remediation"] as? [String: Any])?["summary"] as? String == "rolled back to v11, chart 4.13.2")
    }

    @Test func onceTextOutputIsReadable() async throws {
        let result = try await FluxbrainProcess.run(["once", "--snapshot", "examples/snapshot"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("STALLED  HelmRelease podinfo/podinfo"))
        #expect(result.stdout.contains("Flux has stopped retrying"))
        #expect(result.stdout.contains("FAILING  Kustomization flux-system/infra"))
        #expect(result.stdout.contains("Flux retries on its own every 2m0s"))
        #expect(
            result.stdout.contains(
                "  cause:       infrastructure/production/ingress/certificate.yaml: no such file or directory"
            )
        )
        #expect(result.stdout.contains("  remediation: rolled back to v11, chart 4.13.2 (RollbackSucceeded)"))
        #expect(
            result.stdout.contains(
                "  changed:     main@sha1:8a1b2c3 → main@sha1:4f6c1b2  https://github.com/example-org/fleet-infra/compare/"
            )
        )
        #expect(!result.stdout.contains("monitoring"), "a suspended object was reported")
        #expect(!result.stdout.contains("tenants"), "a progressing object was reported")
        #expect(
            result.stderr.hasPrefix("4 incidents in 15 Flux objects\n"),
            "the summary comes first, on standard error"
        )
    }

    @Test func malformedSnapshotFileIsNamedWithExitCodeTwo() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "fluxbrain-cli-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data("{\"kind\": \"List\", \"items\": [".utf8).write(to: directory.appendingPathComponent("broken.json"))
        let result = try await FluxbrainProcess.run(["once", "--snapshot", directory.path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("broken.json"))
        #expect(result.stdout.isEmpty)
    }

    @Test func badConfigurationNamesTheVariableWithExitCodeTwo() async throws {
        let result = try await FluxbrainProcess.run(
            ["once", "--snapshot", "examples/snapshot"],
            environment: ["FLUXBRAIN_STUCK_AFTER": "soon"]
        )
        #expect(result.status == 2)
        #expect(result.stderr.contains("FLUXBRAIN_STUCK_AFTER"))
    }

    @Test func checkConfigMasksSecrets() async throws {
        let result = try await FluxbrainProcess.run(
            ["check-config"],
            environment: [
                "FLUXBRAIN_GITHUB_OWNER": "acme", "FLUXBRAIN_GITHUB_REPO": "ops",
                "FLUXBRAIN_GITHUB_TOKEN": "ghp_supersecret",
            ]
        )
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("FLUXBRAIN_GITHUB_TOKEN"))
        #expect(!result.stdout.contains("ghp_supersecret"))
    }
}
