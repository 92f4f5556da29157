import FluxbrainCoordination
import FluxbrainCore
import FluxbrainTestSupport
import Foundation
import Logging
import Metrics
import MetricsTestKit
import Synchronization
import Testing

@testable import FluxbrainService

/// When the leader's loop runs a pass, given when watch events arrive: one table row per situation, on a manual
/// clock (100 ms debounce, so a row reads in milliseconds).
@Suite struct SchedulerTimingTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        /// Watch events, in ms on the clock.
        var changes: [Int] = []
        var resyncMs = 60_000
        /// The clock runs until this moment.
        var untilMs = 2_000
        /// When passes start, in ms: the first (a full resync) at 0, when leadership is there.
        var passes: [Int]

        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row(name: "no change: only the first pass", passes: [0]),
        Row(
            name: "a lone change after a quiet spell runs a pass at once",
            changes: [1_000],
            passes: [0, 1_000]
        ),
        Row(
            name: "a change soon after a pass waits out the rest of the debounce",
            changes: [30],
            passes: [0, 100]
        ),
        Row(
            name: "a burst: the first change at once, the rest in one pass a debounce later",
            changes: [1_000, 1_010, 1_020, 1_050, 1_090],
            passes: [0, 1_000, 1_100]
        ),
        Row(
            name: "changes that keep coming: at most one pass per debounce",
            changes: [1_000, 1_050, 1_150],
            passes: [0, 1_000, 1_100, 1_200]
        ),
        Row(
            name: "a change well after the previous debounce runs at once again",
            changes: [1_000, 1_040, 1_500],
            passes: [0, 1_000, 1_100, 1_500]
        ),
        Row(
            name: "no change: a full resync every interval, without a debounce",
            resyncMs: 1_000,
            untilMs: 3_500,
            passes: [0, 1_000, 2_000, 3_000]
        ),
    ]

    @Test(arguments: rows)
    func passesStartWhenTheTableSays(_ row: Row) async throws {
        let clock = ManualClock()
        let source = ScriptedSource(clock: clock, changes: row.changes.map { .milliseconds($0) })
        let coordination = InMemoryCoordination(maxAttempts: 5, clock: clock.wall)
        let leadership = Leadership(ttl: .seconds(3600), clock: clock)
        let lease = try #require(await coordination.acquire(replicaID: "r", ttl: .seconds(3600)))
        leadership.update { $0.acquireReturned(lease, sentAt: leadership.now) }
        let scheduler = Scheduler(
            configuration: .init(resyncInterval: .milliseconds(row.resyncMs), debounce: .milliseconds(100)),
            source: source,
            queue: coordination,
            index: coordination,
            leadership: leadership,
            clock: clock,
            wallClock: clock.wall,
            metricsFactory: TestMetrics(),
            logger: Logger(label: "timing", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        let until = clock.now.advanced(by: .milliseconds(row.untilMs))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await scheduler.run() }
            // The loop sleeps on the clock (its own wait or the source's) between passes: move time to each
            // deadline in turn, so every pass runs at the moment the loop chose.
            while true {
                try await clock.waitForSleepers(1)
                guard let next = clock.nextDeadline, next <= until else { break }
                clock.advance(by: clock.now.duration(to: next))
            }
            group.cancelAll()
        }
        #expect(source.passes == row.passes.map { .milliseconds($0) })
    }
}

/// Nothing to report; watch events at fixed moments on a manual clock; records when each pass looked.
final class ScriptedSource: IncidentSource {
    private let clock: ManualClock
    private let changes: [Duration]
    /// Changes at or before this moment were seen by a pass or a `waitForChange` (as `ChangeSignal` forgets them).
    private let seenUntil = Mutex<Duration>(.milliseconds(-1))
    private let looked = Mutex<[Duration]>([])

    init(clock: ManualClock, changes: [Duration]) {
        self.clock = clock
        self.changes = changes
    }

    var passes: [Duration] { looked.withLock { $0 } }

    func assess(now: Date) async throws -> SourceAssessment {
        let now = clock.now.offset
        looked.withLock { $0.append(now) }
        seenUntil.withLock { $0 = now }
        return SourceAssessment(clusters: [ClusterAssessment(cluster: "prod", assessment: Assessment(incidents: []))])
    }

    func enrich(_ incidents: [Incident]) async -> [Incident] { incidents }

    /// Returns at once when a change came since the last pass or call, else sleeps until the next change or
    /// `timeout`.
    func waitForChange(timeout: Duration) async throws {
        let now = clock.now.offset
        let seen = seenUntil.withLock { $0 }
        if !changes.contains(where: { $0 > seen && $0 <= now }) {
            let next = changes.first { $0 > now }.map { min($0, now + timeout) } ?? now + timeout
            try await clock.sleep(until: clock.now.advanced(by: next - now))
        }
        let woke = clock.now.offset
        seenUntil.withLock { $0 = woke }
    }
}
