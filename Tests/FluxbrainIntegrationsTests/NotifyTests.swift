import FluxbrainCore
import FluxbrainIntegrations
import FluxbrainTestSupport
import FluxbrainTestbed
import Foundation
import Logging
import Testing

@Suite struct NotifyTests {
    @Test func inMemoryStorePassesTheStoreConformanceSuite() async throws {
        let clock = ManualClock()
        let store = InMemoryNotificationStore(now: clock.dateNow)
        try await NotificationStoreConformance.run(store: store, unit: .seconds(1)) { clock.advance(by: $0) }
    }

    @Test(arguments: NotificationStoreConformance.checks)
    func conformanceCheck(_ check: String) async throws {
        let clock = ManualClock()
        let store = InMemoryNotificationStore(now: clock.dateNow)
        try await NotificationStoreConformance.run(check, store: store, unit: .seconds(60)) { clock.advance(by: $0) }
    }

    @Test func notifyTestReportsEachChannel() async throws {
        try await FakeSlack.withRunning { slack, slackURL in
            try await FakeGitHub.withRunning { github, api in
                try await WebhookSink.withRunning(logger: Logger(label: "sink")) { sink, webhookURL in
                    sink.failNext(status: 500, count: 3)
                    let http = NotifyFixtures.http()
                    let notifiers: [any Notifier] = [
                        SlackNotifier(webhookURL: slackURL, http: http),
                        WebhookNotifier(url: webhookURL, secret: "s", http: http),
                        GitHubIssuesNotifier(
                            owner: "acme",
                            repo: "platform",
                            token: "ghp_test",
                            apiURL: api,
                            http: http
                        ),
                    ]
                    let results = await NotifyTest.run(
                        notifiers: notifiers,
                        cluster: "prod-eu-1",
                        logger: Logger(label: "t")
                    )
                    #expect(results.map(\.channel) == [.slack, .webhook, .github])
                    #expect(results[0].ok && results[0].httpStatus == 200)
                    #expect(!results[1].ok && results[1].httpStatus == 500)
                    #expect(results[1].error?.contains("refused") == true)
                    #expect(results[2].ok)
                    #expect(results[2].detail?.hasPrefix("test issue #1 created and closed") == true)
                    #expect(results[1].line.contains("FAILED HTTP 500"))
                    let header = slack.requests.first?.json?["attachments"]?.arrayValue?.first?["blocks"]?.arrayValue?
                        .first?["text"]?["text"]?.stringValue
                    #expect(header?.contains("[TEST]") == true)
                    #expect(github.issues.first?.title.hasPrefix("[TEST] Fluxbrain notify-test") == true)
                    #expect(github.issues.first?.labels.contains("test") == true)
                    #expect(github.issues.first?.state == "closed")
                    #expect(sink.records.first?.body["kind"]?.stringValue == "test")
                }
            }
        }
    }

    @Test func theFactoryBuildsOneNotifierPerChannelUnderItsName() {
        let all = NotifierFactory.make(
            [
                ChannelDefinition(
                    id: ChannelID("oncall"),
                    settings: .slack(webhookURL: URL(string: "http://127.0.0.1:1/s")!, channel: nil)
                ),
                ChannelDefinition(
                    id: ChannelID("team-a"),
                    settings: .webhook(url: URL(string: "http://127.0.0.1:1/w")!, secret: nil, headers: [])
                ),
                ChannelDefinition(
                    id: ChannelID("issues"),
                    settings: .github(
                        owner: "o",
                        repo: "r",
                        token: "t",
                        apiURL: URL(string: "http://127.0.0.1:1")!,
                        reopenWindow: .seconds(60)
                    )
                ),
                ChannelDefinition(id: ChannelID("stdout"), settings: .console),
            ],
            clients: { _ in .shared },
            logger: Logger(label: "t")
        )
        #expect(all.map(\.channel.rawValue) == ["oncall", "team-a", "issues", "stdout"])
        #expect(all[0] is SlackNotifier && all[1] is WebhookNotifier && all[2] is GitHubIssuesNotifier)
        #expect(all[3] is ConsoleNotifier)
    }

    @Test func everyChannelTellsEachIncidentOnceRemindsAndResolves() async throws {
        let clock = ManualClock(start: NotifyFixtures.now)
        try await FakeSlack.withRunning { slack, slackURL in
            try await FakeGitHub.withRunning(now: clock.dateNow) { github, api in
                try await WebhookSink.withRunning(logger: Logger(label: "sink")) { sink, webhookURL in
                    let http = NotifyFixtures.http(now: clock.dateNow)
                    let notifiers: [any Notifier] = [
                        SlackNotifier(webhookURL: slackURL, http: http),
                        WebhookNotifier(url: webhookURL, secret: "s", http: http),
                        GitHubIssuesNotifier(
                            owner: "acme",
                            repo: "platform",
                            token: "ghp_test",
                            apiURL: api,
                            http: http
                        ),
                    ]
                    let dispatcher = NotificationDispatcher(
                        notifiers: notifiers,
                        store: InMemoryNotificationStore(now: clock.dateNow),
                        settings: NotificationSettings(),
                        logger: Logger(label: "d")
                    )
                    let incident = try NotifyFixtures.podinfoIncident()
                    let analysis = NotifyFixtures.podinfoAnalysis(for: incident)
                    func tick(_ status: NotificationStatus, after seconds: Int) async -> Int {
                        clock.advance(by: .seconds(seconds))
                        let outcomes = await dispatcher.dispatch(incident: incident, status: status) {
                            .analyzed(analysis)
                        }
                        return outcomes.filter(\.delivered).count
                    }
                    #expect(await tick(.firing, after: 0) == 3)
                    for _ in 0..<5 { #expect(await tick(.firing, after: 600) == 0) }  // the scheduler re-observes
                    #expect(await tick(.firing, after: 4 * 3600) == 3)  // reminder
                    #expect(await tick(.resolved, after: 60) == 3)
                    #expect(await tick(.resolved, after: 60) == 0)

                    let kinds = slack.requests.compactMap {
                        $0.json?["attachments"]?.arrayValue?.first?["blocks"]?.arrayValue?.first?["text"]?["text"]?
                            .stringValue?.first
                    }
                    #expect(kinds == ["⛔", "🔁", "✅"])
                    #expect(
                        sink.records.compactMap { $0.body["kind"]?.stringValue } == ["firing", "reminder", "resolved"]
                    )
                    #expect(Set(sink.records.compactMap(\.idempotencyKey)).count == 3)
                    #expect(github.issues.count == 1)
                    #expect(github.issues.first?.state == "closed")
                    #expect(github.comments(on: 1).count == 2)
                }
            }
        }
    }

    /// docs/examples: the Slack message, GitHub issue body and webhook payload of three notifications from
    /// examples/snapshot — the stalled HelmRelease with an analysis, the remediated (rolled back) HelmRelease, and
    /// the Kustomization whose build fails at a new commit (compare link, evidence repeating the message).
    /// `FLUXBRAIN_WRITE_EXAMPLES=1` rewrites them; otherwise a stale file fails.
    @Test func examplesInDocsMatchTheCode() throws {
        let notifications = [
            ("", try NotifyFixtures.podinfoNotification()),
            ("-helmrelease-remediated", try NotifyFixtures.snapshotNotification("ingress-nginx")),
            ("-kustomization", try NotifyFixtures.snapshotNotification("infra")),
        ]
        var files: [(String, String)] = []
        for (suffix, notification) in notifications {
            let slack = try StableJSON.string(SlackMessageBuilder().message(for: notification), pretty: true) + "\n"
            let webhook = try StableJSON.string(WebhookPayload(notification), pretty: true) + "\n"
            files.append(("slack-payload\(suffix).json", slack))
            files.append(("github-issue-body\(suffix).md", GitHubIssueRenderer().body(notification)))
            files.append(("webhook-payload\(suffix).json", webhook))
            files.append(("console\(suffix).txt", NotificationTextRenderer().render(notification) + "\n"))
        }
        try ExampleFiles.check(files)
    }
}
