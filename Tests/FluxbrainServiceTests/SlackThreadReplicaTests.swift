import AsyncHTTPClient
import FluxbrainCoordination
import FluxbrainCore
import FluxbrainIntegrations
import FluxbrainRedis
import FluxbrainTestSupport
import Foundation
import Logging
import Testing

/// One Slack thread per incident across replicas: the thread's reference lives in the Redis notification state, so
/// a replica that never saw the first message continues its thread.
@Suite struct SlackThreadReplicaTests {
    static let quiet = Logger(label: "fluxbrain.slack.test") { _ in SwiftLogNoOpLogHandler() }

    /// A replica's notification path: its own Redis connection, store, notifier and dispatcher.
    static func withReplica<T>(
        _ redis: PlainRedis,
        prefix: String,
        apiURL: URL,
        settings: NotificationSettings,
        _ body: (NotificationDispatcher) async throws -> T
    ) async throws -> T {
        try await withRedisClient(configuration: try redis.configuration(), logger: quiet) { client in
            let store = RedisNotificationStore(client: client, keyPrefix: prefix, logger: quiet)
            let notifier = SlackBotNotifier(
                token: "xoxb-test-token",
                slackChannel: "C0ALERTS",
                apiURL: apiURL,
                http: NotificationHTTP(client: HTTPClient.shared, logger: quiet)
            )
            return try await body(
                NotificationDispatcher(notifiers: [notifier], store: store, settings: settings, logger: quiet)
            )
        }
    }

    /// Dispatches `status` until a notification of `kind` is delivered (the store runs on Redis `TIME`, so a
    /// reminder comes once the real repeat interval has passed); no bound on how long that takes is asserted.
    static func deliver(
        _ kind: NotificationKind,
        _ status: NotificationStatus,
        incident: Incident,
        with dispatcher: NotificationDispatcher
    ) async throws {
        for _ in 0..<200 {
            let outcome = await dispatcher.dispatch(incident: incident, status: status, analysis: { .notConfigured })[0]
            switch outcome.result {
            case .sent(let sent, _):
                #expect(sent == kind)
                return
            case .skipped(.skipNotDue):
                try await Task.sleep(for: .milliseconds(50))
            default:
                Issue.record("unexpected outcome \(outcome.result)")
                return
            }
        }
        Issue.record("no \(kind) was delivered")
    }

    @Test func aSecondReplicaContinuesTheThreadThroughRedis() async throws {
        let incident = NotifyTest.sampleNotification(cluster: "prod", now: Date()).incident  // stalled
        let settings = NotificationSettings(repeatInterval: .milliseconds(300))
        try await PlainRedis.with { redis in
            let prefix = "\(redis.keyPrefix)slack"
            try await FakeSlackWebAPI.withRunning { fake, apiURL in
                // Replica A posts the first message, then goes away (its connection closes).
                try await Self.withReplica(redis, prefix: prefix, apiURL: apiURL, settings: settings) { a in
                    try await Self.deliver(.firing, .firing, incident: incident, with: a)
                }
                // Replica B, a fresh process as far as notification state goes, carries on in the thread.
                try await Self.withReplica(redis, prefix: prefix, apiURL: apiURL, settings: settings) { b in
                    try await Self.deliver(.reminder, .firing, incident: incident, with: b)
                    try await Self.deliver(.reminder, .firing, incident: incident, with: b)
                    try await Self.deliver(.resolved, .resolved, incident: incident, with: b)
                }
                let top = fake.topLevel
                #expect(top.count == 1)
                let ts = try #require(top.first?.ts)
                #expect(fake.replies(to: ts).count == 3)
                #expect(fake.replies(to: ts).map(\.replyBroadcast) == [true, false, false])
                #expect(fake.requests("chat.update").count == 1)
                #expect(top.first?.color == "#2eb67d")
            }
        }
    }
}
