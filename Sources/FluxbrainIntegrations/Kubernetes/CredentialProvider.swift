import FluxbrainCore
import Foundation
import Subprocess
import SystemPackage

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
        credentials: KubernetesCredentials,
        clock: any Clock<Duration> = ContinuousClock(),
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

/// `ExecCredential.status`.
package struct ExecCredentialStatus: Sendable, Codable, Hashable {
    package var token: String?
    package var clientCertificateData: String?
    package var clientKeyData: String?
    package var expirationTimestamp: String?

    package init(
        token: String? = nil,
        clientCertificateData: String? = nil,
        clientKeyData: String? = nil,
        expirationTimestamp: String? = nil
    ) {
        self.token = token
        self.clientCertificateData = clientCertificateData
        self.clientKeyData = clientKeyData
        self.expirationTimestamp = expirationTimestamp
    }
}

/// Runs exec credential plugins (`client.authentication.k8s.io/v1` and `v1beta1`) through swift-subprocess.
///
/// Standard output and standard error are read concurrently, so a plugin that writes a lot to standard error before
/// printing its credential cannot stall on a full pipe; a plugin that has not finished within the timeout (or whose
/// caller is cancelled) is killed.
package enum ExecCredentialRunner {
    private struct ExecCredential: Decodable {
        var apiVersion: String?
        var kind: String?
        var status: ExecCredentialStatus?
    }

    /// How long a plugin may run before it is killed and the request fails (client-go has no limit; a hung
    /// `aws`/`gcloud` must not stall a cluster's collector for ever).
    package static let defaultTimeout: Duration = .seconds(30)
    /// The most standard output a plugin may print: an ExecCredential is a few KiB.
    package static let maxOutputBytes = 1 << 20
    /// How much of standard error is kept for the error message; the rest is read and dropped.
    package static let keptErrorBytes = 4096

    /// Runs `plugin` with `KUBERNETES_EXEC_INFO` set and decodes its `ExecCredential` from stdout, within
    /// ``defaultTimeout``.
    package static func run(_ plugin: ExecCredentialPlugin) async throws(KubernetesError) -> ExecCredentialStatus {
        try await run(plugin, timeout: defaultTimeout)
    }

    /// Runs `plugin` with `KUBERNETES_EXEC_INFO` set and decodes its `ExecCredential` from stdout; kills it and
    /// throws a `.timeout` error naming it when it has not exited within `timeout` on `clock`.
    package static func run(
        _ plugin: ExecCredentialPlugin,
        timeout: Duration,
        clock: any Clock<Duration> = ContinuousClock()
    ) async throws(KubernetesError) -> ExecCredentialStatus {
        var command = plugin.command
        if command.contains("/"), !command.hasPrefix("/"), let base = plugin.baseDirectory {
            command = (base as NSString).appendingPathComponent(command)
        }
        let executable: Executable = command.contains("/") ? .path(FilePath(command)) : .name(command)
        var overrides: [Environment.Key: String?] = [:]
        for (key, value) in plugin.env { overrides[Environment.Key(stringLiteral: key)] = value }
        overrides["KUBERNETES_EXEC_INFO"] = plugin.execInfo
        let environment = Environment.inherit.updating(overrides)
        let arguments = Arguments(plugin.args)
        // The plugin gets its own process group, so a timeout or cancellation ends whatever it started too
        // (SIGTERM, then SIGKILL half a second later).
        let options = {
            var options = PlatformOptions()
            options.processGroupID = 0
            options.teardownSequence = [
                .gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: .milliseconds(500))
            ]
            return options
        }()

        let finished: Finished?
        do {
            finished = try await withThrowingTaskGroup(of: Finished?.self) { group in
                group.addTask {
                    let result = try await Subprocess.run(
                        executable,
                        arguments: arguments,
                        environment: environment,
                        platformOptions: options,
                        input: .none,
                        output: .sequence,
                        error: .sequence
                    ) { execution in
                        async let errorText = keptPrefix(of: execution.standardError, keeping: keptErrorBytes)
                        let output = try await collect(execution.standardOutput, limit: maxOutputBytes)
                        return (output, try await errorText)
                    }
                    return Finished(
                        status: result.terminationStatus,
                        output: result.closureResult.0,
                        errorText: result.closureResult.1
                    )
                }
                group.addTask {
                    try await clock.sleep(for: timeout)
                    return nil
                }
                defer { group.cancelAll() }
                return try await group.next() ?? nil
            }
        } catch is CancellationError {
            throw KubernetesError(.timeout, "exec credential plugin \(plugin.command) was cancelled before it finished")
        } catch let error as SubprocessError {
            throw startError(plugin, underlying: error)
        } catch let error as PluginOutputTooLarge {
            throw KubernetesError(
                .tooLarge,
                "exec credential plugin \(plugin.command) printed more than \(error.limit) bytes"
            )
        } catch {
            throw startError(plugin, underlying: error)
        }
        guard let finished else {
            throw KubernetesError(
                .timeout,
                "exec credential plugin \(plugin.command) did not finish within \(DurationParser.format(timeout)); killed it"
            )
        }
        guard case .exited(0) = finished.status else {
            let text = finished.errorText.trimmingCharacters(in: .whitespacesAndNewlines)
            throw KubernetesError(
                .unauthorized,
                "exec credential plugin \(plugin.command) \(describe(finished.status)): \(text)"
            )
        }
        guard let credential = try? JSONDecoder().decode(ExecCredential.self, from: Data(finished.output)),
            let status = credential.status, status.token != nil || status.clientCertificateData != nil
        else {
            throw KubernetesError(
                .decoding,
                "exec credential plugin \(plugin.command) did not print an ExecCredential with a token or client certificate"
            )
        }
        return status
    }

    private struct Finished: Sendable {
        var status: TerminationStatus
        var output: [UInt8]
        var errorText: String
    }

    private struct PluginOutputTooLarge: Error {
        var limit: Int
    }

    private static func startError(_ plugin: ExecCredentialPlugin, underlying: any Error) -> KubernetesError {
        var message = "exec credential plugin \(plugin.command) could not be started"
        if let hint = plugin.installHint { message += ": \(hint)" }
        return KubernetesError(.config, message, underlying: underlying)
    }

    private static func describe(_ status: TerminationStatus) -> String {
        switch status {
        case .exited(let code): "exited with status \(code)"
        case .signaled(let signal): "was killed by signal \(signal)"
        }
    }

    /// All of `sequence`, failing past `limit` bytes.
    private static func collect(_ sequence: SubprocessOutputSequence, limit: Int) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await buffer in sequence {
            guard bytes.count + buffer.count <= limit else { throw PluginOutputTooLarge(limit: limit) }
            buffer.withUnsafeBytes { bytes.append(contentsOf: $0) }
        }
        return bytes
    }

    /// The first `keeping` bytes of `sequence` as text; the rest is read to the end and dropped.
    private static func keptPrefix(of sequence: SubprocessOutputSequence, keeping: Int) async throws -> String {
        var bytes: [UInt8] = []
        for try await buffer in sequence where bytes.count < keeping {
            buffer.withUnsafeBytes { bytes.append(contentsOf: $0.prefix(keeping - bytes.count)) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
