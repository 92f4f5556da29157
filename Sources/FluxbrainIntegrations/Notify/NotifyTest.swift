import FluxbrainCore
import Foundation
import Logging

/// `fluxbrain notify-test`: sends a clearly labelled sample incident through every configured notifier and reports
/// per channel what happened, so a webhook URL or token can be checked before the first real failure.
package enum NotifyTest {
    /// What happened on one channel.
    package struct Result: Sendable, Hashable {
        package var channel: ChannelID
        package var ok: Bool
        /// The final HTTP status, when the receiver answered.
        package var httpStatus: Int?
        /// What was done ("created and closed test issue #3") or, on failure, the error.
        package var detail: String?
        package var error: String?
        package var url: String?
        package var seconds: Double

        /// One line for a terminal, e.g. `slack    ok    HTTP 200  ok`.
        package var line: String {
            let name = channel.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)
            let status = httpStatus.map { "HTTP \($0)" } ?? "-"
            var text = "\(name) \(ok ? "ok    " : "FAILED") \(status.padding(toLength: 9, withPad: " ", startingAt: 0))"
            if let error { text += " \(error)" } else if let detail { text += " \(detail)" }
            if let url { text += " \(url)" }
            return text
        }
    }

    /// The sample incident: a `[TEST]` HelmRelease upgrade failure in `cluster`, with a sample analysis.
    package static func sampleNotification(cluster: String, now: Date) -> IncidentNotification {
        let object = ObjectReference(
            cluster: cluster,
            kind: .helmRelease,
            namespace: "fluxbrain-notify-test",
            name: "sample-app"
        )
        let incident = Incident(
            object: object,
            state: .stalled,
            reason: "UpgradeFailed",
            message:
                "[TEST] Fluxbrain notify-test sample — nothing is failing. Helm upgrade failed for release fluxbrain-notify-test/sample-app with chart sample-app@1.2.3: timeout waiting for: [Deployment/fluxbrain-notify-test/sample-app status: 'InProgress']",
            revision: "1.2.3",
            lastAppliedRevision: "1.2.2",
            lastAttemptedRevision: "1.2.3",
            source: ObjectReference(cluster: cluster, kind: .helmRepository, namespace: "flux-system", name: "sample"),
            retryInterval: "10m",
            since: now,
            events: [
                EventRecord(
                    type: "Warning",
                    reason: "UpgradeFailed",
                    message: "[TEST] sample event from fluxbrain notify-test",
                    count: 1,
                    lastTimestamp: now,
                    reportingComponent: "helm-controller"
                )
            ],
            detectedAt: now
        )
        let analysis = AnalysisResult(
            verdictID: "00000000-0000-0000-0000-000000000000",
            eventID: "00000000-0000-0000-0000-000000000000",
            title: "[TEST] Sample root cause: the new pods never became ready",
            description: "This is sample text from fluxbrain notify-test; no analysis was run.",
            confidence: 0.9,
            severity: .warning,
            affectedComponents: ["Deployment/fluxbrain-notify-test/sample-app"],
            actions: [
                .init(title: "Nothing to do", description: "This is a test message.", urgency: .low)
            ],
            evidenceRefs: [],
            createdAt: now,
            retrySafety: RetrySafety.derived(from: incident)
        )
        return IncidentNotification(
            kind: .test,
            incident: incident,
            analysis: .analyzed(analysis),
            sequence: 1,
            notifiedAt: now
        )
    }

    /// Sends the sample through every notifier concurrently; one result per notifier, in their order.
    package static func run(
        notifiers: [any Notifier],
        cluster: String,
        now: Date = Date(),
        logger: Logger
    ) async -> [Result] {
        let notification = sampleNotification(cluster: cluster, now: now)
        return await withTaskGroup(of: (Int, Result).self) { group in
            for (index, notifier) in notifiers.enumerated() {
                group.addTask {
                    let start = ContinuousClock.now
                    do {
                        let report = try await notifier.send(notification)
                        return (
                            index,
                            Result(
                                channel: notifier.channel,
                                ok: true,
                                httpStatus: report.httpStatus,
                                detail: report.detail,
                                error: nil,
                                url: report.url,
                                seconds: (ContinuousClock.now - start).timeInterval
                            )
                        )
                    } catch {
                        let failure = error as? NotificationError
                        logger.warning(
                            "notify-test failed",
                            metadata: ["channel": "\(notifier.channel)", "error": .error(error)]
                        )
                        return (
                            index,
                            Result(
                                channel: notifier.channel,
                                ok: false,
                                httpStatus: failure?.httpStatus,
                                detail: nil,
                                error: "\(error)",
                                url: nil,
                                seconds: (ContinuousClock.now - start).timeInterval
                            )
                        )
                    }
                }
            }
            var results: [(Int, Result)] = []
            for await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }
}
