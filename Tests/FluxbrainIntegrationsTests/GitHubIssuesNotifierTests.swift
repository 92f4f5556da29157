import FluxbrainCore
import FluxbrainIntegrations
import FluxbrainTestSupport
import Foundation
import Testing

@Suite struct GitHubIssuesNotifierTests {
    let clock = ManualClock(start: NotifyFixtures.now)

    func notifier(
        _ api: URL,
        token: String = "ghp_test",
        timeout: Duration = .seconds(5),
        sleeps: NotifyFixtures.Sleeps = .init(),
        reopenWindow: Duration = .seconds(24 * 3600)
    ) -> GitHubIssuesNotifier {
        GitHubIssuesNotifier(
            owner: "acme",
            repo: "platform",
            token: token,
            apiURL: api,
            reopenWindow: reopenWindow,
            http: NotifyFixtures.http(timeout: timeout, sleeps: sleeps, now: clock.dateNow)
        )
    }

    func notification(_ kind: NotificationKind, _ sequence: Int) throws -> IncidentNotification {
        var n = try NotifyFixtures.podinfoNotification(kind: kind, sequence: sequence)
        n.notifiedAt = clock.date
        return n
    }

    @Test func firstFiringCreatesOneLabelledIssueWithTheHiddenMarker() async throws {
        try await FakeGitHub.withRunning(now: clock.dateNow) { fake, api in
            let report = try await notifier(api).send(try notification(.firing, 1))
            #expect(report.httpStatus == 201)
            #expect(report.detail == "created issue #1")
            #expect(report.url == "https://github.com/acme/platform/issues/1")
            let issue = try #require(fake.issues.first)
            #expect(fake.issues.count == 1)
            #expect(
                issue.title
                    == "[fluxbrain] HelmRelease podinfo/podinfo: UpgradeFailed — timeout waiting for Deployment/podinfo/podinfo (InProgress) (cluster prod-eu-1)"
            )
            #expect(issue.labels == ["fluxbrain", "cluster:prod-eu-1", "kind:HelmRelease"])
            let fingerprint = try NotifyFixtures.podinfoIncident().fingerprint
            #expect(issue.body.hasPrefix("<!-- fluxbrain-fingerprint: \(fingerprint.hex) -->"))
            let create = try #require(fake.requests.first { $0.method == "POST" })
            #expect(create.headers["accept"] == "application/vnd.github+json")
            #expect(create.headers["x-github-api-version"] == "2022-11-28")
            #expect(create.headers["user-agent"] == BuildInfo.userAgent)
            #expect(fake.requests.first?.query["labels"] == "fluxbrain")
        }
    }

    @Test func reminderCommentsAndResolutionCommentsAndCloses() async throws {
        try await FakeGitHub.withRunning(now: clock.dateNow) { fake, api in
            let github = notifier(api)
            _ = try await github.send(try notification(.firing, 1))
            clock.advance(by: .seconds(4 * 3600))
            let reminder = try await github.send(try notification(.reminder, 2))
            #expect(reminder.detail == "commented on issue #1")
            clock.advance(by: .seconds(600))
            let resolved = try await github.send(try notification(.resolved, 3))
            #expect(resolved.detail == "issue #1 commented and closed")
            #expect(fake.issues.count == 1)
            let issue = try #require(fake.issues.first)
            #expect(issue.state == "closed")
            #expect(issue.stateReason == "completed")
            let comments = fake.comments(on: 1).map(\.body)
            #expect(comments.count == 2)
            #expect(comments[0].contains("🔁 **Still failing**"))
            #expect(comments[1].contains("✅ **Resolved**"))
            // A second resolved finds nothing open and does nothing.
            let again = try await github.send(try notification(.resolved, 3))
            #expect(again.detail == "no open issue to close")
            #expect(fake.comments(on: 1).count == 2)
        }
    }

    @Test func aCreateWhoseResponseIsLostIsRetriedAndYieldsOneIssue() async throws {
        try await FakeGitHub.withRunning(now: clock.dateNow) { fake, api in
            // The answer comes after 12 s, long after the 5 s request timeout; the retry must succeed within 5 s even
            // on a busy machine (the fake serves it while the lost answer still sleeps, and stops after it).
            fake.loseNextCreateResponse(delay: .seconds(12))
            let report = try await notifier(api, timeout: .seconds(5)).send(try notification(.firing, 1))
            #expect(fake.issues.count == 1)
            #expect(fake.requests.filter { $0.method == "POST" && $0.path.hasSuffix("/issues") }.count == 1)
            #expect(report.detail == "issue #1 was created by an earlier attempt")
            #expect(fake.comments(on: 1).isEmpty, "no spurious comment on the issue the lost attempt created")
        }
    }

    @Test func aLostCreateRetriedByTheDispatcherAfterBackoffAlsoYieldsOneIssue() async throws {
        try await FakeGitHub.withRunning(now: clock.dateNow) { fake, api in
            // The create's answer is lost and the notifier's own second look is rate limited: the send fails, and
            // the dispatcher retries after its backoff with the same notification (same sequence, same marker).
            fake.loseNextCreateResponse(delay: .seconds(12), thenRateLimit: .primary(resetIn: 1800))
            let github = notifier(api, timeout: .seconds(5))
            let store = InMemoryNotificationStore(now: clock.dateNow)
            let dispatcher = NotificationDispatcher(
                notifiers: [github],
                store: store,
                settings: NotificationSettings(),
                logger: .init(label: "test")
            )
            let incident = try NotifyFixtures.podinfoIncident()
            let first = await dispatcher.dispatch(incident: incident, status: .firing) { .notConfigured }
            guard case .failed(_, let error, let next) = first[0].result else {
                Issue.record("expected a failed send, got \(first[0].result)")
                return
            }
            #expect(error.code == .rateLimited)
            #expect(next == clock.date.addingTimeInterval(30))
            #expect(fake.issues.count == 1)
            clock.advance(by: .seconds(30))
            let second = await dispatcher.dispatch(incident: incident, status: .firing) { .notConfigured }
            guard case .sent(_, let report) = second[0].result else {
                Issue.record("expected a delivery, got \(second[0].result)")
                return
            }
            #expect(report.detail == "issue #1 was created by an earlier attempt")
            #expect(fake.issues.count == 1)
            #expect(fake.comments(on: 1).isEmpty)
        }
    }

    @Test func aRecurrenceInsideTheReopenWindowReopensTheIssue() async throws {
        try await FakeGitHub.withRunning(now: clock.dateNow) { fake, api in
            let github = notifier(api)
            _ = try await github.send(try notification(.firing, 1))
            _ = try await github.send(try notification(.resolved, 2))
            clock.advance(by: .seconds(23 * 3600))
            let report = try await github.send(try notification(.firing, 3))
            #expect(report.detail == "reopened issue #1")
            #expect(fake.issues.count == 1)
            #expect(fake.issues.first?.state == "open")
            #expect(fake.issues.first?.stateReason == "reopened")
            #expect(fake.comments(on: 1).last?.body.contains("reopen") == true)
        }
    }

    @Test func aRecurrenceOutsideTheReopenWindowOpensANewIssue() async throws {
        try await FakeGitHub.withRunning(now: clock.dateNow) { fake, api in
            let github = notifier(api)
            _ = try await github.send(try notification(.firing, 1))
            _ = try await github.send(try notification(.resolved, 2))
            clock.advance(by: .seconds(25 * 3600))
            let report = try await github.send(try notification(.firing, 3))
            #expect(report.detail == "created issue #2")
            #expect(fake.issues.map(\.state) == ["closed", "open"])
        }
    }

    @Test func pullRequestsAndOtherIncidentsAreSkippedAndPagesFollowed() async throws {
        try await FakeGitHub.withRunning(now: clock.dateNow) { fake, api in
            let n = try notification(.firing, 1)
            let marker = GitHubIssueRenderer.fingerprintMarker(n.incident.fingerprint)
            fake.seed(title: "a PR mentioning the marker", body: marker, labels: ["fluxbrain"], pullRequest: true)
            let target = fake.seed(title: "ours", body: marker + "\nbody", labels: ["fluxbrain"])
            clock.advance(by: .seconds(1))
            for index in 0..<230 {
                fake.seed(
                    title: "other \(index)",
                    body: "<!-- fluxbrain-fingerprint: other\(index) -->",
                    labels: ["fluxbrain"]
                )
            }
            let report = try await notifier(api).send(n)
            #expect(report.detail == "commented on issue #\(target)")
            #expect(fake.requests.filter { $0.method == "GET" }.compactMap { $0.query["page"] } == ["2", "3"])
            #expect(fake.comments(on: 1).isEmpty, "the pull request was not touched")
        }
    }

    @Test func primaryRateLimitWaitsUntilReset() async throws {
        try await FakeGitHub.withRunning(now: clock.dateNow) { fake, api in
            fake.enqueueRateLimit(.primary(resetIn: 12))
            let sleeps = NotifyFixtures.Sleeps()
            _ = try await notifier(api, sleeps: sleeps).send(try notification(.firing, 1))
            #expect(sleeps.all == [.seconds(12)])
            #expect(fake.issues.count == 1)
        }
    }

    @Test func secondaryRateLimitHonoursRetryAfter() async throws {
        try await FakeGitHub.withRunning(now: clock.dateNow) { fake, api in
            fake.enqueueRateLimit(.secondary(retryAfter: 3))
            let sleeps = NotifyFixtures.Sleeps()
            _ = try await notifier(api, sleeps: sleeps).send(try notification(.firing, 1))
            #expect(sleeps.all == [.seconds(3)])
        }
    }

    @Test func aLongRateLimitFailsTheSendForTheDispatcherToBackOff() async throws {
        try await FakeGitHub.withRunning(now: clock.dateNow) { fake, api in
            fake.enqueueRateLimit(.primary(resetIn: 1800))
            let error = await #expect(throws: NotificationError.self) {
                _ = try await notifier(api).send(try notification(.firing, 1))
            }
            #expect(error?.code == .rateLimited)
            #expect(error?.httpStatus == 403)
            #expect(error?.retryAfter == .seconds(1800))
            #expect(fake.issues.isEmpty)
        }
    }

    @Test func bodiesStayWithinGitHubsLimitKeepingTheMarker() async throws {
        try await FakeGitHub.withRunning(now: clock.dateNow) { fake, api in
            var n = try notification(.firing, 1)
            n.incident.message = String(repeating: "x", count: 30_000)
            n.incident.events = (0..<10).map { index in
                EventRecord(type: "Warning", reason: "R\(index)", message: String(repeating: "e|", count: 5_000))
            }
            n.analysis = .analyzed(
                AnalysisResult(
                    verdictID: "v",
                    eventID: "e",
                    title: "t",
                    description: String(repeating: "d", count: 40_000),
                    confidence: 0.5,
                    severity: .warning,
                    affectedComponents: [],
                    actions: (0..<30).map {
                        .init(title: "a\($0)", description: String(repeating: "z", count: 3_000), urgency: .low)
                    },
                    evidenceRefs: [],
                    createdAt: nil,
                    retrySafety: n.retrySafety
                )
            )
            let body = GitHubIssueRenderer().body(n)
            #expect(body.unicodeScalars.count <= 65_536)
            #expect(body.hasSuffix(GitHubIssueRenderer.truncationMarker))
            #expect(body.hasPrefix(GitHubIssueRenderer.fingerprintMarker(n.incident.fingerprint)))
            _ = try await notifier(api).send(n)
            #expect(fake.issues.count == 1, "the fake refuses bodies over 65,536 characters")
        }
    }

    @Test func badCredentialsAreReportedWithoutTheToken() async throws {
        try await FakeGitHub.withRunning(now: clock.dateNow) { fake, api in
            let error = await #expect(throws: NotificationError.self) {
                _ = try await notifier(api, token: "ghp_WRONGTOKEN").send(try notification(.firing, 1))
            }
            #expect(error?.httpStatus == 401)
            #expect(error?.code == .rejected)
            #expect(error?.description.contains("Bad credentials") == true)
            #expect(error.map { "\($0)" }?.contains("WRONGTOKEN") == false)
        }
    }

    @Test func linkHeaderNextIsParsed() {
        let header =
            #"<https://api.github.com/repositories/1/issues?page=2>; rel="next", <https://api.github.com/repositories/1/issues?page=5>; rel="last""#
        #expect(nextPageURL(linkHeader: header) == "https://api.github.com/repositories/1/issues?page=2")
        #expect(nextPageURL(linkHeader: #"<https://x/?page=1>; rel="prev""#) == nil)
        #expect(nextPageURL(linkHeader: nil) == nil)
    }
}
