import FluxbrainCore
import FluxbrainIntegrations
import Foundation
import Testing

@testable import FluxbrainService

/// `FLUXBRAIN_ROUTES_FILE`: the issue's shape loads; every error names the file, the line and the field.
@Suite struct RoutesFileTests {
    static let defaults = RoutesFile.Defaults(
        githubAPIURL: URL(string: "https://api.github.com")!,
        githubReopenWindow: .seconds(3600)
    )
    static let environment = [
        "SLACK_ONCALL": "https://hooks.slack.com/services/T/B/x", "TEAM_A_HMAC": "hmac", "GITHUB_TOKEN": "ghp_x",
        "SLACK_BOT": "xoxb-routes-secret",
    ]

    static let valid = """
        channels:
          - name: oncall
            type: slack
            url: {env: SLACK_ONCALL}
          - name: team-a
            type: webhook
            url: {file: URLFILE}
            secret: {env: TEAM_A_HMAC}
          - name: issues
            type: github
            owner: acme
            repo: platform
            token: {env: GITHUB_TOKEN}
        routes:
          - to: [oncall]
            match:
              clusters: ["prod-*"]
              kinds: [HelmRelease]
              namespaces: ["*"]
              names: ["*"]
              labels: {team: platform}
              states: [stalled, retrying, stuck]
            exclude:
              names: ["*-canary"]
              messages: ["(?i)context deadline exceeded"]
            stop: true
          - to: [team-a, issues]
            match: {namespaces: [team-a]}
        """

    func parse(
        _ text: String,
        environment: [String: String] = environment
    ) throws(ConfigurationError)
        -> RoutingConfiguration
    {
        try RoutesFile.parse(text, path: "/etc/routes.yaml", environment: environment, defaults: Self.defaults)
    }

    func withURLFile<T>(_ body: (String) throws -> T) throws -> T {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("routes-url-\(UUID().uuidString)")
        try Data("https://hooks.example.com/team-a\n".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        return try body(file.path)
    }

    @Test func theIssuesShapeLoadsAndRoutes() throws {
        let routing = try withURLFile { path in try parse(Self.valid.replacingOccurrences(of: "URLFILE", with: path)) }
        #expect(routing.channels.map(\.id.rawValue) == ["oncall", "team-a", "issues"])
        guard case .webhook(let url, let secret, _) = routing.channels[1].settings else {
            Issue.record("team-a is not a webhook")
            return
        }
        #expect(url.absoluteString == "https://hooks.example.com/team-a")
        #expect(secret == "hmac")
        #expect(routing.router.routes.count == 2)
        #expect(routing.router.routes[0].stop)
        #expect(routing.router.routes[0].origin == "routes.yaml:15")
        let subject = RoutingSubject(
            cluster: "prod-eu",
            kind: "HelmRelease",
            namespace: "apps",
            name: "podinfo",
            labels: ["team": "platform"],
            state: .stalled,
            message: "boom"
        )
        let decision = routing.router.decide(subject, annotations: [:], silences: [], now: Date())
        #expect(decision.channels == [ChannelID("oncall")])
        var canary = subject
        canary.name = "podinfo-canary"
        #expect(routing.router.decide(canary, annotations: [:], silences: [], now: Date()).channels.isEmpty)
        // Secrets never reach check-config.
        let described = routing.describe().joined(separator: "\n")
        for secret in ["hooks.slack.com/services", "hmac", "ghp_x", "team-a\n"] {
            #expect(!described.contains(secret))
        }
    }

    struct BadCase: Sendable, CustomTestStringConvertible {
        var name: String
        var text: String
        var expected: String
        var testDescription: String { name }
    }

    static let channelsHead = """
        channels:
          - name: oncall
            type: slack
            url: {env: SLACK_ONCALL}
        """

    static let badCases: [BadCase] = [
        BadCase(
            name: "unknown top-level key",
            text: channelsHead + "\nroute: []\n",
            expected: ":5: route: unknown key"
        ),
        BadCase(
            name: "unknown channel in to",
            text: channelsHead + "\nroutes:\n  - to: [nobody]\n",
            expected: ":6: routes[0].to: unknown channel 'nobody'"
        ),
        BadCase(
            name: "duplicate channel",
            text: channelsHead + "\n  - name: oncall\n    type: console\nroutes:\n  - to: [oncall]\n",
            expected: ":5: channels[1].name: duplicate channel name 'oncall'"
        ),
        BadCase(
            name: "bad regex",
            text: channelsHead + "\nroutes:\n  - to: [oncall]\n    exclude: {messages: [\"(unclosed\"]}\n",
            expected: ":7: routes[0].exclude.messages: '(unclosed' is not a valid regular expression"
        ),
        BadCase(
            name: "missing env var",
            text: "channels:\n  - name: a\n    type: slack\n    url: {env: NOPE}\nroutes:\n  - to: [a]\n",
            expected: ":4: channels[0].url.env: environment variable NOPE is not set"
        ),
        BadCase(
            name: "missing file",
            text: "channels:\n  - name: a\n    type: slack\n    url: {file: /nonexistent/x}\nroutes:\n  - to: [a]\n",
            expected: ":4: channels[0].url.file: cannot read /nonexistent/x"
        ),
        BadCase(
            name: "literal secret",
            text: "channels:\n  - name: a\n    type: slack\n    url: https://hooks.slack.com/x\nroutes:\n  - to: [a]\n",
            expected: ":4: channels[0].url: is a secret"
        ),
        BadCase(
            name: "bad state",
            text: channelsHead + "\nroutes:\n  - to: [oncall]\n    match: {states: [broken]}\n",
            expected: ":7: routes[0].match.states: 'broken' is not one of retrying, stalled, stuck"
        ),
        BadCase(
            name: "unknown match key",
            text: channelsHead + "\nroutes:\n  - to: [oncall]\n    match: {severity: [error]}\n",
            expected: ":7: routes[0].match.severity: unknown key"
        ),
        BadCase(
            name: "setting of another type",
            text: "channels:\n  - name: a\n    type: console\n    token: {env: X}\nroutes:\n  - to: [a]\n",
            expected: ":4: channels[0].token: not a setting of a console channel"
        ),
        BadCase(
            name: "unknown type",
            text: "channels:\n  - name: a\n    type: pager\nroutes:\n  - to: [a]\n",
            expected: ":3: channels[0].type: 'pager' is not one of slack, webhook, github, console"
        ),
        BadCase(
            name: "slack with url and token",
            text:
                "channels:\n  - name: a\n    type: slack\n    url: {env: X}\n    token: {env: Y}\nroutes:\n  - to: [a]\n",
            expected: ":5: channels[0].token: give either url (incoming webhook) or token (bot), not both"
        ),
        BadCase(
            name: "slack with neither url nor token",
            text: "channels:\n  - name: a\n    type: slack\n    channel: C0A\nroutes:\n  - to: [a]\n",
            expected: ":2: channels[0].url: a slack channel needs url (incoming webhook) or token (bot)"
        ),
        BadCase(
            name: "slack token without channel",
            text: "channels:\n  - name: a\n    type: slack\n    token: {env: SLACK_BOT}\nroutes:\n  - to: [a]\n",
            expected: ":2: channels[0].channel: is required for a slack channel with a token"
        ),
        BadCase(
            name: "slack literal token",
            text:
                "channels:\n  - name: a\n    type: slack\n    token: xoxb-1\n    channel: C0A\nroutes:\n  - to: [a]\n",
            expected: ":4: channels[0].token: is a secret"
        ),
        BadCase(
            name: "slack webhook with apiURL",
            text:
                "channels:\n  - name: a\n    type: slack\n    url: {env: SLACK_ONCALL}\n    apiURL: https://x.example/api\nroutes:\n  - to: [a]\n",
            expected: ":5: channels[0].apiURL: is a setting of a bot-token slack channel (token:)"
        ),
        BadCase(
            name: "slack bad apiURL",
            text:
                "channels:\n  - name: a\n    type: slack\n    token: {env: SLACK_BOT}\n    channel: C0A\n    apiURL: slack.com\nroutes:\n  - to: [a]\n",
            expected: ":6: channels[0].apiURL: is not an http(s) URL"
        ),
        BadCase(
            name: "stop not a bool",
            text: channelsHead + "\nroutes:\n  - to: [oncall]\n    stop: maybe\n",
            expected: ":7: routes[0].stop: must be true or false"
        ),
    ]

    @Test(arguments: badCases)
    func anInvalidFileNamesFileLineAndField(_ bad: BadCase) {
        #expect {
            try parse(bad.text)
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            let ok =
                error.variable == "FLUXBRAIN_ROUTES_FILE" && error.message.hasPrefix("/etc/routes.yaml:")
                && error.message.contains(bad.expected)
            if !ok { Issue.record("got: \(error.message)") }
            return ok
        }
    }

    @Test func aSlackChannelWithATokenPostsThroughTheWebAPI() throws {
        let text = """
            channels:
              - name: incidents
                type: slack
                token: {env: SLACK_BOT}
                channel: C0ALERTS
              - name: staging
                type: slack
                token: {env: SLACK_BOT}
                channel: C0STAGING
                apiURL: https://slack-proxy.internal/api
              - name: hook
                type: slack
                url: {env: SLACK_ONCALL}
            routes:
              - to: [incidents, staging, hook]
            """
        let routing = try RoutesFile.parse(
            text,
            path: "/etc/routes.yaml",
            environment: Self.environment,
            defaults: .init(
                githubAPIURL: URL(string: "https://api.github.com")!,
                githubReopenWindow: .seconds(3600),
                slackAPIURL: URL(string: "https://slack.example/api")!
            )
        )
        guard case .slackBot(let token, let channel, let apiURL) = routing.channels[0].settings else {
            Issue.record("not a bot channel: \(routing.channels[0].settings)")
            return
        }
        #expect(token == "xoxb-routes-secret" && channel == "C0ALERTS")
        #expect(apiURL.absoluteString == "https://slack.example/api")  // FLUXBRAIN_SLACK_API_URL
        guard case .slackBot(_, _, let ownURL) = routing.channels[1].settings else {
            Issue.record("not a bot channel: \(routing.channels[1].settings)")
            return
        }
        #expect(ownURL.absoluteString == "https://slack-proxy.internal/api")
        guard case .slack = routing.channels[2].settings else {
            Issue.record("not a webhook channel: \(routing.channels[2].settings)")
            return
        }
        let described = routing.describe().joined(separator: "\n")
        #expect(
            described.contains(
                "channel incidents: slack token=****** channel=C0ALERTS apiURL=https://slack.example/api"
            )
        )
        #expect(!described.contains("xoxb-routes-secret"))
    }

    @Test func withoutAFileTheChannelVariablesKeepWorking() throws {
        let none = try FluxbrainConfiguration(environment: [:])
        #expect(none.routing.channels.map(\.id) == [.console])
        let all = try FluxbrainConfiguration(environment: [
            "FLUXBRAIN_SLACK_WEBHOOK": "https://hooks.slack.com/x", "FLUXBRAIN_WEBHOOK_URL": "https://h.example/w",
            "FLUXBRAIN_GITHUB_OWNER": "o", "FLUXBRAIN_GITHUB_REPO": "r", "FLUXBRAIN_GITHUB_TOKEN": "t",
        ])
        #expect(all.routing.file == nil)
        #expect(all.routing.channels.map(\.id) == [.slack, .webhook, .github])
        #expect(all.routing.router.routes.count == 1)
        #expect(all.routing.router.routes[0].to == [.slack, .webhook, .github])
        // --output adds the console, routed everything.
        let withConsole = all.routing(console: .text)
        #expect(withConsole.channels.map(\.id) == [.slack, .webhook, .github, .console])
        #expect(withConsole.router.routes.first?.to == [.console])
    }

    @Test func theConfigurationLoadsTheFileAndFailsNamingIt() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("routes-\(UUID().uuidString).yaml")
        try Data((Self.channelsHead + "\nroutes:\n  - to: [oncall]\n").utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        var environment = Self.environment
        environment["FLUXBRAIN_ROUTES_FILE"] = file.path
        let configuration = try FluxbrainConfiguration(environment: environment)
        #expect(configuration.routing.file == file.path)
        #expect(configuration.routing.channels.map(\.id.rawValue) == ["oncall"])
        environment["SLACK_ONCALL"] = nil
        #expect(throws: ConfigurationError.self) { try FluxbrainConfiguration(environment: environment) }
    }
}
