import FluxbrainCore
import FluxbrainIntegrations
import FluxbrainTestSupport
import FluxbrainTestbed
import Foundation
import Logging
import Testing

/// The remediated HelmRelease and the Kustomization failing at a new commit of examples/snapshot, delivered over
/// loopback HTTP to the fake Slack, GitHub and webhook receivers: each channel leads with the failed action and its
/// cause, links what changed, and collapses repeated evidence.
@Suite struct IncidentMessageDeliveryTests {
    static let compare =
        "https://github.com/example-org/fleet-infra/compare/8a1b2c3d4e5f60718293a4b5c6d7e8f901a2b3c4...4f6c1b2d9e0a7c3b5d8e1f2a3b4c5d6e7f8a9b0c"

    @Test func slackShowsStateColourCauseRemediationLinksAndDateTokens() async throws {
        try await FakeSlack.withRunning { slack, url in
            let notifier = SlackNotifier(webhookURL: url, http: NotifyFixtures.http())
            for name in ["ingress-nginx", "infra"] {
                let report = try await notifier.send(try NotifyFixtures.snapshotNotification(name))
                #expect(report.httpStatus == 200)
            }
            let bodies = slack.requests.compactMap(\.json)
            #expect(bodies.count == 2)
            func texts(_ body: JSONValue) -> [String] {
                (body["attachments"]?.arrayValue?.first?["blocks"]?.arrayValue ?? []).compactMap {
                    $0["text"]?["text"]?.stringValue
                }
            }
            let nginx = bodies[0]
            #expect(nginx["attachments"]?.arrayValue?.first?["color"]?.stringValue == "#e01e5a")
            #expect(nginx["blocks"] == nil, "blocks travel inside the coloured attachment")
            #expect(
                nginx["text"]?.stringValue
                    == "🔴 FAILING: HelmRelease ingress-nginx/ingress-nginx in cluster prod-eu-1 — UpgradeFailed: stalled resources: Deployment/ingress-nginx/ingress-nginx-controller (Failed)"
            )
            let lead = try #require(texts(nginx).first { $0.contains("*Cause:*") })
            #expect(
                lead.contains("*Cause:* stalled resources: Deployment/ingress-nginx/ingress-nginx-controller (Failed)")
            )
            #expect(lead.contains("*Remediation:* rolled back to v11, chart 4.13.2 (`RollbackSucceeded`)"))
            #expect(texts(nginx).contains("*What changed*\nchart 4.13.2 → 4.13.3"))
            #expect(
                !texts(nginx).contains { $0.contains("Helm rollback to previous release") && $0.hasPrefix("*Message*") }
            )

            let infra = bodies[1]
            let infraTexts = texts(infra)
            #expect(
                infraTexts.contains {
                    $0.hasPrefix(
                        "<https://github.com/example-org/fleet-infra/tree/4f6c1b2d9e0a7c3b5d8e1f2a3b4c5d6e7f8a9b0c/infrastructure/production|Kustomization flux-system/infra>"
                    )
                }
            )
            #expect(infraTexts.contains("*What changed*\n<\(Self.compare)|main@sha1:8a1b2c3 → main@sha1:4f6c1b2>"))
            // The build error appears once, with its repeats counted and a date token.
            let message = try #require(infraTexts.first { $0.hasPrefix("*Message*") })
            #expect(
                message.hasPrefix(
                    "*Message* (repeated 8× in events and logs, last <!date^1795895231^{date_short_pretty} {time}|2026-11-28 19:47 UTC>)"
                )
            )
            #expect(infraTexts.filter { $0.contains("accumulating resources") }.count == 1)
            #expect(!infraTexts.contains { $0.hasPrefix("*Recent events and logs*") })
        }
    }

    @Test func slackStaysWithinBlockKitLimitsWithLongCausesAndManyDistinctEvents() async throws {
        var notification = try NotifyFixtures.snapshotNotification("infra")
        let long = String(repeating: "x", count: 5_000)
        notification.incident.message = "kustomize build failed: accumulating resources: \(long)"
        notification.incident.cause = long
        notification.incident.events = (0..<80).map {
            EventRecord(type: "Warning", reason: "BuildFailed", message: "distinct \($0) \(long)", count: 1)
        }
        let built = notification
        try await FakeSlack.withRunning { slack, url in
            let notifier = SlackNotifier(webhookURL: url, http: NotifyFixtures.http())
            let report = try await notifier.send(built)
            #expect(report.httpStatus == 200)
            let body = try #require(slack.requests.first?.json)
            #expect(FakeSlack.withinLimits(body))
        }
    }

    @Test func githubIssueTitlesTheFailedActionAndLinksTheCompareView() async throws {
        try await FakeGitHub.withRunning { github, api in
            let notifier = GitHubIssuesNotifier(
                owner: "acme",
                repo: "platform",
                token: "ghp_test",
                apiURL: api,
                http: NotifyFixtures.http()
            )
            _ = try await notifier.send(try NotifyFixtures.snapshotNotification("ingress-nginx"))
            _ = try await notifier.send(try NotifyFixtures.snapshotNotification("infra"))
            let issues = github.issues
            #expect(issues.count == 2)
            #expect(
                issues[0].title
                    == "[fluxbrain] HelmRelease ingress-nginx/ingress-nginx: UpgradeFailed — stalled resources: Deployment/ingress-nginx/ingress-nginx-controller (Failed) (cluster prod-eu-1)"
            )
            #expect(
                issues[0].body.contains("| **Remediation** | rolled back to v11, chart 4.13.2 (`RollbackSucceeded`) |")
            )
            #expect(issues[1].body.contains("- [main@sha1:8a1b2c3 → main@sha1:4f6c1b2](\(Self.compare))"))
            #expect(issues[1].body.contains("_Repeated 8× in events and logs, last 2026-11-28T19:47:11Z._"))
            // The full message stays in the body.
            #expect(issues[1].body.contains("accumulation err='accumulating resources from 'certificate.yaml'"))
        }
    }

    @Test func webhookCarriesCauseRemediationAndChanges() async throws {
        try await WebhookSink.withRunning(logger: Logger(label: "sink")) { sink, url in
            let notifier = WebhookNotifier(url: url, secret: "s", http: NotifyFixtures.http())
            _ = try await notifier.send(try NotifyFixtures.snapshotNotification("ingress-nginx"))
            _ = try await notifier.send(try NotifyFixtures.snapshotNotification("infra"))
            let nginx = try #require(sink.records.first?.body)
            #expect(nginx["reason"]?.stringValue == "UpgradeFailed")
            #expect(nginx["remediation"]?["summary"]?.stringValue == "rolled back to v11, chart 4.13.2")
            #expect(nginx["changes"]?["previousChart"]?.stringValue == "4.13.2")
            let infra = try #require(sink.records.last?.body)
            #expect(
                infra["cause"]?.stringValue
                    == "infrastructure/production/ingress/certificate.yaml: no such file or directory"
            )
            #expect(infra["changes"]?["compareURL"]?.stringValue == Self.compare)
            #expect(infra["remediation"] == .null)
            #expect(infra["message"]?.stringValue?.hasPrefix("kustomize build failed: accumulating resources") == true)
        }
    }
}
