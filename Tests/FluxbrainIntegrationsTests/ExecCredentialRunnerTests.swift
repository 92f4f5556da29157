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
        try "#!/bin/sh\n\(body)\n".write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
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

    @Test func pluginThatOutlivesTheTimeoutIsKilledWithAnErrorNamingIt() async throws {
        let marker = try TestKubeconfig.makeDirectory() + "/still-running"
        // `sleep` is a child of the shell: the whole process group must go, not only the shell.
        let path = try Self.plugin(
            """
            sh -c 'sleep 2; touch \(marker)'
            printf '%s' '\(Self.credential)'
            """
        )
        await #expect {
            _ = try await ExecCredentialRunner.run(
                ExecCredentialPlugin(apiVersion: "client.authentication.k8s.io/v1", command: path),
                timeout: .milliseconds(300)
            )
        } throws: { error in
            guard let error = error as? KubernetesError else { return false }
            return error.code == .timeout && error.message.contains(path)
                && error.message.contains("did not finish within")
        }
        try await Task.sleep(for: .seconds(3))
        #expect(!FileManager.default.fileExists(atPath: marker), "the plugin's child was left running")
    }

    @Test func cancellingTheCallerKillsThePlugin() async throws {
        let marker = try TestKubeconfig.makeDirectory() + "/still-running"
        let path = try Self.plugin(
            """
            sh -c 'sleep 2; touch \(marker)'
            """
        )
        let outcome = await withTaskGroup(of: (any Error)?.self) { group in
            group.addTask {
                do {
                    _ = try await ExecCredentialRunner.run(
                        ExecCredentialPlugin(apiVersion: "client.authentication.k8s.io/v1", command: path)
                    )
                    return nil
                } catch {
                    return error
                }
            }
            try? await Task.sleep(for: .milliseconds(300))
            group.cancelAll()
            return await group.next() ?? nil
        }
        #expect(outcome is KubernetesError)
        try await Task.sleep(for: .seconds(3))
        #expect(!FileManager.default.fileExists(atPath: marker), "the plugin's child was left running")
    }
}
