import FluxbrainCore
import FluxbrainIntegrations
import Foundation
import Testing

@testable import FluxbrainService

/// `type: alertmanager` channels of `FLUXBRAIN_ROUTES_FILE`: what loads, and every error naming file, line and field.
@Suite struct AlertmanagerRoutesFileTests {
    static let environment = ["AM_PASSWORD": "s3cret-pw", "AM_TOKEN": "t0ken"]

    func parse(_ channel: String) throws(ConfigurationError) -> RoutingConfiguration {
        try RoutesFile.parse(
            "channels:\n" + channel + "routes:\n  - to: [am]\n",
            path: "/etc/routes.yaml",
            environment: Self.environment,
            defaults: RoutesFileTests.defaults
        )
    }

    @Test func anHAPairWithBasicAuthIntervalAndLabels() throws {
        let routing = try parse(
            """
              - name: am
                type: alertmanager
                urls: [http://alertmanager-0.monitoring:9093, "http://alertmanager-1.monitoring:9093/"]
                username: fluxbrain
                password: {env: AM_PASSWORD}
                resendInterval: 30s
                labels: {team: platform, severity: page}

            """
        )
        guard case .alertmanager(let settings) = try #require(routing.channels.first).settings else {
            Issue.record("not an alertmanager channel")
            return
        }
        #expect(
            settings.urls.map(\.absoluteString) == [
                "http://alertmanager-0.monitoring:9093", "http://alertmanager-1.monitoring:9093/",
            ]
        )
        #expect(settings.auth == .basic(username: "fluxbrain", password: "s3cret-pw"))
        #expect(settings.resendInterval == .seconds(30))
        #expect(settings.labels == ["team": "platform", "severity": "page"])
        let described = routing.describe().joined(separator: "\n")
        #expect(
            described.contains(
                "channel am: alertmanager urls=http://alertmanager-0.monitoring:9093/api/v2/alerts,"
                    + "http://alertmanager-1.monitoring:9093/api/v2/alerts basicAuth=fluxbrain:****** "
                    + "resendInterval=30s labels=severity=page,team=platform"
            ),
            "\(described)"
        )
        #expect(!described.contains("s3cret-pw"))
    }

    /// docs/examples/routes-alertmanager.yaml, the routes-file example of docs/alertmanager.md.
    @Test func theDocsExampleLoads() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let example = try String(
            contentsOf: root.appendingPathComponent("docs/examples/routes-alertmanager.yaml"),
            encoding: .utf8
        )
        let password = FileManager.default.temporaryDirectory.appendingPathComponent("am-pw-\(UUID().uuidString)")
        try Data("pw\n".utf8).write(to: password)
        defer { try? FileManager.default.removeItem(at: password) }
        let routing = try RoutesFile.parse(
            example.replacingOccurrences(of: "/etc/fluxbrain/secrets/alertmanager-password", with: password.path),
            path: "routes-alertmanager.yaml",
            environment: [:],
            defaults: RoutesFileTests.defaults
        )
        guard case .alertmanager(let settings) = try #require(routing.channels.first).settings else {
            Issue.record("not an alertmanager channel")
            return
        }
        #expect(settings.urls.count == 2)
        #expect(settings.auth == .basic(username: "fluxbrain", password: "pw"))
        #expect(ChannelDefinition.reminderInterval(routing.channels, resync: .seconds(300)) == .seconds(60))
    }

    @Test func oneURLWithATokenAndTheDefaultInterval() throws {
        let routing = try parse(
            "  - name: am\n    type: alertmanager\n    url: https://am.example\n    token: {env: AM_TOKEN}\n"
        )
        guard case .alertmanager(let settings) = try #require(routing.channels.first).settings else {
            Issue.record("not an alertmanager channel")
            return
        }
        #expect(settings.urls == [URL(string: "https://am.example")!])
        #expect(settings.auth == .bearer(token: "t0ken"))
        #expect(settings.resendInterval == .seconds(60))
        #expect(routing.channels.first?.resendInterval == .seconds(60))
    }

    @Test(arguments: [
        ("    type: alertmanager\n", ":2: channels[0].url: is required for an alertmanager channel"),
        (
            "    type: alertmanager\n    url: http://a:9093\n    urls: [http://b:9093]\n",
            ":5: channels[0].urls: give url or urls, not both"
        ),
        ("    type: alertmanager\n    urls: []\n", ":4: channels[0].urls: must be a non-empty list of URLs"),
        ("    type: alertmanager\n    url: am:9093\n", ":4: channels[0].url: is not an http(s) URL"),
        (
            "    type: alertmanager\n    urls: [http://a:9093, ftp://b]\n",
            ":4: channels[0].urls[1]: is not an http(s) URL"
        ),
        ("    type: alertmanager\n    url: http://u:p@a:9093\n", ":4: channels[0].url: must not carry credentials"),
        (
            "    type: alertmanager\n    urls: [http://a:9093, http://a:9093/api/v2/alerts]\n",
            "channels[0].urls: lists the same Alertmanager twice"
        ),
        (
            "    type: alertmanager\n    url: http://a\n    username: x\n",
            ":5: channels[0].password: is required with username"
        ),
        (
            "    type: alertmanager\n    url: http://a\n    password: {env: AM_PASSWORD}\n",
            ":5: channels[0].username: is required with password"
        ),
        (
            "    type: alertmanager\n    url: http://a\n    password: hunter2\n    username: x\n",
            ":5: channels[0].password: is a secret"
        ),
        (
            "    type: alertmanager\n    url: http://a\n    token: {env: AM_TOKEN}\n    username: x\n    password: {env: AM_PASSWORD}\n",
            ":5: channels[0].token: give username/password or token, not both"
        ),
        (
            "    type: alertmanager\n    url: http://a\n    resendInterval: soon\n",
            ":5: channels[0].resendInterval: 'soon' is not a duration of at least 1s"
        ),
        (
            "    type: alertmanager\n    url: http://a\n    resendInterval: 500ms\n",
            ":5: channels[0].resendInterval: '500ms' is not a duration"
        ),
        (
            "    type: alertmanager\n    url: http://a\n    labels: {bad-name: x}\n",
            ":5: channels[0].labels: 'bad-name' is not a label name"
        ),
        (
            "    type: alertmanager\n    url: http://a\n    labels: {cluster: x}\n",
            ":5: channels[0].labels.cluster: is set by Fluxbrain"
        ),
        (
            "    type: alertmanager\n    url: http://a\n    labels: {team: \"\"}\n",
            ":5: channels[0].labels.team: must not be empty"
        ),
        (
            "    type: alertmanager\n    url: http://a\n    secret: {env: AM_TOKEN}\n",
            ":5: channels[0].secret: not a setting of a alertmanager channel"
        ),
        (
            "    type: webhook\n    url: {env: AM_TOKEN}\n    urls: [http://a]\n",
            ":5: channels[0].urls: not a setting of a webhook channel"
        ),
    ])
    func anInvalidChannelNamesFileLineAndField(channel: String, expected: String) {
        #expect {
            try parse("  - name: am\n" + channel)
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            let ok =
                error.variable == "FLUXBRAIN_ROUTES_FILE" && error.message.hasPrefix("/etc/routes.yaml:")
                && error.message.contains(expected)
            if !ok { Issue.record("got: \(error.message)") }
            return ok
        }
    }
}
