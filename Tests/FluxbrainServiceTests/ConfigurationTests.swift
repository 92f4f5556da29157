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
