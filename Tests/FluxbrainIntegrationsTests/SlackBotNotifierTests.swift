import AsyncHTTPClient
import FluxbrainCore
import FluxbrainIntegrations
import FluxbrainTestSupport
import Foundation
import Logging
import Synchronization
import Testing

/// The bot-token Slack notifier against the fake Web API over loopback: one thread per incident, lost responses,
/// Slack's error answers.
@Suite struct SlackBotNotifierTests {
    static let settings = NotificationSettings(
        repeatInterval: .seconds(3600),
        sendLease: .seconds(120),
        backoffBase: .seconds(30),
        backoffMax: .seconds(3600)
    )

    /// A manual store clock.
    final class Clock: Sendable {
        private let time = Mutex(NotifyFixtures.now)
        var now: Date { time.withLock { $0 } }
        func advance(_ duration: Duration) { time.withLock { $0 = $0.addingTimeInterval(duration.timeInterval) } }
    }

    static func notifier(
        _ apiURL: URL,
        token: String = "xoxb-test-token",
        channel: String = "C0ALERTS",
        sleeps: NotifyFixtures.Sleeps = NotifyFixtures.Sleeps(),
        logger: Logger = Logger(label: "test")
    ) -> SlackBotNotifier {
        var http = NotifyFixtures.http(sleeps: sleeps)
        http.logger = logger
        return SlackBotNotifier(token: token, slackChannel: channel, apiURL: apiURL, http: http)
    }

    static func dispatcher(_ notifier: any Notifier, store: any NotificationStore) -> NotificationDispatcher {
        NotificationDispatcher(
            notifiers: [notifier],
            store: store,
            settings: settings,
            logger: Logger(label: "test")
        )
    }

    static func dispatch(
        _ dispatcher: NotificationDispatcher,
        _ incident: Incident,
        _ status: NotificationStatus
    ) async -> ChannelOutcome {
        await dispatcher.dispatch(incident: incident, status: status, analysis: { .notConfigured })[0]
    }

    @Test func firingTwoRemindersAndResolveMakeOneThreadAndOneUpdate() async throws {
        let incident = try NotifyFixtures.podinfoIncident()  // stalled
        let clock = Clock()
        try await FakeSlackWebAPI.withRunning(FakeSlackWebAPI(now: { clock.now })) { fake, apiURL in
            let store = InMemoryNotificationStore(now: { clock.now })
            let dispatcher = Self.dispatcher(Self.notifier(apiURL), store: store)

            #expect(await Self.dispatch(dispatcher, incident, .firing).delivered)
            for _ in 0..<2 {
                clock.advance(.seconds(3600))
                #expect(await Self.dispatch(dispatcher, incident, .firing).delivered)
            }
            clock.advance(.seconds(1800))
            #expect(await Self.dispatch(dispatcher, incident, .resolved).delivered)

            let top = try #require(fake.topLevel.only)
            #expect(top.channel == "C0ALERTS")
            let replies = fake.replies(to: top.ts)
            #expect(replies.count == 3)
            #expect(fake.requests("chat.postMessage").count == 4)
            #expect(fake.requests("chat.update").count == 1)
            // The first reminder of a stalled incident also goes to the channel; the second does not.
            #expect(replies.map(\.replyBroadcast) == [true, false, false])
            #expect(replies[0].header?.hasPrefix("🔁 STILL STALLED") == true)
            #expect(replies[2].header?.hasPrefix("✅ RESOLVED") == true)
            // The first message now shows the resolve: colour, header, time to resolve.
            #expect(top.edits == 1)
            #expect(top.color == "#2eb67d")
            #expect(top.header?.hasPrefix("✅ RESOLVED HelmRelease podinfo/podinfo") == true)
            let update = try #require(fake.requests("chat.update").first)
            #expect(update.json?["ts"]?.stringValue == top.ts)
            #expect(update.text.contains("Time to resolve:* 2h30m"))
            // Metadata names the incident and the notification, nothing else (every member can read it).
            let metadata = try #require(top.metadata)
            #expect(metadata["event_type"]?.stringValue == SlackBotNotifier.metadataEventType)
            #expect(
                metadata["event_payload"]?.objectValue?.keys.sorted() == ["fingerprint", "idempotency_key"]
            )
            #expect(
                metadata["event_payload"]?["idempotency_key"]?.stringValue == "\(incident.fingerprint.hex):firing:1"
            )
            #expect(replies.allSatisfy { $0.metadata == nil })
            // The state keeps the thread, for any replica.
            let state = try #require(await store.state(fingerprint: incident.fingerprint, channel: .slack))
            #expect(state.reference == "C0ALERTS:\(top.ts):1")
            // Every call carries the token as a bearer and a JSON body.
            for request in fake.requests where request.method == "POST" {
                #expect(request.headers["authorization"] == "Bearer xoxb-test-token")
                #expect(request.headers["content-type"] == "application/json; charset=utf-8")
            }
        }
    }

    @Test func aRecurrenceAfterResolveStartsANewThread() async throws {
        let incident = try NotifyFixtures.podinfoIncident()
        try await FakeSlackWebAPI.withRunning { fake, apiURL in
            let clock = Clock()
            let dispatcher = Self.dispatcher(
                Self.notifier(apiURL),
                store: InMemoryNotificationStore(now: { clock.now })
            )
            #expect(await Self.dispatch(dispatcher, incident, .firing).delivered)
            #expect(await Self.dispatch(dispatcher, incident, .resolved).delivered)
            clock.advance(.seconds(60))
            #expect(await Self.dispatch(dispatcher, incident, .firing).delivered)
            clock.advance(.seconds(3600))
            #expect(await Self.dispatch(dispatcher, incident, .firing).delivered)
            let top = fake.topLevel
            #expect(top.count == 2)
            #expect(fake.replies(to: top[0].ts).count == 1)  // the resolve
            #expect(fake.replies(to: top[1].ts).count == 1)  // the new reminder
        }
    }

    @Test func aLostPostMessageResponseIsFoundInTheHistoryOnRetry() async throws {
        let incident = try NotifyFixtures.podinfoIncident()
        let fake = FakeSlackWebAPI(now: { NotifyFixtures.now })
        try await FakeSlackWebAPI.withRunning(fake) { fake, apiURL in
            let clock = Clock()
            let dispatcher = Self.dispatcher(
                Self.notifier(apiURL),
                store: InMemoryNotificationStore(now: { clock.now })
            )
            fake.enqueue(.dropAfterStoring, for: "chat.postMessage")
            let lost = await Self.dispatch(dispatcher, incident, .firing)
            guard case .failed(_, let error, _) = lost.result else {
                Issue.record("expected a failed send, got \(lost.result)")
                return
            }
            #expect(error.code == .transport)
            #expect(fake.topLevel.count == 1)  // Slack stored it.
            // Other traffic in the channel after it: the lookup pages through the history (200 a page).
            for index in 0..<450 { fake.seed(channel: "C0ALERTS", text: "chatter \(index)") }

            clock.advance(.seconds(30))
            let retry = await Self.dispatch(dispatcher, incident, .firing)
            guard case .sent(_, let report) = retry.result else {
                Issue.record("expected the retry to succeed, got \(retry.result)")
                return
            }
            #expect(report.detail?.contains("posted by an earlier attempt") == true)
            let ours = fake.topLevel.filter { $0.metadata != nil }
            #expect(ours.count == 1)
            let history = fake.requests("conversations.history")
            #expect(history.count == 3)
            #expect(history.first?.query["include_all_metadata"] == "true")
            #expect(history.first?.query["channel"] == "C0ALERTS")

            // The thread continues on the adopted message.
            clock.advance(.seconds(3600))
            #expect(await Self.dispatch(dispatcher, incident, .firing).delivered)
            #expect(fake.replies(to: ours[0].ts).count == 1)
        }
    }

    @Test func withoutTheHistoryScopeARetryPostsAndSaysWhichScopeIsMissing() async throws {
        let incident = try NotifyFixtures.podinfoIncident()
        let logs = CapturedLogs()
        let fake = FakeSlackWebAPI(scopes: ["chat:write"])
        try await FakeSlackWebAPI.withRunning(fake) { fake, apiURL in
            let clock = Clock()
            let dispatcher = Self.dispatcher(
                Self.notifier(apiURL, logger: logs.logger()),
                store: InMemoryNotificationStore(now: { clock.now })
            )
            fake.enqueue(.dropAfterStoring, for: "chat.postMessage")
            #expect(!(await Self.dispatch(dispatcher, incident, .firing).delivered))
            clock.advance(.seconds(30))
            #expect(await Self.dispatch(dispatcher, incident, .firing).delivered)
            #expect(fake.topLevel.count == 2)
            let warning = try #require(logs.entries.first { $0.metadata["slackError"] == "missing_scope" })
            #expect(warning.level == .warning)
            #expect(warning.metadata["neededScope"] == "channels:history")
            #expect(!logs.allText.contains("xoxb-test-token"))
        }
    }

    @Test func withoutAReferenceEveryKindPostsTopLevel() async throws {
        let incident = try NotifyFixtures.podinfoIncident()
        try await FakeSlackWebAPI.withRunning { fake, apiURL in
            let notifier = Self.notifier(apiURL)
            for (kind, sequence) in [(NotificationKind.reminder, 2), (.resolved, 3)] {
                let report = try await notifier.send(
                    IncidentNotification(
                        kind: kind,
                        incident: incident,
                        analysis: .notConfigured,
                        sequence: sequence,
                        notifiedAt: NotifyFixtures.now,
                        previousReference: kind == .resolved ? "not-a-slack-reference" : nil
                    )
                )
                #expect(report.reference?.hasPrefix("C0ALERTS:") == true)
            }
            #expect(fake.topLevel.count == 2)
            #expect(fake.requests("chat.update").isEmpty)
        }
    }

    @Test(arguments: ["cant_update_message", "edit_window_closed", "message_not_found"])
    func aResolveSurvivesAFirstMessageThatCannotBeUpdated(code: String) async throws {
        let incident = try NotifyFixtures.podinfoIncident()
        try await FakeSlackWebAPI.withRunning { fake, apiURL in
            let parent = fake.seed(channel: "C0ALERTS", text: "first")
            fake.enqueue(.error(code), for: "chat.update")
            let report = try await Self.notifier(apiURL).send(
                IncidentNotification(
                    kind: .resolved,
                    incident: incident,
                    analysis: .notConfigured,
                    sequence: 2,
                    notifiedAt: NotifyFixtures.now,
                    previousReference: "C0ALERTS:\(parent):1"
                )
            )
            if code == "message_not_found" {
                // The first message is gone: the resolve is posted top-level instead.
                #expect(fake.topLevel.count == 2)
                #expect(fake.replies(to: parent).isEmpty)
                #expect(report.reference != "C0ALERTS:\(parent):1")
            } else {
                #expect(fake.replies(to: parent).count == 1)
                #expect(fake.topLevel.count == 1)
            }
        }
    }

    @Test(arguments: [
        ("channel_not_found", "FLUXBRAIN_SLACK_CHANNEL"), ("not_in_channel", "/invite"),
        ("invalid_auth", "FLUXBRAIN_SLACK_BOT_TOKEN"), ("is_archived", "archived"),
        ("missing_scope", "add the scope"), ("token_revoked", "FLUXBRAIN_SLACK_BOT_TOKEN"),
    ])
    func permanentErrorsAreRejectedWithAHint(code: String, hint: String) async throws {
        try await FakeSlackWebAPI.withRunning { fake, apiURL in
            fake.enqueue(.error(code), for: "chat.postMessage")
            let error = try await #require(throws: NotificationError.self) {
                try await Self.notifier(apiURL).send(try NotifyFixtures.podinfoNotification())
            }
            #expect(error.code == .rejected)
            #expect(error.message.contains(code))
            #expect(error.hint?.contains(hint) == true)
            #expect(!"\(error)".contains("xoxb-test-token"))
            #expect(fake.requests("chat.postMessage").count == 1)  // not retried
        }
    }

    @Test func realChannelAndTokenFailuresComeFromSlacksAnswers() async throws {
        let fake = FakeSlackWebAPI(channels: ["C0ALERTS": "#alerts", "C0QUIET": "#quiet"], notInChannel: ["C0QUIET"])
        try await FakeSlackWebAPI.withRunning(fake) { fake, apiURL in
            let notification = try NotifyFixtures.podinfoNotification()
            for (notifier, code) in [
                (Self.notifier(apiURL, token: "xoxb-wrong"), "invalid_auth"),
                (Self.notifier(apiURL, channel: "C0NOWHERE"), "channel_not_found"),
                (Self.notifier(apiURL, channel: "C0QUIET"), "not_in_channel"),
            ] {
                let error = try await #require(throws: NotificationError.self) { try await notifier.send(notification) }
                #expect(error.message.contains(code))
                #expect(!"\(error)".contains("xoxb-wrong"))
            }
            #expect(fake.messages.isEmpty)
        }
    }

    @Test(arguments: ["msg_too_long", "invalid_blocks"])
    func aRefusedPayloadIsResentOnceAsPlainText(code: String) async throws {
        try await FakeSlackWebAPI.withRunning { fake, apiURL in
            fake.enqueue(.error(code), for: "chat.postMessage")
            let notification = try NotifyFixtures.podinfoNotification()
            let report = try await Self.notifier(apiURL).send(notification)
            #expect(report.reference != nil)
            let posts = fake.requests("chat.postMessage").compactMap(\.json)
            #expect(posts.count == 2)
            #expect(posts[0]["attachments"] != nil)
            #expect(posts[1]["attachments"] == nil)
            #expect(posts[1]["text"]?.stringValue == SlackMessageBuilder().fallbackText(notification))
            #expect(posts[1]["metadata"] != nil)

            // Refused twice: the send fails, after exactly one plain retry.
            fake.enqueue(.error(code), for: "chat.postMessage")
            fake.enqueue(.error(code), for: "chat.postMessage")
            let error = try await #require(throws: NotificationError.self) {
                try await Self.notifier(apiURL).send(notification)
            }
            #expect(error.code == .rejected)
            #expect(fake.requests("chat.postMessage").count == 4)
        }
    }

    @Test func rateLimitsAreWaitedOutOrReported() async throws {
        try await FakeSlackWebAPI.withRunning { fake, apiURL in
            let sleeps = NotifyFixtures.Sleeps()
            fake.enqueue(.rateLimited(retryAfter: 3), for: "chat.postMessage")
            let report = try await Self.notifier(apiURL, sleeps: sleeps).send(try NotifyFixtures.podinfoNotification())
            #expect(sleeps.all == [.seconds(3)])
            #expect(report.attempts == 2)
            #expect(fake.topLevel.count == 1)

            // `ok: false` `ratelimited` (and the older `rate_limited`) with HTTP 200: the dispatcher's backoff waits.
            for code in ["ratelimited", "rate_limited"] {
                fake.enqueue(.error(code), for: "chat.postMessage")
                let error = try await #require(throws: NotificationError.self) {
                    try await Self.notifier(apiURL).send(try NotifyFixtures.podinfoNotification())
                }
                #expect(error.code == .rateLimited)
            }
        }
    }

    @Test func notifyTestPostsOneTopLevelMessage() async throws {
        try await FakeSlackWebAPI.withRunning { fake, apiURL in
            let results = await NotifyTest.run(
                notifiers: [Self.notifier(apiURL)],
                cluster: "prod",
                logger: Logger(label: "test")
            )
            #expect(results.map(\.ok) == [true])
            #expect(fake.topLevel.count == 1)
            #expect(fake.topLevel.first?.header?.contains("[TEST]") == true)
        }
    }
}

extension Array {
    /// The element of a one-element array, else `nil`.
    fileprivate var only: Element? { count == 1 ? first : nil }
}
