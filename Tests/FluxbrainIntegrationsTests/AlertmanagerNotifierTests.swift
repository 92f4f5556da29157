import FluxbrainCore
import FluxbrainIntegrations
import FluxbrainTestSupport
import Foundation
import Logging
import Metrics
import MetricsTestKit
import Testing

/// The Alertmanager channel's alert (labels, annotations, times) and its notifier against a loopback fake that
/// answers as Alertmanager 0.25 does; the real Alertmanager is in ``AlertmanagerRealServerTests``.
@Suite struct AlertmanagerNotifierTests {
    static let minute = Duration.seconds(60)

    @Test func labelsAreTheIncidentsIdentityWithoutRevisionOrFingerprint() throws {
        let notification = try NotifyFixtures.podinfoNotification()
        let alert = AlertmanagerAlert(notification, resendInterval: Self.minute)
        #expect(
            alert.labels == [
                "alertname": "FluxReconciliationFailed", "cluster": "prod-eu-1", "namespace": "podinfo",
                "kind": "HelmRelease", "name": "podinfo", "reason": notification.incident.reason,
                "state": "stalled", "severity": "critical",
            ]
        )
        #expect(alert.annotations["fingerprint"] == notification.incident.fingerprint.hex)
        #expect(alert.annotations["revision"] == notification.incident.revision)
        #expect(!alert.labels.values.contains(notification.incident.fingerprint.hex))
    }

    @Test func aNewRevisionOfTheSameFailureIsTheSameAlert() throws {
        let first = try NotifyFixtures.podinfoNotification()
        var incident = first.incident
        incident = Incident(
            object: incident.object,
            state: incident.state,
            reason: incident.reason,
            message: incident.message,
            revision: "6.9.4",
            detectedAt: incident.detectedAt
        )
        let second = IncidentNotification(
            kind: .firing,
            incident: incident,
            analysis: first.analysis,
            sequence: 1,
            notifiedAt: first.notifiedAt
        )
        #expect(incident.fingerprint != first.incident.fingerprint)
        #expect(
            AlertmanagerAlert(second, resendInterval: Self.minute).labels
                == AlertmanagerAlert(first, resendInterval: Self.minute).labels
        )
    }

    @Test(arguments: [
        // (analysis, channel labels, expected severity, expected team)
        (AnalysisOutcome.notConfigured, [String: String](), "warning", String?.none),
        (.unavailable(reason: "timeout", attempts: 3), [:], "warning", nil),
        (.notConfigured, ["team": "platform"], "warning", "platform"),
        (.notConfigured, ["severity": "page", "team": "apps"], "page", "apps"),
        // A channel cannot change the identity labels Fluxbrain sets.
        (.notConfigured, ["alertname": "Other", "cluster": "x"], "warning", nil),
    ])
    func severityAndStaticLabels(
        analysis: AnalysisOutcome,
        extra: [String: String],
        severity: String,
        team: String?
    ) throws {
        var notification = try NotifyFixtures.podinfoNotification()
        notification.analysis = analysis
        let alert = AlertmanagerAlert(notification, resendInterval: Self.minute, labels: extra)
        #expect(alert.labels["severity"] == severity)
        #expect(alert.labels["team"] == team)
        #expect(alert.labels["alertname"] == "FluxReconciliationFailed")
        #expect(alert.labels["cluster"] == "prod-eu-1")
    }

    @Test func emptyValuesAreLeftOut() throws {
        var notification = try NotifyFixtures.podinfoNotification()
        notification.incident.object.cluster = ""
        notification.incident.cause = nil
        notification.incident.revision = nil
        let alert = AlertmanagerAlert(notification, resendInterval: Self.minute)
        #expect(alert.labels["cluster"] == nil)
        #expect(alert.annotations["cause"] == nil)
        #expect(alert.annotations["revision"] == nil)
        #expect(!alert.labels.values.contains(""))
        #expect(!alert.annotations.values.contains(""))
    }

    /// (kind, resend interval, since offset from notifiedAt, expected startsAt offset, expected endsAt offset)
    @Test(arguments: [
        (NotificationKind.firing, 60, -600, -600, 240),
        (.reminder, 60, -600, -600, 240),
        (.test, 30, -600, -600, 120),
        (.resolved, 60, -600, -600, 0),
        // A `since` ahead of Fluxbrain's clock (skew between the API server and Redis) never starts after the end.
        (.resolved, 60, 5, 0, 0),
        (.firing, 60, 5, 5, 240),
    ])
    func timesFollowPrometheus(
        kind: NotificationKind,
        resendSeconds: Int,
        sinceOffset: Double,
        startOffset: Double,
        endOffset: Double
    ) throws {
        var notification = try NotifyFixtures.podinfoNotification(kind: kind)
        let now = notification.notifiedAt
        notification.incident.since = now.addingTimeInterval(sinceOffset)
        let alert = AlertmanagerAlert(notification, resendInterval: .seconds(resendSeconds))
        #expect(alert.startsAt == now.addingTimeInterval(startOffset))
        #expect(alert.endsAt == now.addingTimeInterval(endOffset))
    }

    @Test func annotationsCarryTheStoryAndLongTextIsCut() throws {
        var notification = try NotifyFixtures.podinfoNotification()
        notification.incident.message = String(repeating: "x", count: 10_000)
        let alert = AlertmanagerAlert(notification, resendInterval: Self.minute)
        #expect(
            alert.annotations["summary"]
                == "HelmRelease podinfo/podinfo in cluster prod-eu-1 fails: \(notification.incident.reason)"
        )
        #expect(alert.annotations["description"]?.count == AlertmanagerAlert.maxAnnotationLength)
        #expect(alert.annotations["description"]?.hasSuffix("…") == true)
        #expect(alert.annotations["analysis"]?.hasPrefix("podinfo 6.9.3 pods never become ready") == true)
        #expect(alert.annotations["retry_safety"]?.hasPrefix("Flux has stopped retrying") == true)
        let resolved = AlertmanagerAlert(
            try NotifyFixtures.podinfoNotification(kind: .resolved),
            resendInterval: Self.minute
        )
        #expect(resolved.annotations["summary"]?.contains("has recovered") == true)
    }

    @Test func compareLinkAndGeneratorURLComeFromWhatChanged() throws {
        let notification = try NotifyFixtures.snapshotNotification("infra")
        let changes = try #require(notification.incident.changes)
        let alert = AlertmanagerAlert(notification, resendInterval: Self.minute)
        #expect(alert.annotations["compare_url"] == changes.compareURL ?? changes.commitURL)
        #expect(alert.annotations["compare_url"] != nil)
        #expect(alert.generatorURL == changes.pathURL ?? changes.commitURL ?? changes.repositoryURL)
        #expect(alert.generatorURL != nil)
    }

    /// docs/examples/alertmanager-alerts-kustomization.json: the body posted for the Kustomization whose build fails
    /// at a new commit (`FLUXBRAIN_WRITE_EXAMPLES=1` rewrites it).
    @Test func exampleInDocsMatchesTheCode() throws {
        let notifier = Self.notifier([URL(string: "http://alertmanager:9093")!])
        let body = try notifier.body(for: try NotifyFixtures.snapshotNotification("infra"))
        let json = try JSONDecoder().decode(JSONValue.self, from: body)
        try ExampleFiles.check([("alertmanager-alerts-kustomization.json", try ExampleFiles.json(json, name: ""))])
    }

    @Test(arguments: [
        ("http://am:9093", "http://am:9093/api/v2/alerts"),
        ("http://am:9093/", "http://am:9093/api/v2/alerts"),
        ("https://gw.example/alertmanager", "https://gw.example/alertmanager/api/v2/alerts"),
        ("https://am.example/api/v2/alerts/", "https://am.example/api/v2/alerts/"),
        ("http://am:9093/api/v2/alerts", "http://am:9093/api/v2/alerts"),
    ])
    func alertsURL(base: String, expected: String) {
        #expect(AlertmanagerSettings.alertsURL(URL(string: base)!).absoluteString == expected)
    }

    @Test func postsOneAlertAsJSONWithBasicAuth() async throws {
        try await FakeAlertmanager.withRunning { fake, url in
            let notifier = Self.notifier(
                [url],
                auth: .basic(username: "fluxbrain", password: "hunter2")
            )
            let notification = try NotifyFixtures.podinfoNotification()
            let report = try await notifier.send(notification)
            #expect(report.httpStatus == 200)
            let request = try #require(fake.requests.first)
            #expect(request.method == "POST")
            #expect(request.path == "/api/v2/alerts")
            #expect(request.headers["content-type"] == "application/json")
            #expect(request.headers["authorization"] == "Basic " + Data("fluxbrain:hunter2".utf8).base64EncodedString())
            let alerts = try #require(request.json?.arrayValue)
            #expect(alerts.count == 1)
            #expect(alerts[0]["labels"]?["alertname"]?.stringValue == "FluxReconciliationFailed")
            #expect(alerts[0]["endsAt"]?.stringValue == RFC3339.string(from: notification.notifiedAt + 240))
            #expect(request.body == (try notifier.body(for: notification)))
        }
    }

    @Test func bearerToken() async throws {
        try await FakeAlertmanager.withRunning { fake, url in
            _ = try await Self.notifier([url], auth: .bearer(token: "t0ken")).send(
                try NotifyFixtures.podinfoNotification()
            )
            #expect(fake.requests.first?.headers["authorization"] == "Bearer t0ken")
        }
    }

    /// Alertmanager's error bodies, as 0.25 writes them, become the error's message; none is retried.
    @Test(arguments: [
        (
            400, #""start time must be before end time; at least one label pair required""#,
            "start time must be before end time; at least one label pair required"
        ),
        (
            400, #"{"code":400,"message":"parsing alerts body from \"\" failed"}"#,
            #"parsing alerts body from "" failed (code 400)"#
        ),
        (422, #"{"code":602,"message":"0.labels in body is required"}"#, "0.labels in body is required (code 602)"),
        (415, "", "HTTP 415"),
    ])
    func refusalsAreReportedWithAlertmanagersMessage(status: Int, body: String, message: String) async throws {
        try await FakeAlertmanager.withRunning { fake, url in
            fake.enqueue(status: status, body: body)
            let error = try await #require(throws: NotificationError.self) {
                try await Self.notifier([url]).send(try NotifyFixtures.podinfoNotification())
            }
            #expect(error.code == .rejected)
            #expect(error.httpStatus == status)
            #expect(error.message.hasSuffix("refused the alert: \(message)"))
            #expect(fake.requests.count == 1, "a refusal is not retried")
        }
    }

    @Test func aServerErrorIsRetried() async throws {
        try await FakeAlertmanager.withRunning { fake, url in
            fake.enqueue(status: 503, body: "")
            let report = try await Self.notifier([url]).send(try NotifyFixtures.podinfoNotification())
            #expect(report.httpStatus == 200)
            #expect(report.attempts == 2)
            #expect(fake.requests.count == 2)
        }
    }

    @Test func theFakeRefusesWhatAlertmanagerRefuses() async throws {
        // The fake is only a fair judge if it answers like the real one; the notifier never sends these.
        try await FakeAlertmanager.withRunning { fake, url in
            let client = NotifyFixtures.http()
            for (body, status) in [
                (#"[{"labels":{"bad-name":"x"}}]"#, 400), (#"{"labels":{}}"#, 400), (#"[{"annotations":{}}]"#, 422),
            ] {
                let exchange = try await client.execute(
                    method: .POST,
                    url: url.absoluteString + "/api/v2/alerts",
                    headers: ["Content-Type": "application/json"],
                    body: .init(string: body),
                    what: "probe"
                )
                #expect(exchange.status == status, "\(body)")
            }
            #expect(fake.requests.count == 3)
        }
    }

    /// An HA pair: each gets the alert; delivered when one accepted, the other's failure counted and logged.
    @Test func everyAlertmanagerGetsTheAlertAndOneAcceptingIsEnough() async throws {
        try await FakeAlertmanager.withRunning { first, firstURL in
            try await FakeAlertmanager.withRunning { second, secondURL in
                for _ in 1...3 { second.enqueue(status: 500, body: #""storage failed""#) }
                let metrics = TestMetrics()
                let notifier = Self.notifier([firstURL, secondURL], metrics: metrics)
                let report = try await notifier.send(try NotifyFixtures.podinfoNotification())
                #expect(first.requests.count == 1)
                #expect(second.requests.count == 3, "5xx is retried up to the policy's attempts")
                #expect(first.requests.first?.body == second.requests.first?.body)
                let firstInstance = "127.0.0.1:\(firstURL.port!)"
                let secondInstance = "127.0.0.1:\(secondURL.port!)"
                #expect(report.detail == "accepted by \(firstInstance); not by \(secondInstance) (serverError)")
                #expect(
                    try metrics.expectCounter(
                        "fluxbrain_alertmanager_requests_total",
                        [("channel", "am"), ("alertmanager", firstInstance), ("result", "accepted")]
                    ).totalValue == 1
                )
                #expect(
                    try metrics.expectCounter(
                        "fluxbrain_alertmanager_requests_total",
                        [("channel", "am"), ("alertmanager", secondInstance), ("result", "failed")]
                    ).totalValue == 1
                )

                // Both down: the send fails, naming each.
                for _ in 1...3 { first.enqueue(status: 502) }
                for _ in 1...3 { second.enqueue(status: 400, body: #""invalid label set""#) }
                let error = try await #require(throws: NotificationError.self) {
                    try await notifier.send(try NotifyFixtures.podinfoNotification())
                }
                #expect(error.code == .rejected, "a refusal outranks a server error: retrying will not help it")
                #expect(error.message.contains(firstInstance) && error.message.contains(secondInstance))
            }
        }
    }

    @Test func credentialsNeverReachLogsOrErrors() async throws {
        try await FakeAlertmanager.withRunning { refusing, refusingURL in
            try await FakeAlertmanager.withRunning { _, url in
                let logs = CapturedLogs()
                let logger = Logger(label: "am") { _ in CapturingLogHandler(logs: logs) }
                let settings = AlertmanagerSettings(
                    urls: [refusingURL, url],
                    auth: .basic(username: "u", password: "pa55word")
                )
                var http = NotifyFixtures.http()
                http.logger = logger
                let notifier = AlertmanagerNotifier(
                    settings: settings,
                    targets: [.init(url: refusingURL, http: http), .init(url: url, http: http)],
                    channel: ChannelID("am"),
                    metricsFactory: TestMetrics(),
                    logger: logger
                )
                refusing.enqueue(status: 401, body: #""unauthorized""#)
                _ = try await notifier.send(try NotifyFixtures.podinfoNotification())
                #expect(logs.entries.contains { $0.level == .warning && $0.message.contains("did not take the alert") })
                #expect(logs.allText.contains("check the username/password or token of channel am"))
                #expect(!logs.allText.contains("pa55word"))
                #expect(!logs.allText.contains(Data("u:pa55word".utf8).base64EncodedString()))

                refusing.enqueue(status: 401, body: #""unauthorized""#)
                let alone = AlertmanagerNotifier(
                    settings: settings,
                    targets: [.init(url: refusingURL, http: http)],
                    channel: ChannelID("am"),
                    metricsFactory: TestMetrics(),
                    logger: logger
                )
                let error = try await #require(throws: NotificationError.self) {
                    try await alone.send(try NotifyFixtures.podinfoNotification())
                }
                #expect(!"\(error)".contains("pa55word"))
                #expect(!settings.summary.contains("pa55word"))
                #expect(!AlertmanagerSettings(urls: [url], auth: .bearer(token: "t0k")).summary.contains("t0k"))
            }
        }
    }

    @Test(arguments: [
        // (resend intervals of the channels, resync, expected reminder interval)
        ([Duration](), Duration.seconds(300), Duration.seconds(300)),
        ([.seconds(60)], .seconds(300), .seconds(60)),
        ([.seconds(120), .seconds(30)], .seconds(300), .seconds(30)),
        ([.seconds(600)], .seconds(300), .seconds(300)),
    ])
    func theSchedulerOffersAsOftenAsTheMostEagerChannel(resends: [Duration], resync: Duration, expected: Duration) {
        var channels = [ChannelDefinition(id: .console, settings: .console)]
        for (index, resend) in resends.enumerated() {
            channels.append(
                ChannelDefinition(
                    id: ChannelID("am\(index)"),
                    settings: .alertmanager(
                        AlertmanagerSettings(urls: [URL(string: "http://am")!], resendInterval: resend)
                    )
                )
            )
        }
        #expect(ChannelDefinition.reminderInterval(channels, resync: resync) == expected)
    }

    @Test func anAlertmanagerChannelRepeatsOnItsOwnInterval() {
        let base = NotificationSettings(repeatInterval: .seconds(4 * 3600))
        let alertmanager = ChannelDefinition(
            id: ChannelID("am"),
            settings: .alertmanager(
                AlertmanagerSettings(urls: [URL(string: "http://am")!], resendInterval: .seconds(60))
            )
        )
        #expect(alertmanager.notificationSettings(base).repeatInterval == .seconds(45))
        #expect(alertmanager.notificationSettings(base).backoffBase == base.backoffBase)
        #expect(ChannelDefinition(id: .console, settings: .console).notificationSettings(base) == base)
        let channels = [ChannelDefinition(id: .console, settings: .console), alertmanager]
        #expect(
            ChannelDefinition.channelSettings(channels, base: base) == [
                ChannelID("am"): alertmanager.notificationSettings(base)
            ]
        )
    }

    static func notifier(
        _ urls: [URL],
        auth: AlertmanagerSettings.Auth? = nil,
        metrics: TestMetrics = TestMetrics()
    ) -> AlertmanagerNotifier {
        let sleeps = NotifyFixtures.Sleeps()
        return AlertmanagerNotifier(
            settings: AlertmanagerSettings(urls: urls, auth: auth),
            targets: urls.map { .init(url: $0, http: NotifyFixtures.http(sleeps: sleeps)) },
            channel: ChannelID("am"),
            metricsFactory: metrics,
            logger: Logger(label: "test")
        )
    }
}
