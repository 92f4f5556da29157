import FluxbrainService
import Testing

@Suite struct ConfigurationTests {
    @Test func defaultsNeedNoVariables() throws {
        let configuration = try FluxbrainConfiguration(environment: EnvironmentReader([:]), hostname: "pod-1")
        #expect(configuration.requeueInterval == .seconds(300))
        #expect(configuration.lockTTL == .seconds(15))
        #expect(configuration.backoffMax == .seconds(3600))
        #expect(configuration.replicaID == "pod-1")
        #expect(configuration.redisURL == nil)
        #expect(configuration.runMode == .continuous)
        #expect(configuration.httpAddress.port == 8080)
        #expect(configuration.logFormat == .json)
    }

    @Test(arguments: [
        ("FLUXBRAIN_REQUEUE_INTERVAL", "5 minutes"),
        ("FLUXBRAIN_LOCK_TTL", "fast"),
        ("FLUXBRAIN_WORKERS", "0"),
        ("FLUXBRAIN_WORKERS", "four"),
        ("FLUXBRAIN_RUN_MODE", "sometimes"),
        ("FLUXBRAIN_SEND_RESOLVED", "maybe"),
        ("FLUXBRAIN_ERRORBRAIN_URL", "errorbrain:8000"),
        ("FLUXBRAIN_HTTP_ADDR", "8080"),
        ("FLUXBRAIN_CLUSTERS", "prod"),
        ("FLUXBRAIN_REDIS_URL", "rediss://cache:6380"),
        ("FLUXBRAIN_GITHUB_OWNER", "acme"),
        ("FLUXBRAIN_ENVIRONMENT", "prod"),
    ])
    func badValueNamesTheVariable(variable: String, value: String) {
        let error = #expect(throws: ConfigurationError.self) {
            try FluxbrainConfiguration(environment: EnvironmentReader([variable: value]))
        }
        // FLUXBRAIN_GITHUB_OWNER alone names the missing companion variable.
        if variable == "FLUXBRAIN_GITHUB_OWNER" {
            #expect(error?.variable == "FLUXBRAIN_GITHUB_REPO")
        } else {
            #expect(error?.variable == variable)
        }
        #expect(error?.description.hasPrefix(error?.variable ?? "?") == true)
    }

    @Test func aSlackBotTokenMakesTheSlackChannelAWebAPIChannel() throws {
        let configuration = try FluxbrainConfiguration(
            environment: EnvironmentReader([
                "FLUXBRAIN_SLACK_BOT_TOKEN": "xoxb-1234-hidden", "FLUXBRAIN_SLACK_CHANNEL": "C0ALERTS",
                "FLUXBRAIN_SLACK_API_URL": "http://127.0.0.1:9/api",
            ])
        )
        #expect(configuration.routing.channels.map(\.id) == [.slack])
        guard case .slackBot(let token, let channel, let apiURL) = configuration.routing.channels[0].settings else {
            Issue.record("not a bot channel")
            return
        }
        #expect(
            token == "xoxb-1234-hidden" && channel == "C0ALERTS" && apiURL.absoluteString == "http://127.0.0.1:9/api"
        )
        let text = configuration.describe().map { "\($0.0)=\($0.1)" }.joined(separator: "\n")
        #expect(!text.contains("xoxb-1234-hidden"))
        #expect(text.contains("FLUXBRAIN_SLACK_BOT_TOKEN=****** (set)"))
        #expect(text.contains("FLUXBRAIN_SLACK_API_URL=http://127.0.0.1:9/api"))
        #expect(!configuration.routing.describe().joined().contains("xoxb-1234-hidden"))
        let defaulted = try FluxbrainConfiguration(environment: EnvironmentReader([:]))
        #expect(defaulted.slackAPIURL.absoluteString == "https://slack.com/api")
    }

    @Test(arguments: [
        (
            ["FLUXBRAIN_SLACK_BOT_TOKEN": "xoxb-SECRET"], "FLUXBRAIN_SLACK_CHANNEL",
            "is required with FLUXBRAIN_SLACK_BOT_TOKEN"
        ),
        (
            [
                "FLUXBRAIN_SLACK_BOT_TOKEN": "xoxb-SECRET", "FLUXBRAIN_SLACK_CHANNEL": "C0A",
                "FLUXBRAIN_SLACK_WEBHOOK": "https://hooks.slack.com/services/T/B/SECRET",
            ], "FLUXBRAIN_SLACK_BOT_TOKEN", "cannot be combined with FLUXBRAIN_SLACK_WEBHOOK"
        ),
        (["FLUXBRAIN_SLACK_API_URL": "slack.com/api"], "FLUXBRAIN_SLACK_API_URL", "is not an absolute http(s) URL"),
    ])
    func aBadSlackBotSetupNamesTheVariable(environment: [String: String], variable: String, message: String) {
        let error = #expect(throws: ConfigurationError.self) {
            try FluxbrainConfiguration(environment: EnvironmentReader(environment))
        }
        #expect(error?.variable == variable)
        #expect(error?.message.contains(message) == true)
        #expect(error?.description.contains("SECRET") == false)
    }

    @Test func secretsAreMaskedInTheDescription() throws {
        let configuration = try FluxbrainConfiguration(
            environment: EnvironmentReader([
                "FLUXBRAIN_SLACK_WEBHOOK": "https://hooks.slack.com/services/T000/B000/XXXXSECRET",
                "FLUXBRAIN_WEBHOOK_SECRET": "hmac-secret-value",
                "FLUXBRAIN_GITHUB_OWNER": "acme", "FLUXBRAIN_GITHUB_REPO": "ops",
                "FLUXBRAIN_GITHUB_TOKEN": "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
                "FLUXBRAIN_REDIS_URL": "redis://:p4ssw0rd@redis:6379/2",
                "FLUXBRAIN_WEBHOOK_HEADERS": "Authorization: Bearer header-secret",
            ])
        )
        let text = configuration.describe().map { "\($0.0)=\($0.1)" }.joined(separator: "\n")
        for secret in ["XXXXSECRET", "hmac-secret-value", "ghp_abcdefghij", "p4ssw0rd", "header-secret", "T000"] {
            #expect(!text.contains(secret), "\(secret) leaked")
        }
        #expect(text.contains("FLUXBRAIN_REDIS_URL=redis://******@redis:6379/2"))
    }

    @Test func parsesClustersAndHeaders() throws {
        let configuration = try FluxbrainConfiguration(
            environment: EnvironmentReader([
                "FLUXBRAIN_CLUSTERS": "prod-eu=ctx-eu, prod-us=ctx-us",
                "FLUXBRAIN_WEBHOOK_HEADERS": "X-Team: platform; X-Env: prod",
                "FLUXBRAIN_HTTP_ADDR": "127.0.0.1:9090",
            ])
        )
        #expect(configuration.clusters.map(\.name) == ["prod-eu", "prod-us"])
        #expect(configuration.clusters.map(\.context) == ["ctx-eu", "ctx-us"])
        #expect(configuration.webhookHeaders.map(\.0) == ["X-Team", "X-Env"])
        #expect(configuration.httpAddress.host == "127.0.0.1")
        #expect(configuration.httpAddress.port == 9090)
    }
}
