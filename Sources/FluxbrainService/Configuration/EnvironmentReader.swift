import Configuration
import FluxbrainCore
import Foundation

/// A configuration value that cannot be used; the message names the variable. The executable exits with code 2.
package struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    /// The environment variable at fault, e.g. `FLUXBRAIN_LOCK_TTL`.
    package var variable: String
    package var message: String

    package init(variable: String, message: String) {
        self.variable = variable
        self.message = message
    }

    package var description: String { "\(variable): \(message)" }
}

/// Reads typed `FLUXBRAIN_*` values through a swift-configuration `ConfigReader`, failing with a message that names
/// the variable.
///
/// The reader's keys are the variable names themselves (`FLUXBRAIN_LOCK_TTL`). Built from an environment
/// (``init(_:secrets:)``), it asks two providers in order: the environment variables, then the files that
/// `<VAR>_FILE` variables name for the secret settings (``SecretFiles``). Values are read as strings and typed here,
/// so a bad value fails with a message naming its variable instead of falling back to the default.
///
/// An empty value counts as unset, so `FLUXBRAIN_X=` in a compose file or manifest means "use the default".
package struct EnvironmentReader: Sendable {
    /// The environment as given; ``ProxyEnvironment`` reads its lower-case variables from here.
    package let environment: [String: String]
    /// The settings whose values are secret: read with `isSecret: true`, so access reporters never print them.
    package let secrets: Set<String>
    let reader: ConfigReader
    let recorder: ConfigurationSourceRecorder

    /// Reads `environment` and, for each of `secrets`, the file named by its `<VAR>_FILE` variable.
    ///
    /// - Throws: ``ConfigurationError`` when a secret is set both directly and through its file variable, when a
    ///   file cannot be read or is empty, or when a `FLUXBRAIN_*_FILE` variable belongs to no secret setting.
    package init(
        _ environment: [String: String] = ProcessInfo.processInfo.environment,
        secrets: Set<String> = FluxbrainConfiguration.secretVariables
    ) throws(ConfigurationError) {
        let files = try SecretFiles(environment: environment, secrets: secrets)
        // Only Fluxbrain's own variables: no other secret of the process can reach a provider's description or log.
        // Empty values are unset; dropping them here lets a lower provider answer.
        let set = environment.filter {
            $0.key.hasPrefix("FLUXBRAIN_") && !$0.value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        }
        let providers: [any ConfigProvider] = [
            EnvironmentVariablesProvider(environmentVariables: set, secretsSpecifier: .specific(secrets)),
            files.provider,
        ]
        self.init(providers: providers, secrets: secrets, environment: environment, files: files.paths)
    }

    /// Reads from `providers` in order (tests, or another source than the environment).
    package init(
        providers: [any ConfigProvider],
        secrets: Set<String> = FluxbrainConfiguration.secretVariables,
        environment: [String: String] = [:]
    ) {
        self.init(providers: providers, secrets: secrets, environment: environment, files: [:])
    }

    private init(
        providers: [any ConfigProvider],
        secrets: Set<String>,
        environment: [String: String],
        files: [String: String]
    ) {
        self.environment = environment
        self.secrets = secrets
        self.recorder = ConfigurationSourceRecorder(files: files)
        self.reader = ConfigReader(providers: providers, accessReporter: recorder)
    }

    /// Where the value of `name` came from, once it has been read: `env`, `file <VAR>_FILE (path)`, the name of
    /// another provider, or `default`.
    package func source(of name: String) -> String { recorder.source(of: name) }

    /// Where each value read so far came from, keyed by variable name.
    package func sources() -> [String: String] { recorder.sources() }

    /// The trimmed value of `name`, or `nil` when unset or empty.
    package func string(_ name: String) -> String? {
        let value = reader.string(forKey: ConfigKey([name]), isSecret: secrets.contains(name))
        guard let value = value?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }

    /// A duration written as `30s`, `5m`, `1h30m`.
    package func duration(
        _ name: String,
        default defaultValue: Duration,
        minimum: Duration = .zero
    ) throws(ConfigurationError) -> Duration {
        guard let text = string(name) else { return defaultValue }
        guard let value = DurationParser.parse(text) else {
            throw ConfigurationError(
                variable: name,
                message: "'\(text)' is not a duration (write it like 30s, 5m, 1h or 1h30m)"
            )
        }
        guard value >= minimum else {
            throw ConfigurationError(
                variable: name,
                message: "'\(text)' is below the minimum of \(minimum.formattedShort)"
            )
        }
        return value
    }

    /// An integer within `range`.
    package func int(
        _ name: String,
        default defaultValue: Int,
        range: ClosedRange<Int>
    ) throws(ConfigurationError) -> Int {
        guard let text = string(name) else { return defaultValue }
        guard let value = Int(text) else {
            throw ConfigurationError(variable: name, message: "'\(text)' is not a whole number")
        }
        guard range.contains(value) else {
            throw ConfigurationError(
                variable: name,
                message: "\(value) is outside \(range.lowerBound)...\(range.upperBound)"
            )
        }
        return value
    }

    /// `true`/`false` (also `1`/`0`, `yes`/`no`).
    package func bool(_ name: String, default defaultValue: Bool) throws(ConfigurationError) -> Bool {
        guard let text = string(name) else { return defaultValue }
        switch text.lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw ConfigurationError(variable: name, message: "'\(text)' is not a boolean (true or false)")
        }
    }

    /// An absolute `http` or `https` URL. Secret URLs are never echoed in the error.
    package func url(_ name: String) throws(ConfigurationError) -> URL? {
        guard let text = string(name) else { return nil }
        let shown = secrets.contains(name) ? "the value" : "'\(text)'"
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = url.host, !host.isEmpty
        else {
            throw ConfigurationError(variable: name, message: "\(shown) is not an absolute http(s) URL")
        }
        return url
    }

    /// One of `choices`.
    package func choice(
        _ name: String,
        default defaultValue: String,
        choices: [String]
    ) throws(ConfigurationError) -> String {
        guard let text = string(name) else { return defaultValue }
        guard choices.contains(text.lowercased()) else {
            throw ConfigurationError(
                variable: name,
                message: "'\(text)' is not one of \(choices.joined(separator: ", "))"
            )
        }
        return text.lowercased()
    }

    /// A comma-separated list, empty entries dropped.
    package func list(_ name: String) -> [String] {
        guard let text = string(name) else { return [] }
        return text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// A comma-separated list of `key=value` pairs, e.g. `prod=prod-context,stage=stage-context`.
    package func pairs(_ name: String, separator: Character = "=") throws(ConfigurationError) -> [(String, String)] {
        var result: [(String, String)] = []
        for entry in list(name) {
            guard let index = entry.firstIndex(of: separator) else {
                let shown = secrets.contains(name) ? "an entry" : "'\(entry)'"
                throw ConfigurationError(variable: name, message: "\(shown) is not of the form key\(separator)value")
            }
            let key = entry[..<index].trimmingCharacters(in: .whitespaces)
            let value = entry[entry.index(after: index)...].trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty, !value.isEmpty else {
                throw ConfigurationError(variable: name, message: "an entry has an empty key or value")
            }
            result.append((key, value))
        }
        return result
    }
}
