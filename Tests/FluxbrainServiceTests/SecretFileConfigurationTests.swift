import Configuration
import FluxbrainService
import Foundation
import Testing

/// A temporary directory of files; `defer { files.remove() }`.
struct TemporaryFiles {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("fluxbrain-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }

    /// Writes `content` to `name` and returns its path.
    func write(_ name: String, _ content: String) throws -> String {
        let url = directory.appendingPathComponent(name)
        try Data(content.utf8).write(to: url)
        return url.path
    }
}

/// Secret settings read from files named by `<VAR>_FILE`, and where each value came from.
@Suite struct SecretFileConfigurationTests {
    /// Each secret setting, a value as a mounted Secret file holds it (trailing newline), and how to see it read.
    static let secrets: [(variable: String, content: String, read: @Sendable (FluxbrainConfiguration) -> String?)] = [
        ("FLUXBRAIN_REDIS_URL", "redis://:p4ss@redis:6379/0\n", { $0.redisURL }),
        ("FLUXBRAIN_SLACK_WEBHOOK", "https://hooks.slack.com/T0/B0/SECRET\n", { $0.slackWebhook?.absoluteString }),
        ("FLUXBRAIN_WEBHOOK_URL", "https://sink.example/hook?key=SECRET\n", { $0.webhookURL?.absoluteString }),
        ("FLUXBRAIN_WEBHOOK_SECRET", "hmac-SECRET\n", { $0.webhookSecret }),
        (
            "FLUXBRAIN_WEBHOOK_HEADERS", "Authorization: Bearer SECRET\nX-Team: platform\n",
            { $0.webhookHeaders.map { "\($0.0): \($0.1)" }.joined(separator: "\n") }
        ),
        ("FLUXBRAIN_GITHUB_TOKEN", "ghp_SECRET\r\n", { $0.githubToken }),
        ("FLUXBRAIN_SLACK_BOT_TOKEN", "xoxb-SECRET\n", { $0.slackBotToken }),
    ]

    /// GitHub needs its owner and repository beside the token.
    static let github = ["FLUXBRAIN_GITHUB_OWNER": "acme", "FLUXBRAIN_GITHUB_REPO": "ops"]

    @Test func theSecretSettingsAreExactlyTheOnesThatTakeAFile() {
        #expect(FluxbrainConfiguration.secretVariables == Set(Self.secrets.map(\.variable)))
    }

    @Test(arguments: 0..<7)
    func everySecretCanComeFromAFile(index: Int) throws {
        let secret = Self.secrets[index]
        let files = try TemporaryFiles()
        defer { files.remove() }
        let path = try files.write("secret", secret.content)
        let companions =
            switch secret.variable {
            case "FLUXBRAIN_GITHUB_TOKEN": Self.github
            case "FLUXBRAIN_SLACK_BOT_TOKEN": ["FLUXBRAIN_SLACK_CHANNEL": "C0ALERTS"]
            default: [String: String]()
            }
        let configuration = try FluxbrainConfiguration(
            environment: companions.merging(["\(secret.variable)_FILE": path]) { $1 }
        )
        let expected = secret.content.trimmingCharacters(in: .newlines)
        #expect(secret.read(configuration) == expected)
        #expect(configuration.sources[secret.variable] == "file \(secret.variable)_FILE (\(path))")
    }

    /// A Secret volume holds each key as a symlink into `..data/` (which swift-configuration 1.4.0's
    /// `DirectoryFilesProvider` skips); a `<VAR>_FILE` path follows it.
    @Test func aFileInAKubernetesSecretVolumeIsRead() throws {
        let files = try TemporaryFiles()
        defer { files.remove() }
        let manager = FileManager.default
        let revision = files.directory.appendingPathComponent("..2026_12_06_11_00_00.1")
        try manager.createDirectory(at: revision, withIntermediateDirectories: true)
        let content = Data("https://sink.example/hook?key=SECRET\n".utf8)
        try content.write(to: revision.appendingPathComponent("webhook-url"))
        let data = files.directory.appendingPathComponent("..data").path
        try manager.createSymbolicLink(atPath: data, withDestinationPath: revision.lastPathComponent)
        let path = files.directory.appendingPathComponent("webhook-url").path
        try manager.createSymbolicLink(atPath: path, withDestinationPath: "..data/webhook-url")
        let configuration = try FluxbrainConfiguration(environment: ["FLUXBRAIN_WEBHOOK_URL_FILE": path])
        #expect(configuration.webhookURL?.absoluteString == "https://sink.example/hook?key=SECRET")
    }

    @Test func aSecretSetDirectlyAndByFileFailsNamingBoth() throws {
        let files = try TemporaryFiles()
        defer { files.remove() }
        let path = try files.write("token", "ghp_SECRET")
        let error = #expect(throws: ConfigurationError.self) {
            try FluxbrainConfiguration(
                environment: Self.github.merging([
                    "FLUXBRAIN_GITHUB_TOKEN": "ghp_OTHER", "FLUXBRAIN_GITHUB_TOKEN_FILE": path,
                ]) { $1 }
            )
        }
        #expect(error?.variable == "FLUXBRAIN_GITHUB_TOKEN")
        #expect(error?.description.contains("FLUXBRAIN_GITHUB_TOKEN_FILE") == true)
        #expect(error?.description.contains("SECRET") == false)
    }

    @Test(arguments: ["missing", "directory"])
    func anUnreadableFileFailsNamingItsVariable(kind: String) throws {
        let files = try TemporaryFiles()
        defer { files.remove() }
        let path = files.directory.appendingPathComponent(kind == "missing" ? "no-such-file" : "").path
        let error = #expect(throws: ConfigurationError.self) {
            try FluxbrainConfiguration(environment: ["FLUXBRAIN_SLACK_WEBHOOK_FILE": path])
        }
        #expect(error?.variable == "FLUXBRAIN_SLACK_WEBHOOK_FILE")
        #expect(error?.description.contains(path) == true)
    }

    @Test func anEmptyFileVariableLeavesTheDefault() throws {
        let configuration = try FluxbrainConfiguration(
            environment: ["FLUXBRAIN_SLACK_WEBHOOK_FILE": "", "FLUXBRAIN_REDIS_URL_FILE": "  "])
        #expect(configuration.slackWebhook == nil)
        #expect(configuration.redisURL == nil)
        #expect(configuration.sources["FLUXBRAIN_SLACK_WEBHOOK"] == "default")
    }

    /// A file whose content cannot be used fails naming the variable at fault, never showing the content: an empty
    /// file names `<VAR>_FILE`, a `_FILE` for a setting that is not secret names itself, and a bad value names the
    /// setting as it would from the environment.
    @Test(arguments: [
        ("FLUXBRAIN_WEBHOOK_SECRET_FILE", " \n", "FLUXBRAIN_WEBHOOK_SECRET_FILE"),
        ("FLUXBRAIN_WORKERS_FILE", "8 hunter2", "FLUXBRAIN_WORKERS_FILE"),
        ("FLUXBRAIN_SLACK_WEBHOOK_FILE", "hooks.slack.com/services/T0/B0/hunter2\n", "FLUXBRAIN_SLACK_WEBHOOK"),
        ("FLUXBRAIN_REDIS_URL_FILE", "http://:hunter2@redis:6379\n", "FLUXBRAIN_REDIS_URL"),
    ])
    func anUnusableFileFailsNamingTheVariable(fileVariable: String, content: String, expected: String) throws {
        let files = try TemporaryFiles()
        defer { files.remove() }
        let path = try files.write("value", content)
        let error = #expect(throws: ConfigurationError.self) {
            try FluxbrainConfiguration(environment: [fileVariable: path])
        }
        #expect(error?.variable == expected)
        #expect(error?.description.contains("hunter2") == false)
    }

    @Test func sourcesSayEnvironmentFileOrDefault() throws {
        let files = try TemporaryFiles()
        defer { files.remove() }
        let path = try files.write("hmac", "hmac-SECRET\n")
        let configuration = try FluxbrainConfiguration(
            environment: ["FLUXBRAIN_WORKERS": "8", "FLUXBRAIN_WEBHOOK_SECRET_FILE": path, "FLUXBRAIN_LOCK_TTL": ""])
        let rows = Dictionary(uniqueKeysWithValues: configuration.describe().map { ($0.name, $0) })
        #expect(rows["FLUXBRAIN_WORKERS"]?.source == "env")
        #expect(rows["FLUXBRAIN_WEBHOOK_SECRET"]?.source == "file FLUXBRAIN_WEBHOOK_SECRET_FILE (\(path))")
        #expect(rows["FLUXBRAIN_WEBHOOK_SECRET"]?.value == "****** (set)")
        #expect(rows["FLUXBRAIN_LOCK_TTL"]?.source == "default")
        #expect(rows["FLUXBRAIN_LOCK_TTL"]?.value == "15s")
    }

    /// A Secret volume as Kubernetes writes it: each key a symlink into a `..data/` revision directory.
    static func secretVolume(_ files: TemporaryFiles, _ keys: [String: String]) throws -> String {
        let manager = FileManager.default
        let revision = files.directory.appendingPathComponent("..2026_12_06_14_00_00.1")
        try manager.createDirectory(at: revision, withIntermediateDirectories: true)
        try manager.createSymbolicLink(
            atPath: files.directory.appendingPathComponent("..data").path,
            withDestinationPath: revision.lastPathComponent
        )
        for (key, value) in keys {
            try Data(value.utf8).write(to: revision.appendingPathComponent(key))
            try manager.createSymbolicLink(
                atPath: files.directory.appendingPathComponent(key).path,
                withDestinationPath: "..data/\(key)"
            )
        }
        return files.directory.path
    }

    /// `FLUXBRAIN_SECRETS_DIR`: every secret with a file there is read; a missing or empty file leaves it unset.
    @Test func aSecretsDirectoryReadsTheKeysItHolds() throws {
        let files = try TemporaryFiles()
        defer { files.remove() }
        let directory = try Self.secretVolume(
            files,
            [
                "FLUXBRAIN_SLACK_WEBHOOK": "https://hooks.slack.com/services/T0/B0/SECRET\n",
                "FLUXBRAIN_WEBHOOK_SECRET": "hmac-SECRET\n", "FLUXBRAIN_WEBHOOK_URL": "", "unrelated": "x",
            ]
        )
        let configuration = try FluxbrainConfiguration(environment: ["FLUXBRAIN_SECRETS_DIR": directory])
        #expect(configuration.slackWebhook?.absoluteString == "https://hooks.slack.com/services/T0/B0/SECRET")
        #expect(configuration.webhookSecret == "hmac-SECRET")
        #expect(configuration.webhookURL == nil, "an empty key is unset, as an empty variable is")
        #expect(configuration.githubToken == nil)
        #expect(
            configuration.sources["FLUXBRAIN_SLACK_WEBHOOK"]
                == "file FLUXBRAIN_SECRETS_DIR (\(directory)/FLUXBRAIN_SLACK_WEBHOOK)"
        )
        #expect(configuration.sources["FLUXBRAIN_GITHUB_TOKEN"] == "default")
    }

    /// An empty directory (the Secret absent) sets nothing; a missing one is an error, so a wrong path cannot turn
    /// every notifier off without a word.
    @Test func aSecretsDirectoryMustExist() throws {
        let files = try TemporaryFiles()
        defer { files.remove() }
        let empty = try FluxbrainConfiguration(environment: ["FLUXBRAIN_SECRETS_DIR": files.directory.path])
        #expect(empty.slackWebhook == nil)
        let missing = files.directory.appendingPathComponent("absent").path
        let error = #expect(throws: ConfigurationError.self) {
            try FluxbrainConfiguration(environment: ["FLUXBRAIN_SECRETS_DIR": missing])
        }
        #expect(error?.variable == "FLUXBRAIN_SECRETS_DIR")
        #expect(error?.description.contains(missing) == true)
    }

    /// A setting in the directory and in the environment (or a `_FILE`) fails naming both: no silent precedence.
    @Test(arguments: ["FLUXBRAIN_WEBHOOK_SECRET", "FLUXBRAIN_WEBHOOK_SECRET_FILE"])
    func aSecretsDirectoryKeySetElsewhereFailsNamingBoth(other: String) throws {
        let files = try TemporaryFiles()
        defer { files.remove() }
        let elsewhere = try TemporaryFiles()
        defer { elsewhere.remove() }
        let directory = try Self.secretVolume(files, ["FLUXBRAIN_WEBHOOK_SECRET": "hmac-SECRET\n"])
        let value = other.hasSuffix("_FILE") ? try elsewhere.write("hmac", "hmac-OTHER") : "hmac-OTHER"
        let error = #expect(throws: ConfigurationError.self) {
            try FluxbrainConfiguration(environment: ["FLUXBRAIN_SECRETS_DIR": directory, other: value])
        }
        #expect(error?.variable == other)
        #expect(error?.description.contains("FLUXBRAIN_SECRETS_DIR") == true)
        #expect(error?.description.contains("hmac") == false)
    }

    @Test func anyConfigProviderCanFeedTheConfiguration() throws {
        let workers = ConfigValue(.string("12"), isSecret: false)
        let provider = InMemoryProvider(name: "test", values: [AbsoluteConfigKey(["FLUXBRAIN_WORKERS"]): workers])
        let configuration = try FluxbrainConfiguration(environment: EnvironmentReader(providers: [provider]))
        #expect(configuration.workers == 12)
        #expect(configuration.sources["FLUXBRAIN_WORKERS"] == "InMemoryProvider[test]")
    }
}

/// `fluxbrain check-config` and start-up with secrets from files, as an operator runs them.
@Suite struct SecretFileCLITests {
    @Test func checkConfigShowsTheSourceAndMasksTheSecret() async throws {
        let files = try TemporaryFiles()
        defer { files.remove() }
        let path = try files.write("token", "ghp_FILESECRET\n")
        let result = try await FluxbrainProcess.run(
            ["check-config"],
            environment: [
                "FLUXBRAIN_GITHUB_OWNER": "acme", "FLUXBRAIN_GITHUB_REPO": "ops", "FLUXBRAIN_GITHUB_TOKEN_FILE": path,
            ]
        )
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stdout.contains("ghp_FILESECRET"))
        let line = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("FLUXBRAIN_GITHUB_TOKEN ") })
        #expect(line.contains("****** (set)"))
        #expect(line.hasSuffix("file FLUXBRAIN_GITHUB_TOKEN_FILE (\(path))"))
        let owner = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("FLUXBRAIN_GITHUB_OWNER ") })
        #expect(owner.hasSuffix("env"))
        let ttl = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("FLUXBRAIN_LOCK_TTL ") })
        #expect(ttl.hasSuffix("default"))
    }

    @Test func bothSetExitsTwoNamingBoth() async throws {
        let files = try TemporaryFiles()
        defer { files.remove() }
        let path = try files.write("hook", "https://hooks.slack.com/services/T0/B0/FILESECRET\n")
        let result = try await FluxbrainProcess.run(
            ["check-config"],
            environment: [
                "FLUXBRAIN_SLACK_WEBHOOK": "https://hooks.slack.com/services/T0/B0/ENVSECRET",
                "FLUXBRAIN_SLACK_WEBHOOK_FILE": path,
            ]
        )
        #expect(result.status == 2)
        #expect(result.stderr.contains("FLUXBRAIN_SLACK_WEBHOOK and FLUXBRAIN_SLACK_WEBHOOK_FILE"))
        #expect(!result.stderr.contains("SECRET"))
    }

    @Test func anUnreadableFileExitsTwoNamingItsVariable() async throws {
        let result = try await FluxbrainProcess.run(
            ["check-config"],
            environment: ["FLUXBRAIN_REDIS_URL_FILE": "/nonexistent/fluxbrain/redis-url"]
        )
        #expect(result.status == 2)
        #expect(result.stderr.contains("FLUXBRAIN_REDIS_URL_FILE"))
        #expect(result.stderr.contains("/nonexistent/fluxbrain/redis-url"))
    }

    /// swift-configuration's access log (`CONFIG_ACCESS_LOG_FILE`) names every key read but redacts the secrets.
    @Test func theAccessLogNeverShowsASecret() async throws {
        let files = try TemporaryFiles()
        defer { files.remove() }
        let path = try files.write("hmac", "hmac-FILESECRET\n")
        let log = files.directory.appendingPathComponent("access.log").path
        let result = try await FluxbrainProcess.run(
            ["check-config"],
            environment: [
                "FLUXBRAIN_WEBHOOK_SECRET_FILE": path, "FLUXBRAIN_GITHUB_OWNER": "acme", "FLUXBRAIN_GITHUB_REPO": "ops",
                "FLUXBRAIN_GITHUB_TOKEN": "ghp_ENVSECRET", "CONFIG_ACCESS_LOG_FILE": log,
            ]
        )
        #expect(result.status == 0, "\(result.stderr)")
        let text = try String(contentsOfFile: log, encoding: .utf8)
        #expect(text.contains("FLUXBRAIN_WEBHOOK_SECRET"))
        #expect(text.contains("FLUXBRAIN_GITHUB_TOKEN"))
        #expect(text.contains("acme"), "non-secret values are logged")
        #expect(!text.contains("FILESECRET"))
        #expect(!text.contains("ENVSECRET"))
    }
}
