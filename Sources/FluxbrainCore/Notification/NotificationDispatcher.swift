import Foundation
import Logging

/// What happened on one channel for one dispatch.
package struct ChannelOutcome: Sendable {
    package enum Result: Sendable {
        /// Delivered.
        case sent(NotificationKind, DeliveryReport)
        /// The send failed; the channel retries at `nextAttemptAt` (nil if the claim had been lost meanwhile).
        case failed(NotificationKind, NotificationError, nextAttemptAt: Date?)
        /// Nothing to send, and why.
        case skipped(NotificationDecision)
        /// The store could not be asked; nothing was sent.
        case storeError(String)
    }

    package var channel: ChannelID
    package var result: Result

    /// `true` if a notification was delivered.
    package var delivered: Bool {
        if case .sent = result { return true }
        return false
    }
}

/// Delivers an incident's notifications on every channel independently.
///
/// For each channel: claim through the `NotificationStore` (which applies `NotificationStateMachine`), send, then
/// `markSent` or `markFailed`. Several channels run concurrently in task groups (one channel runs inline, without
/// them); an error on one never affects another.
/// The analysis is asked for lazily, once, and only if at least one channel is to send. With one channel, a fresh
/// verdict to cache goes to the store with the claim, and a delivery may be left to the caller to record with its
/// ack (see ``dispatch(incident:status:channels:writing:deliveries:analysis:)``).
package struct NotificationDispatcher: Sendable {
    package var notifiers: [any Notifier]
    package var store: any NotificationStore
    package var settings: NotificationSettings
    /// Rules of channels that differ from ``settings`` (an Alertmanager channel's own repeat interval).
    package var channelSettings: [ChannelID: NotificationSettings] = [:]
    package var metrics: any NotificationMetrics
    package var logger: Logger
    private let makeToken: @Sendable () -> String
    private let monotonicNow: @Sendable () -> ContinuousClock.Instant

    /// - Parameters:
    ///   - notifiers: one per configured channel (channels must be distinct).
    ///   - makeToken: claim tokens, unique per send attempt (default: ``RandomToken/make()``).
    package init(
        notifiers: [any Notifier],
        store: any NotificationStore,
        settings: NotificationSettings,
        metrics: any NotificationMetrics = NoNotificationMetrics(),
        logger: Logger,
        makeToken: @escaping @Sendable () -> String = { RandomToken.make() }
    ) {
        self.notifiers = notifiers
        self.store = store
        self.settings = settings
        self.metrics = metrics
        self.logger = logger
        self.makeToken = makeToken
        self.monotonicNow = { ContinuousClock.now }
    }

    /// The rules of `channel`: its own (``channelSettings``), else ``settings``.
    package func settings(for channel: ChannelID) -> NotificationSettings {
        channelSettings[channel] ?? settings
    }

    /// Notifies about `incident` observed as `status` on every channel that is due.
    ///
    /// - Parameters:
    ///   - channels: only these channels (the routing decision); `nil` for every channel. A channel left out is
    ///     neither claimed nor sent to, and its state is untouched.
    ///   - write: a fresh verdict to cache first (``PendingAnalysisWrite``). With one channel it goes to the store
    ///     with the claim (``NotificationStore/claim(fingerprint:channel:status:token:settings:after:)``, one round
    ///     trip on Redis); with several it is written before the claims, and if that fails no channel is claimed
    ///     (each gets `.storeError`).
    ///   - deliveries: where a delivery is left unrecorded, for the caller to record with its ack
    ///     (``PendingDelivery``); only with one channel, so a delivery is never left waiting on another channel's
    ///     send. `nil`: each delivery is recorded at once (``PendingDelivery/record(repeated:logger:)``).
    ///   - analysis: called at most once, and only if some channel is to send.
    /// - Returns: one outcome per notifier taking part, in the notifiers' order.
    package func dispatch(
        incident: Incident,
        status: NotificationStatus,
        channels: Set<ChannelID>? = nil,
        writing write: PendingAnalysisWrite? = nil,
        deliveries: DeliveryLog? = nil,
        analysis: @escaping @Sendable () async -> AnalysisOutcome
    ) async -> [ChannelOutcome] {
        let notifiers = channels.map { wanted in self.notifiers.filter { wanted.contains($0.channel) } } ?? notifiers
        var incidentLogger = self.logger
        incidentLogger[metadataKey: "fingerprint"] = "\(incident.fingerprint.short)"
        incidentLogger[metadataKey: "object"] = "\(incident.object)"
        incidentLogger[metadataKey: "cluster"] = "\(incident.object.cluster)"
        let logger = incidentLogger

        // One channel (the common case) is claimed and sent to inline: a task group of one child only adds a hop to
        // another thread and back.
        if notifiers.count == 1 {
            let claimed = await claim(
                notifiers[0],
                index: 0,
                token: makeToken(),
                incident: incident,
                status: status,
                after: write
            )
            return [
                await deliver(
                    claimed,
                    with: notifiers[0],
                    incident: incident,
                    analysis: claimed.claim?.decision.kindToSend != nil ? await analysis() : nil,
                    deliveries: deliveries,
                    logger: logger
                )
            ]
        }
        if let write {
            do {
                try await write.perform()
            } catch {
                logger.warning("caching the analysis failed; not notifying", metadata: ["error": .error(error)])
                return notifiers.map { ChannelOutcome(channel: $0.channel, result: .storeError("\(error)")) }
            }
        }
        guard !notifiers.isEmpty else { return [] }

        // 1. Claim on every channel, concurrently.
        let claims = await withTaskGroup(of: Claimed.self) { group in
            for (index, notifier) in notifiers.enumerated() {
                let token = makeToken()
                group.addTask {
                    await claim(notifier, index: index, token: token, incident: incident, status: status)
                }
            }
            var all: [Claimed] = []
            for await claimed in group { all.append(claimed) }
            return all.sorted { $0.index < $1.index }
        }

        // 2. Analysis, once, if anything is to be sent.
        let anyToSend = claims.contains { $0.claim?.decision.kindToSend != nil }
        let outcome: AnalysisOutcome? = anyToSend ? await analysis() : nil

        // 3. Send on the claimed channels, concurrently.
        return await withTaskGroup(of: (Int, ChannelOutcome).self) { group in
            for claimed in claims {
                let notifier = notifiers[claimed.index]
                group.addTask {
                    let result = await deliver(
                        claimed,
                        with: notifier,
                        incident: incident,
                        analysis: outcome,
                        deliveries: nil,
                        logger: logger
                    )
                    return (claimed.index, result)
                }
            }
            var all: [(Int, ChannelOutcome)] = []
            for await item in group { all.append(item) }
            return all.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    /// A channel's claim: its token and the store's decision, or why the store could not be asked.
    private struct Claimed: Sendable {
        var index: Int
        var token: String
        var claim: NotificationClaim?
        var error: String?
    }

    /// Claims `notifier`'s channel with `token`, after `write` if there is one.
    private func claim(
        _ notifier: any Notifier,
        index: Int,
        token: String,
        incident: Incident,
        status: NotificationStatus,
        after write: PendingAnalysisWrite? = nil
    ) async -> Claimed {
        do {
            let claim: NotificationClaim
            if let write {
                claim = try await store.claim(
                    fingerprint: incident.fingerprint,
                    channel: notifier.channel,
                    status: status,
                    token: token,
                    settings: settings(for: notifier.channel),
                    after: write
                )
            } else {
                claim = try await store.claim(
                    fingerprint: incident.fingerprint,
                    channel: notifier.channel,
                    status: status,
                    token: token,
                    settings: settings(for: notifier.channel)
                )
            }
            return Claimed(index: index, token: token, claim: claim)
        } catch {
            return Claimed(index: index, token: token, error: "\(error)")
        }
    }

    /// What the channel's claim comes to: a store error or a skip (logged), or the notification sent.
    private func deliver(
        _ claimed: Claimed,
        with notifier: any Notifier,
        incident: Incident,
        analysis outcome: AnalysisOutcome?,
        deliveries: DeliveryLog?,
        logger: Logger
    ) async -> ChannelOutcome {
        let channel = notifier.channel
        guard let claim = claimed.claim else {
            logger.warning(
                "notification store failed; not notifying",
                metadata: ["channel": "\(channel)", "error": "\(claimed.error ?? "?")"]
            )
            return ChannelOutcome(channel: channel, result: .storeError(claimed.error ?? "?"))
        }
        guard case .send(let kind, let sequence) = claim.decision, let outcome else {
            logger.debug(
                "notification skipped",
                metadata: ["channel": "\(channel)", "decision": "\(claim.decision)"]
            )
            return ChannelOutcome(channel: channel, result: .skipped(claim.decision))
        }
        let notification = IncidentNotification(
            kind: kind,
            incident: incident,
            analysis: outcome,
            sequence: sequence,
            notifiedAt: claim.now,
            previousReference: claim.reference,
            isRetry: claim.previousFailures > 0
        )
        let result = await send(
            notification,
            with: notifier,
            token: claimed.token,
            retry: notification.isRetry,
            deliveries: deliveries,
            logger: logger
        )
        return ChannelOutcome(channel: channel, result: result)
    }

    private func send(
        _ notification: IncidentNotification,
        with notifier: any Notifier,
        token: String,
        retry: Bool,
        deliveries: DeliveryLog?,
        logger: Logger
    ) async -> ChannelOutcome.Result {
        let channel = notifier.channel
        let fingerprint = notification.incident.fingerprint
        if retry { metrics.count(channel: channel, kind: notification.kind, result: .retried) }
        let start = monotonicNow()
        do {
            let report = try await notifier.send(notification)
            metrics.recordLatency(channel: channel, seconds: (monotonicNow() - start).timeInterval)
            for _ in 1..<max(report.attempts, 1) {
                metrics.count(channel: channel, kind: notification.kind, result: .retried)
            }
            metrics.count(channel: channel, kind: notification.kind, result: .sent)
            // The delivery happened: record it now (even through a short store outage, or another sender would
            // repeat it once the send lease expires), or leave it to the caller's ack.
            let delivery = PendingDelivery(
                store: store,
                fingerprint: fingerprint,
                channel: channel,
                token: token,
                status: notification.kind.status,
                reference: report.reference,
                sendLease: settings(for: channel).sendLease
            )
            if let deliveries {
                deliveries.append(delivery)
            } else {
                await delivery.record(logger: logger)
            }
            var sent: Logger.Metadata = [
                "channel": "\(channel)", "kind": "\(notification.kind)", "sequence": "\(notification.sequence)",
                "detail": "\(report.detail ?? "")",
            ]
            // The verdict's ID names the analysis in Errorbrain's logs (the analyzer logs it only at debug).
            if let verdict = notification.analysis.result?.verdictID { sent["verdict"] = "\(verdict)" }
            logger.info("notification sent", metadata: sent)
            return .sent(notification.kind, report)
        } catch {
            metrics.recordLatency(channel: channel, seconds: (monotonicNow() - start).timeInterval)
            metrics.count(channel: channel, kind: notification.kind, result: .failed)
            let failure =
                (error as? NotificationError)
                ?? NotificationError(.transport, "\(channel) send failed", underlying: error)
            var next: Date?
            do {
                next = try await store.markFailed(
                    fingerprint: fingerprint,
                    channel: channel,
                    token: token,
                    error: failure.description,
                    settings: settings(for: channel)
                )
            } catch {
                logger.error(
                    "could not record a failed notification",
                    metadata: ["channel": "\(channel)", "error": .error(error)]
                )
            }
            logger.warning(
                "notification failed",
                metadata: [
                    "channel": "\(channel)", "kind": "\(notification.kind)", "error": "\(failure)",
                    "nextAttemptAt": "\(next.map(RFC3339.string(from:)) ?? "-")",
                ]
            )
            return .failed(notification.kind, failure, nextAttemptAt: next)
        }
    }
}
