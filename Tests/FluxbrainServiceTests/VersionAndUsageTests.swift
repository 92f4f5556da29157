import FluxbrainCore
import FluxbrainTestSupport
import Foundation
import Testing

/// `--version` names the git revision the binary was built from; usage errors exit 2 like bad settings.
@Suite struct VersionAndUsageTests {
    @Test func versionPrintsTheRevisionOfThisCheckout() async throws {
        let result = try await FluxbrainProcess.run(["--version"])
        #expect(result.status == 0)
        let (head, gitStatus) = try await onOwnThread { () throws(any Error) in
            let git = Process()
            git.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            git.arguments = ["git", "-C", FluxbrainProcess.packageRoot.path, "rev-parse", "--short=12", "HEAD"]
            let pipe = Pipe()
            git.standardOutput = pipe
            git.standardError = FileHandle.nullDevice
            try git.run()
            let head = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            git.waitUntilExit()
            return (head, git.terminationStatus)
        }
        // Outside a git checkout (a source tarball) the revision is `unknown`.
        let expected = gitStatus == 0 ? head : "unknown"
        #expect(result.stdout == "fluxbrain \(BuildInfo.version) (revision \(expected))\n")
        #expect(BuildInfo.revision == expected)
        #expect(BuildInfo.userAgent == "fluxbrain/\(BuildInfo.version) (\(expected))")
    }

    @Test(arguments: [
        ["--no-such-flag"], ["run", "--no-such-flag"], ["queue", "frobnicate"], ["once", "--output", "xml"],
    ])
    func badCommandLineExitsTwo(arguments: [String]) async throws {
        let result = try await FluxbrainProcess.run(arguments)
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("Usage:") || result.stderr.contains("USAGE:"), "\(result.stderr)")
    }

    @Test func theTestbedIsNotInTheProduct() async throws {
        let result = try await FluxbrainProcess.run(["fake-cluster", "--snapshot", "examples/snapshot"])
        #expect(result.status == 2)
        let help = try await FluxbrainProcess.run(["--help"])
        #expect(!help.stdout.contains("fake-cluster") && !help.stdout.contains("sink"))
    }
}
