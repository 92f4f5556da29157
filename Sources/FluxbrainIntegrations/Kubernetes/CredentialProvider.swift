import FluxbrainCore
import Foundation

/// Resolves `KubernetesCredentials` into what a request needs, caching tokens: a token file is re-read when the
/// cached copy is older than `fileRefreshInterval` (client-go: one minute) or after a 401; an exec plugin is run
/// again when its credential has expired (or expires within 10 s) or after a 401.
package actor CredentialProvider {
    /// What one request authenticates with.
    package struct Resolved: Sendable, Hashable {
        package var bearerToken: String?
        package var clientCertificate: ClientCertificate?
    }

    private let credentials: KubernetesCredentials
    /// Time elapsed on the injected clock since the provider was made.
    private let elapsed: @Sendable () -> Duration
    private let fileRefreshInterval: Duration
    private let execRunner: @Sendable (ExecCredentialPlugin) async throws(KubernetesError) -> ExecCredentialStatus
    private var cached: Resolved?
    /// `elapsed()` when `cached` was read (token files).
    private var cachedReadAt: Duration?
    /// When an exec credential expires, if it said so.
    private var expiresAt: Date?

    package init(
        credentials: KubernetesCredentials, clock: any Clock<Duration> = ContinuousClock(),
        fileRefreshInterval: Duration = .seconds(60),
        execRunner: @escaping @Sendable (ExecCredentialPlugin) async throws(KubernetesError) -> ExecCredentialStatus =
            ExecCredentialRunner.run
    ) {
        self.credentials = credentials
        self.elapsed = elapsedTime(on: clock)
        self.fileRefreshInterval = fileRefreshInterval
        self.execRunner = execRunner
    }

    /// The credentials to send now.
    package func resolve() async throws(KubernetesError) -> Resolved {
        switch credentials.token {
        case nil:
            return Resolved(bearerToken: nil, clientCertificate: credentials.clientCertificate)
        case .fixed(let token):
            return Resolved(bearerToken: token, clientCertificate: credentials.clientCertificate)
        case .file(let path):
            if let cached, let readAt = cachedReadAt, elapsed() - readAt < fileRefreshInterval {
                return cached
            }
            guard let data = FileManager.default.contents(atPath: path) else {
                // Keep the last good token if the file is briefly missing during rotation.
                if let cached { return cached }
                throw KubernetesError(.config, "cannot read the token file \(path)")
            }
            let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            let resolved = Resolved(bearerToken: token, clientCertificate: credentials.clientCertificate)
            cached = resolved
            cachedReadAt = elapsed()
            return resolved
        case .exec(let plugin):
            if let cached, expiresAt.map({ $0.timeIntervalSinceNow > 10 }) ?? true {
                return cached
            }
            let status = try await execRunner(plugin)
            var certificate = credentials.clientCertificate
            if let cert = status.clientCertificateData, let key = status.clientKeyData {
                certificate = ClientCertificate(certificatePEM: Array(cert.utf8), keyPEM: Array(key.utf8))
            }
            let resolved = Resolved(bearerToken: status.token, clientCertificate: certificate)
            cached = resolved
            expiresAt = status.expirationTimestamp.flatMap(RFC3339.date(from:))
            return resolved
        }
    }

    /// Forgets the cached token after a 401, so the next `resolve()` reads the file or runs the plugin again.
    /// Returns `true` when a retry can give different credentials.
    package func invalidate() -> Bool {
        switch credentials.token {
        case .file, .exec:
            cached = nil
            cachedReadAt = nil
            expiresAt = nil
            return true
        default:
            return false
        }
    }
}

/// A function giving the time elapsed on `clock` since this call: lets types hold `any Clock<Duration>` and still
/// measure intervals.
package func elapsedTime(on clock: any Clock<Duration>) -> @Sendable () -> Duration {
    func make<C: Clock<Duration>>(_ clock: C) -> @Sendable () -> Duration {
        let origin = clock.now
        return { origin.duration(to: clock.now) }
    }
    return make(clock)
}

/// `ExecCredential.status`.
package struct ExecCredentialStatus: Sendable, Codable, Hashable {
    package var token: String?
    package var clientCertificateData: String?
    package var clientKeyData: String?
    package var expirationTimestamp: String?

    package init(token: String? = nil, clientCertificateData: String? = nil, clientKeyData: String? = nil, expirationTimestamp: String? = nil) {
        self.token = token
        self.clientCertificateData = clientCertificateData
        self.clientKeyData = clientKeyData
        self.expirationTimestamp = expirationTimestamp
    }
}

/// Runs exec credential plugins (`client.authentication.k8s.io/v1` and `v1beta1`).
package enum ExecCredentialRunner {
    private struct ExecCredential: Decodable {
        var apiVersion: String?
        var kind: String?
        var status: ExecCredentialStatus?
    }

    /// Runs `plugin` with `KUBERNETES_EXEC_INFO` set and decodes its `ExecCredential` from stdout.
    package static func run(_ plugin: ExecCredentialPlugin) async throws(KubernetesError) -> ExecCredentialStatus {
        let process = Process()
        var command = plugin.command
        if command.contains("/"), !command.hasPrefix("/"), let base = plugin.baseDirectory {
            command = (base as NSString).appendingPathComponent(command)
        }
        if command.hasPrefix("/") {
            process.executableURL = URL(fileURLWithPath: command)
            process.arguments = plugin.args
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [command] + plugin.args
        }
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in plugin.env { environment[key] = value }
        environment["KUBERNETES_EXEC_INFO"] = plugin.execInfo
        process.environment = environment
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        /// Process and pipes are not Sendable; they are handed to one background thread and read only there.
        struct Running: @unchecked Sendable {
            var process: Process
            var stdout: Pipe
            var stderr: Pipe
        }
        let running = Running(process: process, stdout: stdout, stderr: stderr)
        let output: Data
        let errorOutput: Data
        let exitStatus: Int32
        do {
            try process.run()
            // Read both pipes off the cooperative pool; the plugin is short-lived.
            let result = await withCheckedContinuation { (continuation: CheckedContinuation<(Data, Data, Int32), Never>) in
                DispatchQueue.global().async {
                    let out = running.stdout.fileHandleForReading.readDataToEndOfFile()
                    let err = running.stderr.fileHandleForReading.readDataToEndOfFile()
                    running.process.waitUntilExit()
                    continuation.resume(returning: (out, err, running.process.terminationStatus))
                }
            }
            output = result.0
            errorOutput = result.1
            exitStatus = result.2
        } catch {
            var message = "exec credential plugin \(plugin.command) could not be started"
            if let hint = plugin.installHint { message += ": \(hint)" }
            throw KubernetesError(.config, message, underlying: error)
        }
        guard exitStatus == 0 else {
            let text = String(decoding: errorOutput.prefix(1024), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw KubernetesError(
                .unauthorized, "exec credential plugin \(plugin.command) exited with status \(exitStatus): \(text)")
        }
        guard let credential = try? JSONDecoder().decode(ExecCredential.self, from: output), let status = credential.status,
            status.token != nil || status.clientCertificateData != nil
        else {
            throw KubernetesError(
                .decoding, "exec credential plugin \(plugin.command) did not print an ExecCredential with a token or client certificate")
        }
        return status
    }
}
