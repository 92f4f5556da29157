import FluxbrainTestSupport
import Foundation
import Logging
import Synchronization
import Testing

@testable import FluxbrainCore

/// A notifier that records what it was asked to send and fails while told to.
final class RecordingNotifier: Notifier {
    let channel: ChannelID
    private let state = Mutex<(sent: [IncidentNotification], failuresLeft: Int)>(([], 0))

    init(_ channel: ChannelID, failures: Int = 0) {
        self.channel = channel
        state.withLock { $0.failuresLeft = failures }
    }

    var sent: [IncidentNotification] { state.withLock { $0.sent } }
    func fail(times: Int) { state.withLock { $0.failuresLeft = times } }

    func send(_ notification: IncidentNotification) async throws -> DeliveryReport {
        let fail = state.withLock { state -> Bool in
            if state.failuresLeft > 0 {
                state.failuresLeft -= 1
                return true
            }
            state.sent.append(notification)
            return false
        }
        if fail { throw NotificationError(.serverError, "\(channel) is down", httpStatus: 503) }
        return DeliveryReport(httpStatus: 200)
    }
}

final class RecordingMetrics: NotificationMetrics {
    private let counts = Mutex<[String: Int]>([:])
    func count(channel: ChannelID, kind: NotificationKind, result: NotificationResult) {
        counts.withLock { $0["\(channel)/\(kind)/\(result)", default: 0] += 1 }
    }
    func recordLatency(channel: ChannelID, seconds: Double) {
        counts.withLock { $0["\(channel)/latency", default: 0] += 1 }
    }
    subscript(_ key: String) -> Int { counts.withLock { $0[key] ?? 0 } }
}

final class Counter: Sendable {
    private let value = Mutex(0)
    func increment() { value.withLock { $0 += 1 } }
    var count: Int { value.withLock { $0 } }
}

@Suite struct NotificationDispatcherTests {
    let clock = ManualClock(start: Date(timeIntervalSince1970: 1_795_000_000))
    let incident = Incident(
        object: ObjectReference(cluster: "prod", kind: .kustomization, namespace: "flux-system", name: "infra"),
        state: .retrying,
        reason: "BuildFailed",
        message: "kustomize build failed",
        revision: "main@sha1:abc",
        detectedAt: Date(timeIntervalSince1970: 1_795_000_000)
    )

    func dispatcher(
        _ notifiers: [any Notifier],
        metrics: RecordingMetrics = RecordingMetrics(),
        store: InMemoryNotificationStore? = nil
    ) -> NotificationDispatcher {
        NotificationDispatcher(
            notifiers: notifiers,
            store: store ?? InMemoryNotificationStore(now: clock.dateNow),
            settings: NotificationSettings(),
            metrics: metrics,
            logger: Logger(label: "test")
        )
    }

    @Test func firstFiringNotifiesEveryChannelOnceThenStaysSilent() async {
        let slack = RecordingNotifier(.slack)
        let webhook = RecordingNotifier(.webhook)
        let analyses = Counter()
        let d = dispatcher([slack, webhook])
        let analysis: @Sendable () async -> AnalysisOutcome = {
            analyses.increment()
            return .notConfigured
        }
        let first = await d.dispatch(incident: incident, status: .firing, analysis: analysis)
        #expect(first.allSatisfy { $0.delivered })
        clock.advance(by: .seconds(600))
        let second = await d.dispatch(incident: incident, status: .firing, analysis: analysis)
        #expect(!second.contains { $0.delivered })
        #expect(slack.sent.map(\.kind) == [.firing])
        #expect(webhook.sent.map(\.kind) == [.firing])
        #expect(analyses.count == 1, "analysis is asked once, and not when nothing is to be sent")
        #expect(slack.sent.first?.idempotencyKey == "\(incident.fingerprint.hex):firing:1")
    }

    /// One info line per delivery, naming Errorbrain's verdict when there is one (the analyzer logs its own line only
    /// at debug).
    @Test func theSentLineNamesTheVerdict() async {
        let logs = CapturedLogs()
        let d = NotificationDispatcher(
            notifiers: [RecordingNotifier(.webhook)],
            store: InMemoryNotificationStore(now: clock.dateNow),
            settings: NotificationSettings(),
            metrics: RecordingMetrics(),
            logger: logs.logger(level: .info)
        )
        let result = AnalysisFixtures.result(for: incident)
        _ = await d.dispatch(incident: incident, status: .firing) { .analyzed(result) }
        let other = Incident(
            object: ObjectReference(cluster: "prod", kind: .kustomization, namespace: "flux-system", name: "apps"),
            state: .retrying,
            reason: "BuildFailed",
            message: "kustomize build failed",
            revision: "main@sha1:abc",
            detectedAt: incident.detectedAt
        )
        _ = await d.dispatch(incident: other, status: .firing) { .notConfigured }
        let sent = logs.entries.filter { $0.message == "notification sent" }
        #expect(sent.count == 2)
        #expect(sent.first?.level == .info)
        #expect(sent.first?.metadata["verdict"] == result.verdictID)
        #expect(sent.last?.metadata["verdict"] == nil)
    }

    @Test func reminderAfterRepeatIntervalThenOneResolved() async {
        let slack = RecordingNotifier(.slack)
        let d = dispatcher([slack])
        _ = await d.dispatch(incident: incident, status: .firing) { .notConfigured }
        clock.advance(by: .seconds(4 * 3600))
        _ = await d.dispatch(incident: incident, status: .firing) { .notConfigured }
        _ = await d.dispatch(incident: incident, status: .resolved) { .notConfigured }
        _ = await d.dispatch(incident: incident, status: .resolved) { .notConfigured }
        #expect(slack.sent.map(\.kind) == [.firing, .reminder, .resolved])
        #expect(slack.sent.map(\.sequence) == [1, 2, 3])
    }

    @Test func aFailingChannelRetriesWithBackoffWithoutBlockingOrDuplicatingOthers() async {
        let slack = RecordingNotifier(.slack, failures: 2)
        let webhook = RecordingNotifier(.webhook)
        let metrics = RecordingMetrics()
        let d = dispatcher([slack, webhook], metrics: metrics)

        let first = await d.dispatch(incident: incident, status: .firing) { .notConfigured }
        guard case .failed(_, let error, let next) = first[0].result else {
            Issue.record("slack should fail: \(first[0].result)")
            return
        }
        #expect(error.httpStatus == 503)
        #expect(next == clock.date.addingTimeInterval(30))
        #expect(first[1].delivered)

        clock.advance(by: .seconds(10))  // inside the backoff: slack skipped, webhook silent
        let second = await d.dispatch(incident: incident, status: .firing) { .notConfigured }
        if case .skipped(.skipBackoff) = second[0].result {} else { Issue.record("slack: \(second[0].result)") }
        if case .skipped(.skipNotDue) = second[1].result {} else { Issue.record("webhook: \(second[1].result)") }

        clock.advance(by: .seconds(20))  // backoff 30s over: fails again, next in 60s
        _ = await d.dispatch(incident: incident, status: .firing) { .notConfigured }
        clock.advance(by: .seconds(60))
        let fourth = await d.dispatch(incident: incident, status: .firing) { .notConfigured }
        #expect(fourth[0].delivered)
        #expect(slack.sent.map(\.kind) == [.firing])
        #expect(slack.sent.first?.sequence == 1, "the retried notification keeps its sequence (and idempotency key)")
        #expect(webhook.sent.map(\.kind) == [.firing], "the healthy channel was notified once")
        #expect(metrics["slack/firing/failed"] == 2)
        #expect(metrics["slack/firing/retried"] == 2)
        #expect(metrics["slack/firing/sent"] == 1)
        #expect(metrics["webhook/firing/sent"] == 1)
        #expect(metrics["slack/latency"] == 3)
    }

    @Test func aNewRevisionFailingNotifiesAsANewIncident() async {
        let slack = RecordingNotifier(.slack)
        let d = dispatcher([slack])
        _ = await d.dispatch(incident: incident, status: .firing) { .notConfigured }
        let next = Incident(
            object: incident.object,
            state: .retrying,
            reason: "BuildFailed",
            message: "still broken",
            revision: "main@sha1:def",
            detectedAt: clock.date
        )
        _ = await d.dispatch(incident: next, status: .firing) { .notConfigured }
        #expect(slack.sent.map(\.kind) == [.firing, .firing])
        #expect(Set(slack.sent.map(\.incident.fingerprint)).count == 2)
    }

    @Test func sendResolvedOffSendsNoResolvedButARecurrenceNotifies() async {
        let slack = RecordingNotifier(.slack)
        var d = dispatcher([slack])
        d.settings.sendResolved = false
        _ = await d.dispatch(incident: incident, status: .firing) { .notConfigured }
        let resolved = await d.dispatch(incident: incident, status: .resolved) { .notConfigured }
        if case .skipped(.skipResolvedDisabled) = resolved[0].result {} else { Issue.record("\(resolved[0].result)") }
        _ = await d.dispatch(incident: incident, status: .firing) { .notConfigured }
        #expect(slack.sent.map(\.kind) == [.firing, .firing])
    }

    @Test func concurrentDispatchersSendOnce() async {
        let slack = RecordingNotifier(.slack)
        let store = InMemoryNotificationStore(now: clock.dateNow)
        let a = dispatcher([slack], store: store)
        let b = dispatcher([slack], store: store)
        let incident = self.incident
        await withTaskGroup(of: Void.self) { group in
            for d in [a, b, a, b] {
                group.addTask { _ = await d.dispatch(incident: incident, status: .firing) { .notConfigured } }
            }
        }
        #expect(slack.sent.count == 1)
    }

    @Test func consoleNotifierWritesReadableText() async throws {
        let lines = Mutex<[String]>([])
        let console = ConsoleNotifier(write: { text in lines.withLock { $0.append(text) } })
        let result = AnalysisResult(
            verdictID: "v",
            eventID: "e",
            title: "Missing CRD",
            description: "The CRD is not installed.",
            confidence: 0.82,
            severity: .critical,
            affectedComponents: [],
            actions: [.init(title: "Install the CRD", description: "Apply crds/ first", urgency: .high)],
            evidenceRefs: [],
            createdAt: nil,
            retrySafety: RetrySafety.derived(from: incident)
        )
        _ = try await console.send(
            IncidentNotification(
                kind: .firing,
                incident: incident,
                analysis: .analyzed(result),
                sequence: 1,
                notifiedAt: clock.date
            )
        )
        _ = try await console.send(
            IncidentNotification(
                kind: .resolved,
                incident: incident,
                analysis: .notConfigured,
                sequence: 2,
                notifiedAt: clock.date
            )
        )
        let text = lines.withLock { $0 }
        #expect(text.count == 2)
        #expect(text[0].contains("FAILING  Kustomization flux-system/infra  (cluster prod)"))
        #expect(text[0].contains("root cause:  Missing CRD (confidence 82%, severity critical)"))
        #expect(text[0].contains("1. [high] Install the CRD: Apply crds/ first"))
        #expect(text[0].contains("retry safety: waiting is safe"))
        #expect(text[1].contains("[fluxbrain] RESOLVED #2"))
        #expect(text[1].contains("BuildFailed has cleared"))
    }
}
