import FluxbrainCore
import FluxbrainTestSupport
import Foundation
import Synchronization
import Testing

@testable import FluxbrainService

/// A delivery the processor leaves for the worker (recorded with the item's ack) is recorded whatever becomes of the
/// item: acked, retried, failed, stopped by a lost lease, or when the ack's round trip fails.
@Suite struct DeliveryRecordingTests {
    /// How the processor ends after its delivery.
    enum Ending: Sendable, CaseIterable, CustomTestStringConvertible {
        case done
        case retry
        case failure
        var testDescription: String { "\(self)" }
    }

    static let settings = NotificationSettings(sendLease: .seconds(600))

    @Test(arguments: Backend.all, Ending.allCases)
    func aDeliveryLeftForTheAckIsRecordedHoweverTheItemEnds(_ backend: Backend, _ ending: Ending) async throws {
        try await backend.with { world in
            let store: any NotificationStore = InMemoryNotificationStore()
            let processor = DeliveringProcessor(store: store, ending: ending)
            try await world.enqueueOne()
            try await world.running([world.pool(queue: world.coordination, processor: processor)]) { _ in
                #expect(await eventually { processor.delivered == 1 })
                #expect(
                    try await eventually {
                        try await store.state(fingerprint: processor.fingerprint, channel: .webhook)?.notifyCount == 1
                    },
                    "the delivery was not recorded"
                )
                let state = try await store.state(fingerprint: processor.fingerprint, channel: .webhook)
                #expect(state?.claim == nil)
                let settled = try await eventually {
                    let stats = try await world.coordination.stats()
                    return ending == .done ? stats.pending == 0 : stats.delayed == 1
                }
                #expect(settled, "the item was not acked or nacked")
            }
        }
    }

    @Test(arguments: Backend.all)
    func aDeliveryIsRecordedWhenTheLeaseIsLostAfterIt(_ backend: Backend) async throws {
        try await backend.with { world in
            let store: any NotificationStore = InMemoryNotificationStore()
            let processor = DeliveringProcessor(store: store, ending: nil)
            let queue = ObservedQueue(world.coordination)
            try await world.enqueueOne()
            try await world.running([world.pool(queue: queue, processor: processor)]) { _ in
                #expect(await eventually { processor.delivered == 1 })
                // The worker stalls past its lease; the item is reaped and claimed elsewhere…
                queue.pauseHeartbeats(true)
                for _ in 1...4 { try await world.elapse(world.lease / 3, sleepers: 2) }
                try await world.elapse(.zero, sleepers: 2)
                _ = try await world.coordination.reap()
                _ = try #require(try await world.coordination.claim(worker: "other/0", lease: world.lease))
                // …and its next heartbeat stops the item: the delivery it made is recorded all the same.
                queue.pauseHeartbeats(false)
                try await world.elapse(world.lease / 3, sleepers: 2)
                #expect(await eventually { world.workItems("lost") == 1 })
                #expect(
                    try await eventually {
                        try await store.state(fingerprint: processor.fingerprint, channel: .webhook)?.notifyCount == 1
                    },
                    "the delivery was not recorded"
                )
            }
        }
    }

    @Test(arguments: Backend.all)
    func aDeliveryIsRecordedWhenTheAckRoundTripFails(_ backend: Backend) async throws {
        try await backend.with { world in
            let store: any NotificationStore = InMemoryNotificationStore()
            let processor = DeliveringProcessor(store: store, ending: .done)
            try await world.enqueueOne()
            let queue = ObservedQueue(world.coordination)
            queue.failAcks()
            try await world.running([world.pool(queue: queue, processor: processor)]) { _ in
                #expect(await eventually { queue.failedAcks == 1 })
                let recorded = try await eventually {
                    try await store.state(fingerprint: processor.fingerprint, channel: .webhook)?.notifyCount == 1
                }
                #expect(recorded, "the delivery was not recorded")
                // Not acked: still pending (its lease runs out and the reaper returns it).
                let key = WorkItem(transition: .firing, incident: FixedSource.incident).key
                let pending = try await world.coordination.isPending(key: key)
                #expect(pending)
            }
        }
    }
}

/// Claims the webhook channel for the item's incident, "delivers", leaves the delivery in the worker's log and then
/// ends as told (`nil`: waits until cancelled).
final class DeliveringProcessor: IncidentProcessor {
    let store: any NotificationStore
    let ending: DeliveryRecordingTests.Ending?
    private let state = Mutex((delivered: 0, fingerprint: Fingerprint?.none))

    init(store: any NotificationStore, ending: DeliveryRecordingTests.Ending?) {
        self.store = store
        self.ending = ending
    }

    var delivered: Int { state.withLock { $0.delivered } }
    var fingerprint: Fingerprint { state.withLock { $0.fingerprint! } }

    struct Failed: Error {}

    func process(_ item: WorkItem) async throws -> ProcessingResult {
        Issue.record("the worker must pass its delivery log")
        return .done
    }

    func process(_ item: WorkItem, deliveries: DeliveryLog) async throws -> ProcessingResult {
        let fingerprint = item.incident.fingerprint
        let token = UUID().uuidString
        let claim = try await store.claim(
            fingerprint: fingerprint,
            channel: .webhook,
            status: .firing,
            token: token,
            settings: DeliveryRecordingTests.settings
        )
        guard case .send = claim.decision else { return .done }
        deliveries.append(
            PendingDelivery(
                store: store,
                fingerprint: fingerprint,
                channel: .webhook,
                token: token,
                status: .firing,
                reference: nil,
                sendLease: DeliveryRecordingTests.settings.sendLease
            )
        )
        state.withLock {
            $0.delivered += 1
            $0.fingerprint = fingerprint
        }
        switch ending {
        case .done: return .done
        case .retry: return .retry(after: .seconds(3600), reason: "another channel failed")
        case .failure: throw Failed()
        case nil:
            while true { try await Task.sleep(for: .milliseconds(5)) }
        }
    }
}
