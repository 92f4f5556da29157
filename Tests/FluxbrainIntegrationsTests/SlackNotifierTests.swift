import FluxbrainCore
import FluxbrainIntegrations
import FluxbrainTestSupport
import Foundation
import Testing

@Suite struct SlackNotifierTests {
    @Test func messageHasHeaderFieldsRootCauseActionsEventsAndFallback() throws {
        let notification = try NotifyFixtures.podinfoNotification()
        let message = SlackMessageBuilder(channel: "#platform-alerts").message(for: notification)
        #expect(message.channel == "#platform-alerts")
        #expect(message.blocks.first?.type == "header")
        #expect(message.blocks.first?.text?.text == "⛔ STALLED HelmRelease podinfo/podinfo · prod-eu-1")
        let fields = message.blocks.compactMap(\.fields).flatMap { $0 }.map(\.text)
        #expect(fields.contains { $0.hasPrefix("*Reason*") && $0.contains("UpgradeFailed") })
        #expect(fields.contains { $0.hasPrefix("*Revision*") && $0.contains("6.9.3") })
        #expect(fields.contains { $0.hasPrefix("*Source*") })
        #expect(fields.contains { $0.hasPrefix("*Retry safety*") && $0.contains("stopped retrying") })
        #expect(fields.contains { $0.hasPrefix("*Confidence*\n82%") })
        let texts = message.blocks.compactMap(\.text?.text)
        #expect(texts.contains { $0.hasPrefix("*Root cause:* podinfo 6.9.3 pods never become ready") })
        let actions = try #require(texts.first { $0.hasPrefix("*What to do*") })
        let first = try #require(actions.range(of: "1. *Roll back to 6.9.2*"))
        let second = try #require(actions.range(of: "2. *Make the cache reachable"))
        #expect(first.lowerBound < second.lowerBound)
        #expect(
            texts.contains {
                $0.hasPrefix("*Recent events and logs*") && $0.contains("Readiness probe failed")
                    && $0.contains("(×31)")
                    && !$0.contains("Helm upgrade failed")
            }
        )
        // The UpgradeFailed event repeats the message: counted on the message, not listed again.
        #expect(texts.contains { $0.hasPrefix("*Message* (repeated 1× in events and logs, last <!date^1795895278^") })
        #expect(texts.contains { $0.contains("*Cause:* timeout waiting for Deployment/podinfo/podinfo (InProgress)") })
        #expect(message.attachments.map(\.color) == ["#a30200"])
        #expect(fields.contains("*Since*\n<!date^1795895278^{date_short_pretty} {time}|2026-11-28 19:47 UTC>"))
        #expect(message.text.hasPrefix("⛔ STALLED: HelmRelease podinfo/podinfo in cluster prod-eu-1 — UpgradeFailed"))
        #expect(FakeSlack.withinLimits(try JSONDecoder().decode(JSONValue.self, from: StableJSON.encode(message))))
    }

    @Test(arguments: [NotificationKind.firing, .reminder, .resolved, .test])
    func headerMarksTheKind(kind: NotificationKind) throws {
        let notification = try NotifyFixtures.podinfoNotification(kind: kind, sequence: 2)
        let header = SlackMessageBuilder().headerText(notification)
        switch kind {
        case .firing: #expect(header.hasPrefix("⛔ STALLED "))
        case .reminder: #expect(header.hasPrefix("🔁 STILL STALLED "))
        case .resolved: #expect(header.hasPrefix("✅ RESOLVED "))
        case .test: #expect(header.hasPrefix("🧪 [TEST] notify-test "))
        }
    }

    @Test func resolvedMessageIsShortAndClearlyMarked() throws {
        let notification = try NotifyFixtures.podinfoNotification(kind: .resolved, sequence: 2)
        let message = SlackMessageBuilder().message(for: notification)
        #expect(message.text.hasPrefix("✅ RESOLVED"))
        #expect(message.blocks.compactMap(\.text?.text).contains { $0.hasPrefix("*Resolved:*") })
        #expect(!message.blocks.compactMap(\.text?.text).contains { $0.hasPrefix("*Root cause:*") })
    }

    @Test func longTextsAreTruncatedWithAVisibleMarkerWithinSlackLimits() async throws {
        var notification = try NotifyFixtures.podinfoNotification()
        notification.incident.message = String(repeating: "error: something <bad> & broken. ", count: 400)
        notification.incident.affected = (0..<400).map {
            ObjectReference(cluster: "prod-eu-1", kind: .kustomization, namespace: "apps", name: "tenant-\($0)")
        }
        notification.incident.object.name = String(repeating: "very-long-name-", count: 20)
        let message = SlackMessageBuilder().message(for: notification)
        for block in message.blocks {
            if block.type == "header" { #expect(block.text!.text.count <= 150) }
            if let text = block.text?.text, block.type == "section" { #expect(text.count <= 3000) }
            for field in block.fields ?? [] { #expect(field.text.count <= 2000) }
        }
        #expect(message.blocks.count <= 50)
        #expect(message.text.count <= 3000)
        let texts = message.blocks.compactMap(\.text?.text)
        #expect(texts.filter { $0.hasSuffix(SlackLimits.truncationMarker) }.count == 2, "message and affected list cut")
        #expect(message.blocks.first!.text!.text.hasSuffix("…"))

        let long = notification
        try await FakeSlack.withRunning { fake, url in
            let notifier = SlackNotifier(webhookURL: url, http: NotifyFixtures.http())
            let report = try await notifier.send(long)
            #expect(report.httpStatus == 200)
            #expect(fake.requests.count == 1)
        }
    }

    @Test func tooManyBlocksAreCutTo50WithAMarker() {
        let blocks = (0..<70).map { SlackBlock.section("block \($0)") }
        let truncatedMessage = SlackMessageBuilderTestAccess.finish(blocks)
        #expect(truncatedMessage.count == 50)
        #expect(truncatedMessage.last?.elements?.first?.text == "… (truncated: 21 more blocks)")
    }

    @Test func postsJSONAndSucceedsOnOK() async throws {
        try await FakeSlack.withRunning { fake, url in
            let notifier = SlackNotifier(webhookURL: url, channelOverride: "#alerts", http: NotifyFixtures.http())
            let report = try await notifier.send(try NotifyFixtures.podinfoNotification())
            #expect(report.httpStatus == 200)
            #expect(report.attempts == 1)
            let request = try #require(fake.requests.first)
            #expect(request.method == "POST")
            #expect(request.headers["content-type"]?.hasPrefix("application/json") == true)
            #expect(request.json?["channel"]?.stringValue == "#alerts")
            #expect(request.json?["attachments"]?.arrayValue?.first?["blocks"]?.arrayValue?.isEmpty == false)
        }
    }

    @Test func honoursRetryAfterOn429ThenRetries() async throws {
        try await FakeSlack.withRunning { fake, url in
            fake.enqueue(.rateLimited(retryAfter: 7))
            let sleeps = NotifyFixtures.Sleeps()
            let notifier = SlackNotifier(webhookURL: url, http: NotifyFixtures.http(sleeps: sleeps))
            let report = try await notifier.send(try NotifyFixtures.podinfoNotification())
            #expect(sleeps.all == [.seconds(7)])
            #expect(report.attempts == 2)
            #expect(fake.requests.count == 2)
        }
    }

    @Test func aRetryAfterLongerThanTheLimitFailsAsRateLimitedWithoutSleeping() async throws {
        try await FakeSlack.withRunning { fake, url in
            fake.enqueue(.rateLimited(retryAfter: 120))
            let sleeps = NotifyFixtures.Sleeps()
            let notifier = SlackNotifier(
                webhookURL: url,
                http: NotifyFixtures.http(maxRetryAfter: .seconds(30), sleeps: sleeps)
            )
            let error = await #expect(throws: NotificationError.self) {
                _ = try await notifier.send(try NotifyFixtures.podinfoNotification())
            }
            #expect(error?.code == .rateLimited)
            #expect(error?.retryAfter == .seconds(120))
            #expect(error?.httpStatus == 429)
            #expect(sleeps.all.isEmpty)
            #expect(fake.requests.count == 1)
        }
    }

    @Test func serverErrorsAreRetriedWithBackoff() async throws {
        try await FakeSlack.withRunning { fake, url in
            fake.enqueue(.serverError)
            fake.enqueue(.serverError)
            let sleeps = NotifyFixtures.Sleeps()
            let notifier = SlackNotifier(webhookURL: url, http: NotifyFixtures.http(sleeps: sleeps))
            let report = try await notifier.send(try NotifyFixtures.podinfoNotification())
            #expect(report.attempts == 3)
            #expect(sleeps.all == [.seconds(1), .seconds(2)])
        }
    }

    @Test func slackErrorsAreReportedWithTheirCodeAndNeverTheURL() async throws {
        try await FakeSlack.withRunning { fake, url in
            fake.enqueue(.error(status: 400, code: "invalid_blocks"))
            let notifier = SlackNotifier(webhookURL: url, http: NotifyFixtures.http())
            let error = await #expect(throws: NotificationError.self) {
                _ = try await notifier.send(try NotifyFixtures.podinfoNotification())
            }
            #expect(error?.code == .rejected)
            #expect(error?.httpStatus == 400)
            #expect(error?.description.contains("invalid_blocks") == true)
            #expect(error?.description.contains("XXXXSECRET") == false)
            #expect(fake.requests.count == 1, "a 4xx is not retried")
        }
    }

    @Test func anUnreachableWebhookIsATransportErrorWithoutTheURL() async throws {
        let url = URL(string: "http://127.0.0.1:9/services/T000/B000/XXXXSECRET")!
        let notifier = SlackNotifier(webhookURL: url, http: NotifyFixtures.http(timeout: .seconds(2)))
        let error = await #expect(throws: NotificationError.self) {
            _ = try await notifier.send(try NotifyFixtures.podinfoNotification())
        }
        #expect(error?.code == .transport)
        #expect(error.map { "\($0)" }?.contains("XXXXSECRET") == false)
    }
}

/// Reaches the builder's block cap through a message with many sections.
enum SlackMessageBuilderTestAccess {
    static func finish(_ blocks: [SlackBlock]) -> [SlackBlock] {
        SlackMessageBuilder.capBlocks(blocks)
    }
}
