import FluxbrainIntegrations
import FluxbrainTestSupport
import Foundation
import Testing

/// Exec credential plugins run as real processes: both pipes are drained together, and a plugin that hangs is
/// killed after the timeout with an error naming it.
@Suite struct ExecCredentialRunnerTests {
    private static let credential =
        #"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"from-plugin"}}"#

    /// Writes an executable `/bin/sh` script and returns its path.
    private static func plugin(_ body: String) throws -> String {
        let path = try TestKubeconfig.makeDirectory() + "/plugin.sh"
        try writeExecutableScript("#!/bin/sh\n\(body)\n", to: path)
        return path
    }

    @Test func pluginWritingMoreThanAPipeBufferToStandardErrorFirstStillGivesItsToken() async throws {
        // 200 KB on stderr before anything on stdout: a reader that drains stdout first waits for ever, as the
        // plugin blocks on the full stderr pipe (64 KiB on Linux).
        let path = try Self.plugin(
            """
            head -c 204800 /dev/zero | tr '\\0' 'x' >&2
            printf '%s' '\(Self.credential)'
            """
        )
        let status = try await ExecCredentialRunner.run(
            ExecCredentialPlugin(apiVersion: "client.authentication.k8s.io/v1", command: path)
        )
        #expect(status.token == "from-plugin")
    }

    @Test func failingPluginWithLongStandardErrorReportsItsBeginning() async throws {
        let path = try Self.plugin(
            """
            echo 'error: the SSO session has expired' >&2
            head -c 204800 /dev/zero | tr '\\0' 'x' >&2
            exit 3
            """
        )
        await #expect {
            _ = try await ExecCredentialRunner.run(
                ExecCredentialPlugin(apiVersion: "client.authentication.k8s.io/v1", command: path)
            )
        } throws: { error in
            guard let error = error as? KubernetesError else { return false }
            return error.code == .unauthorized && error.message.contains("exited with status 3")
                && error.message.contains("the SSO session has expired")
                && error.message.count < ExecCredentialRunner.keptErrorBytes + 200
        }
    }

    /// A plugin that hangs: a child shell (in the plugin's process group) writes its PID to `pidFile`, then sleeps
    /// for a minute; the plugin waits for it.
    private static func hangingPlugin(pidFile: String) throws -> String {
        try plugin(
            """
            sh -c 'echo $$ > \(pidFile).tmp; mv \(pidFile).tmp \(pidFile); sleep 60'
            printf '%s' '\(Self.credential)'
            """
        )
    }

    /// The PID the hanging plugin's child wrote, once it has.
    private static func childPID(in pidFile: String) async throws -> pid_t? {
        var pid: pid_t?
        _ = await eventually(timeout: .seconds(60)) {
            pid = (try? String(contentsOfFile: pidFile, encoding: .utf8)).flatMap {
                pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            return pid != nil
        }
        return pid
    }

    /// Whether `pid` is a live process (a zombie waiting to be reaped by init counts as gone).
    private static func isRunning(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let end = stat.lastIndex(of: ")")
        else { return false }
        return !stat[stat.index(after: end)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }

    @Test func pluginThatOutlivesTheTimeoutIsKilledWithAnErrorNamingIt() async throws {
        let pidFile = try TestKubeconfig.makeDirectory() + "/child.pid"
        let path = try Self.hangingPlugin(pidFile: pidFile)
        // The timeout runs on a manual clock, moved once the plugin's child runs: the child the kill must reach
        // exists whatever the machine's load, and the test waits for no real-time deadline.
        let clock = ManualClock()
        let timeout = Duration.seconds(30)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                await #expect {
                    _ = try await ExecCredentialRunner.run(
                        ExecCredentialPlugin(apiVersion: "client.authentication.k8s.io/v1", command: path),
                        timeout: timeout,
                        clock: clock
                    )
                } throws: { error in
                    guard let error = error as? KubernetesError else { return false }
                    return error.code == .timeout && error.message.contains(path)
                        && error.message.contains("did not finish within 30s")
                }
            }
            let child = try #require(try await Self.childPID(in: pidFile), "the plugin's child did not start")
            try await clock.waitForSleeper(until: clock.now.advanced(by: timeout), timeout: .seconds(60))
            clock.advance(by: timeout)
            try await group.waitForAll()
            // `sleep 60` in a child of the plugin: the whole process group must go, not only the plugin's shell.
            let gone = await eventually(timeout: .seconds(30)) { !Self.isRunning(child) }
            #expect(gone, "the plugin's child was left running")
        }
    }

    @Test func cancellingTheCallerKillsThePlugin() async throws {
        let pidFile = try TestKubeconfig.makeDirectory() + "/child.pid"
        let path = try Self.hangingPlugin(pidFile: pidFile)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                await #expect(throws: KubernetesError.self) {
                    _ = try await ExecCredentialRunner.run(
                        ExecCredentialPlugin(apiVersion: "client.authentication.k8s.io/v1", command: path)
                    )
                }
            }
            let child = try #require(try await Self.childPID(in: pidFile), "the plugin's child did not start")
            group.cancelAll()
            try await group.waitForAll()
            let gone = await eventually(timeout: .seconds(30)) { !Self.isRunning(child) }
            #expect(gone, "the plugin's child was left running")
        }
    }
}
