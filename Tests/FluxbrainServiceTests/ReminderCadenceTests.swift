import FluxbrainCore
import FluxbrainTestSupport
import Foundation
import Logging
import Metrics
import MetricsTestKit
import Testing

@testable import FluxbrainService

/// The scheduler offers open incidents again on every resync, which the runtime shortens to an Alertmanager
/// channel's `resendInterval` (``ChannelDefinition/reminderInterval(_:resync:)``, table-tested with the channels), so
/// that the channel's re-sends really happen: on `InMemoryCoordination` with a manual clock, the worker side simulated
/// by draining the queue after each step.
@Suite struct ReminderCadenceTests {
    /// (resync interval, firing items enqueued for one open incident during 190 s)
    @Test(arguments: [
        (Duration.seconds(300), 1),
        (.seconds(60), 4),
        (.seconds(30), 7),
        (.seconds(600), 1),
    ])
    func openIncidentsAreOfferedAtTheReminderCadence(resync: Duration, expected: Int) async throws {
        let clock = ManualClock()
        let coordination = InMemoryCoordination(maxAttempts: 5, clock: clock.wall)
        let metrics = TestMetrics()
        let leadership = Leadership(ttl: .seconds(3600), clock: clock)
        let lease = try #require(try await coordination.acquire(replicaID: "a", ttl: .seconds(3600)))
        leadership.update { $0.acquireReturned(lease, sentAt: leadership.now) }
        let scheduler = Scheduler(
            configuration: .init(resyncInterval: resync, debounce: .seconds(1)),
            source: FixedSource(),
            queue: coordination,
            index: coordination,
            leadership: leadership,
            clock: clock,
            wallClock: clock.wall,
            metricsFactory: metrics,
            logger: quietLogger
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await scheduler.run() }
            for _ in 0..<190 {
                try await clock.waitForSleepers(1)
                // The workers: every offered item is processed and acked before the next pass.
                while let claim = try await coordination.claim(worker: "w", lease: .seconds(30)) {
                    _ = try await coordination.ack(claim)
                }
                clock.advance(by: .seconds(1))
            }
            group.cancelAll()
        }
        #expect(
            metrics.counterTotal(label: "fluxbrain_enqueued_total", dimensions: [("transition", "firing")]) == expected
        )
    }
}
