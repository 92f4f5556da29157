import FluxbrainCore
import FluxbrainIntegrations
import Foundation

/// Fluxbrain's whole configuration, read once at start through swift-configuration from `FLUXBRAIN_*` environment
/// variables and, for the secret settings (``secretVariables``), from files named by `<VAR>_FILE`.
///
/// Every key, its type and default is listed on the property that holds it; `fluxbrain check-config` prints the
/// effective values with secrets masked and where each came from. A bad value fails at start with a
/// `ConfigurationError` naming the variable.
package struct FluxbrainConfiguration: Sendable {
    /// The settings that hold secrets: read with `isSecret: true`, masked by `check-config`, and each also readable
    /// from a file named by `<VAR>_FILE` (a mounted Secret).
    package static let secretVariables: Set<String> = [
        "FLUXBRAIN_REDIS_URL", "FLUXBRAIN_SLACK_WEBHOOK", "FLUXBRAIN_WEBHOOK_URL", "FLUXBRAIN_WEBHOOK_SECRET",
        "FLUXBRAIN_WEBHOOK_HEADERS", "FLUXBRAIN_GITHUB_TOKEN", "FLUXBRAIN_SLACK_BOT_TOKEN",
    ]

    /// How a run ends.
    package enum RunMode: String, Sendable { case continuous, once }

    /// Log line format.
    package enum LogFormat: String, Sendable { case json, text }

    // MARK: Collection

    /// `FLUXBRAIN_CLUSTER` (string): the cluster's name in fingerprints and notifications. Required in-cluster and
    /// with Redis; with a kubeconfig it defaults to the current context's name.
    package var cluster: String?
    /// `FLUXBRAIN_CLUSTERS` (`name=context,…`): kubeconfig contexts to watch from a central installation.
    package var clusters: [(name: String, context: String)]
    /// `FLUXBRAIN_NAMESPACES` (comma list, default all): namespaces to watch.
    package var namespaces: [String]
    /// `FLUXBRAIN_FLUX_NAMESPACE` (default `flux-system`): where the Flux controllers run.
    package var fluxNamespace: String
    /// `FLUXBRAIN_KUBE_API_URL` (URL, optional): a Kubernetes API without authentication, e.g. the testbed's
    /// `fluxbrain-testbed fake-cluster`. Overrides in-cluster and kubeconfig discovery.
    package var kubeAPIURL: URL?
    /// `FLUXBRAIN_REQUEUE_INTERVAL` (duration, default `5m`): full resync period.
    package var requeueInterval: Duration
    /// `FLUXBRAIN_STUCK_AFTER` (duration, default `15m`): `Reconciling=True` longer than this is an incident.
    package var stuckAfter: Duration
    /// `FLUXBRAIN_COLLECT_LOGS` (bool, default `false`): attach controller log lines to incidents.
    package var collectLogs: Bool
    /// `FLUXBRAIN_GIT_HOSTS` (comma-separated `host=product`, product `github`|`gitlab`|`bitbucket`|`gitea`|`forgejo`;
    /// default: github.com, gitlab.com, bitbucket.org, gitea.com, codeberg.org only): self-hosted Git hosts whose
    /// commit and compare links Fluxbrain builds, e.g. `git.acme.corp=gitlab,code.acme.corp=gitea`.
    package var gitHosts: GitHosts

    // MARK: Run

    /// `FLUXBRAIN_RUN_MODE` (`continuous`|`once`, default `continuous`).
    package var runMode: RunMode
    /// `FLUXBRAIN_LOG_LEVEL` (`trace`…`critical`, default `info`).
    package var logLevel: String
    /// `FLUXBRAIN_LOG_FORMAT` (`json`|`text`, default `json` when stderr is not a terminal, else `text`).
    package var logFormat: LogFormat
    /// `FLUXBRAIN_HTTP_ADDR` (`host:port` or `:port`, default `:8080`): health and metrics server.
    package var httpAddress: (host: String, port: Int)

    // MARK: Coordination

    /// `FLUXBRAIN_REDIS_URL` (secret, `redis://[user:password@]host:port[/db]`): shared state; unset = in-memory.
    package var redisURL: String?
    /// `FLUXBRAIN_REDIS_TIMEOUT` (duration, default `5s`): Redis connect and command timeout; no Redis call waits
    /// longer (blocking pops add their own server-side wait).
    package var redisTimeout: Duration
    /// `FLUXBRAIN_REDIS_PREFIX` (default `fluxbrain`): key prefix.
    package var redisPrefix: String
    /// `FLUXBRAIN_REPLICA_ID` (default the hostname): this replica's identity in the lock and leases.
    package var replicaID: String
    /// `FLUXBRAIN_LOCK_TTL` (duration, default `15s`): scheduler lock TTL.
    package var lockTTL: Duration
    /// `FLUXBRAIN_LEASE` (duration, default `30s`): work item lease.
    package var lease: Duration
    /// `FLUXBRAIN_MAX_ATTEMPTS` (int, default 5): claims before an item is dead-lettered.
    package var maxAttempts: Int
    /// `FLUXBRAIN_WORKERS` (int, default 4): workers per replica.
    package var workers: Int

    // MARK: Analysis

    /// `FLUXBRAIN_ERRORBRAIN_URL` (URL, optional): Errorbrain's base URL; unset = Flux context only.
    package var errorbrainURL: URL?
    /// `FLUXBRAIN_ERRORBRAIN_TIMEOUT` (duration, default `30s`).
    package var errorbrainTimeout: Duration
    /// `FLUXBRAIN_ENVIRONMENT` (`local`|`development`|`staging`|`production`, optional): sent to Errorbrain.
    package var environmentName: String?
    /// `FLUXBRAIN_BACKOFF_BASE` (duration, default `30s`): analysis backoff step (failures × base).
    package var backoffBase: Duration
    /// `FLUXBRAIN_BACKOFF_MAX` (duration, default `1h`): analysis backoff cap.
    package var backoffMax: Duration
    /// `FLUXBRAIN_ANALYSIS_MAX_ATTEMPTS` (int, default 3): then notify without analysis.
    package var analysisMaxAttempts: Int

    // MARK: Notification

    /// `FLUXBRAIN_REPEAT_INTERVAL` (duration, default `4h`): reminder period for an open incident.
    package var repeatInterval: Duration
    /// `FLUXBRAIN_SEND_RESOLVED` (bool, default `true`).
    package var sendResolved: Bool
    /// `FLUXBRAIN_SLACK_WEBHOOK` (secret URL, optional).
    package var slackWebhook: URL?
    /// `FLUXBRAIN_SLACK_CHANNEL` (optional): the webhook's channel override; with a bot token, required: the channel
    /// (preferably its ID, `C0123456789`) the bot posts to.
    package var slackChannel: String?
    /// `FLUXBRAIN_SLACK_BOT_TOKEN` (secret, optional): a Slack app's bot token (`xoxb-…`); Fluxbrain then posts through
    /// the Web API, one thread per incident (docs/slack.md). Not together with `FLUXBRAIN_SLACK_WEBHOOK`.
    package var slackBotToken: String?
    /// `FLUXBRAIN_SLACK_API_URL` (URL, default `https://slack.com/api`): the Web API base (tests, egress proxies);
    /// also the default `apiURL` of a routes file's bot-token Slack channels.
    package var slackAPIURL: URL
    /// `FLUXBRAIN_WEBHOOK_URL` (secret URL, optional).
    package var webhookURL: URL?
    /// `FLUXBRAIN_WEBHOOK_SECRET` (secret, optional): HMAC-SHA256 key for `X-Signature`.
    package var webhookSecret: String?
    /// `FLUXBRAIN_WEBHOOK_HEADERS` (secret, `Name: value` pairs separated by `;` or newlines; see README).
    package var webhookHeaders: [(String, String)]
    /// `FLUXBRAIN_GITHUB_OWNER`, `FLUXBRAIN_GITHUB_REPO`, `FLUXBRAIN_GITHUB_TOKEN` (secret): GitHub Issues.
    package var githubOwner: String?
    package var githubRepo: String?
    package var githubToken: String?
    /// `FLUXBRAIN_GITHUB_API_URL` (URL, default `https://api.github.com`).
    package var githubAPIURL: URL
    /// `FLUXBRAIN_GITHUB_REOPEN_WINDOW` (duration, default `24h`).
    package var githubReopenWindow: Duration
    /// `FLUXBRAIN_ROUTES_FILE` (path, optional): named channels and routes (docs/notifications.md). Without it, the
    /// channels come from the variables above (`slack`, `webhook`, `github`; `console` when none is set) and every
    /// incident goes to all of them. With it, those variables build no channel (the file may read them with
    /// `{env: NAME}`).
    package var routing: RoutingConfiguration
    /// `HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY` (and their lower-case forms; secret: a proxy URL may carry a
    /// password): the proxies of outbound requests (Kubernetes unless a kubeconfig `proxy-url` is set, Errorbrain,
    /// Slack, webhook, GitHub), read like Go programs do (``ProxyEnvironment``). Default: none.
    package var proxies: ProxyEnvironment
    /// Where each variable's value came from (`env`, `file <VAR>_FILE (path)`, `default`), keyed by variable name.
    package var sources: [String: String]

    /// Reads and validates the configuration from the process environment and the secret files it names.
    ///
    /// - Throws: ``ConfigurationError`` naming the variable at fault.
    package init(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        isTerminal: Bool = false,
        hostname: String = ProcessInfo.processInfo.hostName
    ) throws(ConfigurationError) {
        try self.init(environment: EnvironmentReader(environment), isTerminal: isTerminal, hostname: hostname)
    }

    /// Reads and validates the configuration through `environment`'s `ConfigReader`.
    ///
    /// ## Configuration keys
    /// Each key is the environment variable of the same name; the properties above say what each means.
    /// - Collection: `FLUXBRAIN_CLUSTER` (string, optional), `FLUXBRAIN_CLUSTERS` (`name=context,…`, optional),
    ///   `FLUXBRAIN_NAMESPACES` (comma list, default all), `FLUXBRAIN_FLUX_NAMESPACE` (default `flux-system`),
    ///   `FLUXBRAIN_KUBE_API_URL` (URL, optional), `FLUXBRAIN_REQUEUE_INTERVAL` (duration ≥ 1s, default `5m`),
    ///   `FLUXBRAIN_STUCK_AFTER` (duration ≥ 1s, default `15m`), `FLUXBRAIN_COLLECT_LOGS` (bool, default `false`).
    /// - Run: `FLUXBRAIN_RUN_MODE` (`continuous`|`once`, default `continuous`), `FLUXBRAIN_LOG_LEVEL` (default
    ///   `info`), `FLUXBRAIN_LOG_FORMAT` (`json`|`text`, default by terminal), `FLUXBRAIN_HTTP_ADDR` (default `:8080`).
    /// - Coordination: `FLUXBRAIN_REDIS_URL` (secret, `redis://…`, optional), `FLUXBRAIN_REDIS_TIMEOUT` (duration ≥
    ///   50ms, default `5s`), `FLUXBRAIN_REDIS_PREFIX` (default `fluxbrain`), `FLUXBRAIN_REPLICA_ID` (default the
    ///   hostname), `FLUXBRAIN_LOCK_TTL` (duration ≥ 300ms, default `15s`), `FLUXBRAIN_LEASE` (duration ≥ 300ms,
    ///   default `30s`), `FLUXBRAIN_MAX_ATTEMPTS` (1…1000, default 5), `FLUXBRAIN_WORKERS` (1…256, default 4).
    /// - Analysis: `FLUXBRAIN_ERRORBRAIN_URL` (URL, optional), `FLUXBRAIN_ERRORBRAIN_TIMEOUT` (duration ≥ 10ms,
    ///   default `30s`), `FLUXBRAIN_ENVIRONMENT` (`local`|`development`|`staging`|`production`, optional),
    ///   `FLUXBRAIN_BACKOFF_BASE` (default `30s`), `FLUXBRAIN_BACKOFF_MAX` (≥ base, default `1h`),
    ///   `FLUXBRAIN_ANALYSIS_MAX_ATTEMPTS` (1…100, default 3).
    /// - Notification: `FLUXBRAIN_REPEAT_INTERVAL` (duration ≥ 1s, default `4h`), `FLUXBRAIN_SEND_RESOLVED` (bool,
    ///   default `true`), `FLUXBRAIN_SLACK_WEBHOOK` (secret URL, optional), `FLUXBRAIN_SLACK_CHANNEL` (optional;
    ///   required with a bot token), `FLUXBRAIN_SLACK_BOT_TOKEN` (secret, optional; not with the webhook),
    ///   `FLUXBRAIN_SLACK_API_URL` (URL, default `https://slack.com/api`),
    ///   `FLUXBRAIN_WEBHOOK_URL` (secret URL, optional), `FLUXBRAIN_WEBHOOK_SECRET` (secret, optional),
    ///   `FLUXBRAIN_WEBHOOK_HEADERS` (secret, `Name: value` pairs, optional), `FLUXBRAIN_GITHUB_OWNER`,
    ///   `FLUXBRAIN_GITHUB_REPO`, `FLUXBRAIN_GITHUB_TOKEN` (secret; all three or none),
    ///   `FLUXBRAIN_GITHUB_API_URL` (URL, default `https://api.github.com`), `FLUXBRAIN_GITHUB_REOPEN_WINDOW`
    ///   (duration, default `24h`), `FLUXBRAIN_ROUTES_FILE` (path of the routes file, optional).
    /// - Proxies: `HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY` and their lower-case forms, read from
    ///   `environment.environment` as Go programs read them (``ProxyEnvironment``).
    ///
    /// Each secret setting (``secretVariables``) may instead be given as `<VAR>_FILE`, the path of a file holding it,
    /// or as a file named after it in the directory `FLUXBRAIN_SECRETS_DIR` names (absent or empty there: unset).
    ///
    /// - Throws: ``ConfigurationError`` naming the variable at fault.
    package init(
        environment: EnvironmentReader,
        isTerminal: Bool = false,
        hostname: String = ProcessInfo.processInfo.hostName
    ) throws(ConfigurationError) {
        let env = environment
        cluster = env.string("FLUXBRAIN_CLUSTER")
        clusters = try env.pairs("FLUXBRAIN_CLUSTERS").map { (name: $0.0, context: $0.1) }
        if Set(clusters.map(\.name)).count != clusters.count {
            throw ConfigurationError(variable: "FLUXBRAIN_CLUSTERS", message: "a cluster name appears twice")
        }
        namespaces = env.list("FLUXBRAIN_NAMESPACES")
        fluxNamespace = env.string("FLUXBRAIN_FLUX_NAMESPACE") ?? "flux-system"
        kubeAPIURL = try env.url("FLUXBRAIN_KUBE_API_URL")
        requeueInterval = try env.duration("FLUXBRAIN_REQUEUE_INTERVAL", default: .seconds(300), minimum: .seconds(1))
        stuckAfter = try env.duration("FLUXBRAIN_STUCK_AFTER", default: .seconds(900), minimum: .seconds(1))
        collectLogs = try env.bool("FLUXBRAIN_COLLECT_LOGS", default: false)
        do {
            gitHosts =
                try env.string("FLUXBRAIN_GIT_HOSTS").map { text throws(CoreError) in
                    try GitHosts(parsing: text)
                } ?? .builtIn
        } catch {
            throw ConfigurationError(variable: "FLUXBRAIN_GIT_HOSTS", message: error.message)
        }

        runMode = RunMode(
            rawValue: try env.choice("FLUXBRAIN_RUN_MODE", default: "continuous", choices: ["continuous", "once"])
        )!
        logLevel = try env.choice(
            "FLUXBRAIN_LOG_LEVEL",
            default: "info",
            choices: ["trace", "debug", "info", "notice", "warning", "error", "critical"]
        )
        logFormat = LogFormat(
            rawValue: try env.choice(
                "FLUXBRAIN_LOG_FORMAT",
                default: isTerminal ? "text" : "json",
                choices: ["json", "text"]
            )
        )!
        httpAddress = try Self.parseAddress(
            env.string("FLUXBRAIN_HTTP_ADDR") ?? ":8080",
            variable: "FLUXBRAIN_HTTP_ADDR"
        )

        redisURL = env.string("FLUXBRAIN_REDIS_URL")
        if let redisURL, !(redisURL.hasPrefix("redis://") || redisURL.hasPrefix("rediss://")) {
            throw ConfigurationError(
                variable: "FLUXBRAIN_REDIS_URL",
                message: "must start with redis:// (the value is not shown: it may hold a password)"
            )
        }
        if let redisURL, redisURL.hasPrefix("rediss://") {
            throw ConfigurationError(
                variable: "FLUXBRAIN_REDIS_URL",
                message:
                    "rediss:// (TLS) is not supported: hiredis 0.14 has no TLS; use redis:// on a trusted network or a TLS sidecar"
            )
        }
        redisTimeout = try env.duration("FLUXBRAIN_REDIS_TIMEOUT", default: .seconds(5), minimum: .milliseconds(50))
        redisPrefix = env.string("FLUXBRAIN_REDIS_PREFIX") ?? "fluxbrain"
        replicaID = env.string("FLUXBRAIN_REPLICA_ID") ?? hostname
        lockTTL = try env.duration("FLUXBRAIN_LOCK_TTL", default: .seconds(15), minimum: .milliseconds(300))
        lease = try env.duration("FLUXBRAIN_LEASE", default: .seconds(30), minimum: .milliseconds(300))
        maxAttempts = try env.int("FLUXBRAIN_MAX_ATTEMPTS", default: 5, range: 1...1000)
        workers = try env.int("FLUXBRAIN_WORKERS", default: 4, range: 1...256)

        errorbrainURL = try env.url("FLUXBRAIN_ERRORBRAIN_URL")
        errorbrainTimeout = try env.duration(
            "FLUXBRAIN_ERRORBRAIN_TIMEOUT",
            default: .seconds(30),
            minimum: .milliseconds(10)
        )
        environmentName = try env.string("FLUXBRAIN_ENVIRONMENT").map { _ throws(ConfigurationError) in
            try env.choice(
                "FLUXBRAIN_ENVIRONMENT",
                default: "",
                choices: ["local", "development", "staging", "production"]
            )
        }
        backoffBase = try env.duration("FLUXBRAIN_BACKOFF_BASE", default: .seconds(30), minimum: .milliseconds(1))
        backoffMax = try env.duration("FLUXBRAIN_BACKOFF_MAX", default: .seconds(3600), minimum: .milliseconds(1))
        if backoffMax < backoffBase {
            throw ConfigurationError(
                variable: "FLUXBRAIN_BACKOFF_MAX",
                message: "must not be below FLUXBRAIN_BACKOFF_BASE"
            )
        }
        analysisMaxAttempts = try env.int("FLUXBRAIN_ANALYSIS_MAX_ATTEMPTS", default: 3, range: 1...100)

        repeatInterval = try env.duration(
            "FLUXBRAIN_REPEAT_INTERVAL",
            default: .seconds(4 * 3600),
            minimum: .seconds(1)
        )
        sendResolved = try env.bool("FLUXBRAIN_SEND_RESOLVED", default: true)
        slackWebhook = try env.url("FLUXBRAIN_SLACK_WEBHOOK")
        slackChannel = env.string("FLUXBRAIN_SLACK_CHANNEL")
        slackBotToken = env.string("FLUXBRAIN_SLACK_BOT_TOKEN")
        slackAPIURL = try env.url("FLUXBRAIN_SLACK_API_URL") ?? URL(string: "https://slack.com/api")!
        webhookURL = try env.url("FLUXBRAIN_WEBHOOK_URL")
        webhookSecret = env.string("FLUXBRAIN_WEBHOOK_SECRET")
        webhookHeaders = try Self.parseHeaders(env.string("FLUXBRAIN_WEBHOOK_HEADERS"))
        githubOwner = env.string("FLUXBRAIN_GITHUB_OWNER")
        githubRepo = env.string("FLUXBRAIN_GITHUB_REPO")
        githubToken = env.string("FLUXBRAIN_GITHUB_TOKEN")
        githubAPIURL = try env.url("FLUXBRAIN_GITHUB_API_URL") ?? URL(string: "https://api.github.com")!
        githubReopenWindow = try env.duration("FLUXBRAIN_GITHUB_REOPEN_WINDOW", default: .seconds(24 * 3600))
        do {
            proxies = try ProxyEnvironment(environment: env.environment)
        } catch {
            throw ConfigurationError(variable: error.variable, message: error.message)
        }
        let github = [
            ("FLUXBRAIN_GITHUB_OWNER", githubOwner), ("FLUXBRAIN_GITHUB_REPO", githubRepo),
            ("FLUXBRAIN_GITHUB_TOKEN", githubToken),
        ]
        let setCount = github.filter { $0.1 != nil }.count
        if setCount > 0, setCount < 3, let missing = github.first(where: { $0.1 == nil }) {
            throw ConfigurationError(
                variable: missing.0,
                message: "is required when any of FLUXBRAIN_GITHUB_OWNER, _REPO, _TOKEN is set"
            )
        }
        if let path = env.string(RoutesFile.variable) {
            routing = try RoutesFile.load(
                path: path,
                environment: env.environment,
                defaults: .init(
                    githubAPIURL: githubAPIURL,
                    githubReopenWindow: githubReopenWindow,
                    slackAPIURL: slackAPIURL
                )
            )
        } else {
            var channels: [ChannelDefinition] = []
            if let slackBotToken {
                guard slackWebhook == nil else {
                    throw ConfigurationError(
                        variable: "FLUXBRAIN_SLACK_BOT_TOKEN",
                        message:
                            "cannot be combined with FLUXBRAIN_SLACK_WEBHOOK: set one of them (a routes file can define both as two channels)"
                    )
                }
                guard let slackChannel else {
                    throw ConfigurationError(
                        variable: "FLUXBRAIN_SLACK_CHANNEL",
                        message: "is required with FLUXBRAIN_SLACK_BOT_TOKEN: the channel ID the bot posts to"
                    )
                }
                channels.append(
                    ChannelDefinition(
                        id: .slack,
                        settings: .slackBot(token: slackBotToken, channel: slackChannel, apiURL: slackAPIURL)
                    )
                )
            } else if let slackWebhook {
                channels.append(
                    ChannelDefinition(id: .slack, settings: .slack(webhookURL: slackWebhook, channel: slackChannel))
                )
            }
            if let webhookURL {
                channels.append(
                    ChannelDefinition(
                        id: .webhook,
                        settings: .webhook(url: webhookURL, secret: webhookSecret, headers: webhookHeaders)
                    )
                )
            }
            if let githubOwner, let githubRepo, let githubToken {
                channels.append(
                    ChannelDefinition(
                        id: .github,
                        settings: .github(
                            owner: githubOwner,
                            repo: githubRepo,
                            token: githubToken,
                            apiURL: githubAPIURL,
                            reopenWindow: githubReopenWindow
                        )
                    )
                )
            }
            if channels.isEmpty { channels.append(ChannelDefinition(id: .console, settings: .console)) }
            routing = RoutingConfiguration(file: nil, channels: channels, router: .catchAll(channels.map(\.id)))
        }
        var sources = env.sources()
        if sources["FLUXBRAIN_REPLICA_ID"] == "default" { sources["FLUXBRAIN_REPLICA_ID"] = "default (hostname)" }
        if sources["FLUXBRAIN_LOG_FORMAT"] == "default" {
            sources["FLUXBRAIN_LOG_FORMAT"] = isTerminal ? "default (a terminal)" : "default (not a terminal)"
        }
        for (upper, lower) in [("HTTPS_PROXY", "https_proxy"), ("HTTP_PROXY", "http_proxy"), ("NO_PROXY", "no_proxy")] {
            let name = [upper, lower].first {
                env.environment[$0]?.trimmingCharacters(in: .whitespaces).isEmpty == false
            }
            sources[upper] = name.map { "env \($0)" } ?? "default"
        }
        self.sources = sources
    }

    /// `true` when GitHub Issues are configured.
    package var githubEnabled: Bool { githubOwner != nil && githubRepo != nil && githubToken != nil }

    /// Parses `host:port` or `:port`.
    package static func parseAddress(
        _ text: String,
        variable: String
    ) throws(ConfigurationError) -> (host: String, port: Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else {
            throw ConfigurationError(variable: variable, message: "'\(text)' is not host:port or :port")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }

    /// `true` for a header name Fluxbrain accepts: letters, digits, `-` and `_`, not empty. The one check for
    /// `FLUXBRAIN_WEBHOOK_HEADERS` and a routes file's `headers:`.
    package static func isHeaderName(_ name: some StringProtocol) -> Bool {
        !name.isEmpty && name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
    }

    /// Parses `FLUXBRAIN_WEBHOOK_HEADERS`: `Name: value` pairs separated by newlines or `;`. Values are secrets.
    package static func parseHeaders(_ text: String?) throws(ConfigurationError) -> [(String, String)] {
        guard let text else { return [] }
        var headers: [(String, String)] = []
        for entry in text.split(whereSeparator: { $0 == "\n" || $0 == ";" }) {
            let trimmed = entry.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            guard let colon = trimmed.firstIndex(of: ":") else {
                throw ConfigurationError(
                    variable: "FLUXBRAIN_WEBHOOK_HEADERS",
                    message: "an entry is not of the form 'Name: value'"
                )
            }
            let name = trimmed[..<colon].trimmingCharacters(in: .whitespaces)
            let value = trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            guard isHeaderName(name) else {
                throw ConfigurationError(
                    variable: "FLUXBRAIN_WEBHOOK_HEADERS",
                    message: "'\(name)' is not a valid header name"
                )
            }
            headers.append((name, value))
        }
        return headers
    }

    /// The effective configuration, secrets masked, with where each value came from, for `fluxbrain check-config`.
    package func describe() -> [(name: String, value: String, source: String)] {
        values().map { (name: $0.0, value: $0.1, source: sources[$0.0] ?? "default") }
    }

    /// The effective values as `(NAME, value)`, secrets masked.
    private func values() -> [(String, String)] {
        func mask(_ value: Any?) -> String { value == nil ? "(unset)" : "****** (set)" }
        func show(_ value: String?) -> String { value ?? "(unset)" }
        func maskURL(_ url: URL?) -> String {
            guard let url, let host = url.host else { return "(unset)" }
            return "\(url.scheme ?? "https")://\(host)/****** (set)"
        }
        var redisShown = "(unset: single process, in-memory state)"
        if let redisURL, let parsed = URL(string: redisURL) {
            redisShown =
                "redis://\(parsed.password == nil ? "" : "******@")\(parsed.host ?? "?"):\(parsed.port ?? 6379)\(parsed.path)"
        }
        return [
            ("FLUXBRAIN_CLUSTER", show(cluster)),
            (
                "FLUXBRAIN_CLUSTERS",
                clusters.isEmpty ? "(unset)" : clusters.map { "\($0.name)=\($0.context)" }.joined(separator: ",")
            ),
            ("FLUXBRAIN_NAMESPACES", namespaces.isEmpty ? "(all)" : namespaces.joined(separator: ",")),
            ("FLUXBRAIN_FLUX_NAMESPACE", fluxNamespace),
            ("FLUXBRAIN_KUBE_API_URL", kubeAPIURL?.absoluteString ?? "(unset)"),
            ("FLUXBRAIN_REQUEUE_INTERVAL", requeueInterval.formattedShort),
            ("FLUXBRAIN_STUCK_AFTER", stuckAfter.formattedShort),
            ("FLUXBRAIN_COLLECT_LOGS", "\(collectLogs)"),
            ("FLUXBRAIN_GIT_HOSTS", gitHosts == .builtIn ? "(built-in only)" : gitHosts.configured),
            ("FLUXBRAIN_RUN_MODE", runMode.rawValue),
            ("FLUXBRAIN_LOG_LEVEL", logLevel),
            ("FLUXBRAIN_LOG_FORMAT", logFormat.rawValue),
            ("FLUXBRAIN_HTTP_ADDR", "\(httpAddress.host):\(httpAddress.port)"),
            ("FLUXBRAIN_REDIS_URL", redisShown),
            ("FLUXBRAIN_REDIS_TIMEOUT", redisTimeout.formattedShort),
            ("FLUXBRAIN_REDIS_PREFIX", redisPrefix),
            ("FLUXBRAIN_REPLICA_ID", replicaID),
            ("FLUXBRAIN_LOCK_TTL", lockTTL.formattedShort),
            ("FLUXBRAIN_LEASE", lease.formattedShort),
            ("FLUXBRAIN_MAX_ATTEMPTS", "\(maxAttempts)"),
            ("FLUXBRAIN_WORKERS", "\(workers)"),
            (
                "FLUXBRAIN_ERRORBRAIN_URL",
                errorbrainURL?.absoluteString ?? "(unset: notifications carry the Flux context only)"
            ),
            ("FLUXBRAIN_ERRORBRAIN_TIMEOUT", errorbrainTimeout.formattedShort),
            ("FLUXBRAIN_ENVIRONMENT", show(environmentName)),
            ("FLUXBRAIN_BACKOFF_BASE", backoffBase.formattedShort),
            ("FLUXBRAIN_BACKOFF_MAX", backoffMax.formattedShort),
            ("FLUXBRAIN_ANALYSIS_MAX_ATTEMPTS", "\(analysisMaxAttempts)"),
            ("FLUXBRAIN_REPEAT_INTERVAL", repeatInterval.formattedShort),
            ("FLUXBRAIN_SEND_RESOLVED", "\(sendResolved)"),
            ("FLUXBRAIN_SLACK_WEBHOOK", maskURL(slackWebhook)),
            ("FLUXBRAIN_SLACK_CHANNEL", show(slackChannel)),
            ("FLUXBRAIN_SLACK_BOT_TOKEN", mask(slackBotToken)),
            ("FLUXBRAIN_SLACK_API_URL", slackAPIURL.absoluteString),
            ("FLUXBRAIN_WEBHOOK_URL", maskURL(webhookURL)),
            ("FLUXBRAIN_WEBHOOK_SECRET", mask(webhookSecret)),
            (
                "FLUXBRAIN_WEBHOOK_HEADERS",
                webhookHeaders.isEmpty ? "(unset)" : webhookHeaders.map { "\($0.0): ******" }.joined(separator: "; ")
            ),
            ("FLUXBRAIN_GITHUB_OWNER", show(githubOwner)),
            ("FLUXBRAIN_GITHUB_REPO", show(githubRepo)),
            ("FLUXBRAIN_GITHUB_TOKEN", mask(githubToken)),
            ("FLUXBRAIN_GITHUB_API_URL", githubAPIURL.absoluteString),
            ("FLUXBRAIN_GITHUB_REOPEN_WINDOW", githubReopenWindow.formattedShort),
            ("FLUXBRAIN_ROUTES_FILE", show(routing.file)),
            ("HTTPS_PROXY", proxies.https?.description ?? "(unset)"),
            ("HTTP_PROXY", proxies.http?.description ?? "(unset)"),
            ("NO_PROXY", proxies.noProxy.isEmpty ? "(unset)" : proxies.noProxy.joined(separator: ",")),
        ]
    }
}
