import Foundation
import Logging
import Synchronization

/// A notification that was delivered but is not recorded yet (``NotificationStore/markSent``): the dispatcher leaves
/// it to the worker, which records it together with the work item's ack, in one round trip on Redis
/// (``WorkQueue/ack(_:recording:thenClaimFor:lease:)``).
///
/// Recording is safe to repeat: `markSent` only applies while the token holds the claim, and drops the claim when it
/// does, so a second call changes nothing.
package struct PendingDelivery: Sendable {
    /// The store that holds the claim.
    package var store: any NotificationStore
    package var fingerprint: Fingerprint
    package var channel: ChannelID
    /// The claim's token.
    package var token: String
    package var status: NotificationStatus
    /// The reference the notifier reported (``DeliveryReport/reference``).
    package var reference: String?
    /// The channel's send lease: recording is retried through store failures for about half of it.
    package var sendLease: Duration

    package init(
        store: any NotificationStore,
        fingerprint: Fingerprint,
        channel: ChannelID,
        token: String,
        status: NotificationStatus,
        reference: String?,
        sendLease: Duration
    ) {
        self.store = store
        self.fingerprint = fingerprint
        self.channel = channel
        self.token = token
        self.status = status
        self.reference = reference
        self.sendLease = sendLease
    }

    /// One `markSent`; `false` if the token no longer held the claim.
    package func markSent() async throws -> Bool {
        try await store.markSent(
            fingerprint: fingerprint,
            channel: channel,
            token: token,
            status: status,
            reference: reference
        )
    }

    /// `markSent` of each delivery, in order, one call each: which were late (the token no longer held the claim)
    /// and which failed (a store error; the caller records them again).
    package static func markSent(
        _ deliveries: [PendingDelivery]
    ) async -> (late: [PendingDelivery], unrecorded: [PendingDelivery]) {
        var late: [PendingDelivery] = []
        var unrecorded: [PendingDelivery] = []
        for delivery in deliveries {
            do {
                if try await !delivery.markSent() { late.append(delivery) }
            } catch {
                unrecorded.append(delivery)
            }
        }
        return (late, unrecorded)
    }

    /// Logs what a `markSent` answered: `false` means the delivery happened after the send lease expired (another
    /// sender may repeat it). With `repeated`, an earlier attempt may have applied already, so `false` says nothing.
    package func reportRecorded(_ applied: Bool, repeated: Bool = false, logger: Logger) {
        guard !applied, !repeated else { return }
        logger.warning(
            "notification delivered after its send lease expired",
            metadata: ["channel": "\(channel)", "status": "\(status)"]
        )
    }

    /// Records the delivery, retrying through a short store outage (a Redis restart) for about half the send lease,
    /// or another sender would repeat it once the lease expires. Never throws: a delivery that cannot be recorded
    /// is logged as an error.
    ///
    /// - Parameter repeated: an earlier attempt may have applied (its outcome was unknown), so a `false` answer is
    ///   not reported as a late delivery.
    package func record(repeated: Bool = false, logger: Logger) async {
        var backoff = Backoff(base: .milliseconds(200), maximum: .seconds(5), growth: .exponential(factor: 2))
        var delay = backoff.next()
        var waited = Duration.zero
        while true {
            do {
                reportRecorded(try await markSent(), repeated: repeated, logger: logger)
                return
            } catch {
                if waited >= sendLease / 2 {
                    logger.error(
                        "could not record a delivered notification; it may be sent again",
                        metadata: ["channel": "\(channel)", "error": .error(error)]
                    )
                    return
                }
                logger.warning(
                    "recording a delivered notification failed; retrying",
                    metadata: ["channel": "\(channel)", "error": .error(error)]
                )
                try? await Task.sleep(for: delay)
                waited += delay
                delay = backoff.next()
            }
        }
    }
}

/// The deliveries of one work item that the dispatcher left for the worker to record with the item's ack (see
/// ``PendingDelivery``). The worker takes them once processing returned, whatever the outcome, and records them
/// with the ack, or on their own before a nack or after a lost lease: a delivery is never left unrecorded.
package final class DeliveryLog: Sendable {
    private let deliveries = Mutex<[PendingDelivery]>([])

    package init() {}

    /// Adds a delivery to record.
    package func append(_ delivery: PendingDelivery) {
        deliveries.withLock { $0.append(delivery) }
    }

    /// The deliveries added so far; the log is empty afterwards.
    package func take() -> [PendingDelivery] {
        deliveries.withLock { list in
            defer { list = [] }
            return list
        }
    }
}
