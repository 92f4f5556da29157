import FluxbrainCore
import Foundation
import Synchronization

/// The one clock tests move by hand: a `Clock` for sleeps and durations and, through ``wall``, the `WallClock`
/// that reads the same moment as a `Date`.
///
/// A sleep suspends until ``advance(by:)`` moves time past its deadline (or the sleeping task is cancelled), so a
/// test decides when every timer of the code under test fires. ``waitForSleepers(_:)`` waits until that many tasks
/// sleep on the clock: the point where a test may move time knowing who is waiting.
package final class ManualClock: Clock, Sendable {
    package struct Instant: InstantProtocol, Hashable {
        /// Time since the clock was made.
        package var offset: Duration

        package func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        package func duration(to other: Instant) -> Duration { other.offset - offset }
        package static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private struct Sleeper {
        var deadline: Instant
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now = Instant(offset: .zero)
        var sleepers: [UUID: Sleeper] = [:]
    }

    private let state = Mutex(State())
    private let start: Date

    /// A clock whose wall-clock reading starts at `start`.
    package init(start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        self.start = start
    }

    package var now: Instant { state.withLock { $0.now } }
    package var minimumResolution: Duration { .nanoseconds(1) }

    /// The wall-clock reading of the same moment.
    package var date: Date { start.addingTimeInterval(now.offset.timeInterval) }

    /// This clock as a `WallClock`.
    package var wall: any WallClock { Wall(clock: self) }

    /// `date` as a closure.
    package var dateNow: @Sendable () -> Date { { [self] in self.date } }

    /// How many tasks sleep on this clock now.
    package var sleepers: Int { state.withLock { $0.sleepers.count } }

    /// The earliest deadline a task sleeps until now, if any: where ``advance(by:)`` must go to wake someone.
    package var nextDeadline: Instant? { state.withLock { $0.sleepers.values.map(\.deadline).min() } }

    package func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        let id = UUID()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                // Checked under the lock: a cancellation that came before this registration resumes it here.
                let outcome: Result<Void, any Error>? = state.withLock { state in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if deadline <= state.now { return .success(()) }
                    state.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            state.withLock { $0.sleepers.removeValue(forKey: id) }?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time forward by `duration` and wakes every sleeper whose deadline has come, earliest first.
    package func advance(by duration: Duration) {
        let due: [Sleeper] = state.withLock { state in
            state.now = state.now.advanced(by: duration)
            let now = state.now
            let due = state.sleepers.filter { $0.value.deadline <= now }
            for id in due.keys { state.sleepers.removeValue(forKey: id) }
            return due.values.sorted { $0.deadline < $1.deadline }
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Waits (in real time, up to `timeout`) until at least `count` tasks sleep on this clock.
    package func waitForSleepers(_ count: Int, timeout: Duration = .seconds(10)) async throws {
        let satisfied = try await eventually(timeout: timeout, poll: .milliseconds(1)) { self.sleepers >= count }
        if !satisfied {
            let deadlines = state.withLock { state in
                state.sleepers.values.map { "\($0.deadline.offset)" }.sorted().joined(separator: ", ")
            }
            throw ManualClockTimeout(
                description:
                    "\(sleepers) tasks sleep on the clock at \(now.offset) (until \(deadlines)), expected \(count)"
            )
        }
    }

    /// Waits (in real time, up to `timeout`) until a task sleeps until exactly `deadline`: a timer was set.
    package func waitForSleeper(until deadline: Instant, timeout: Duration = .seconds(10)) async throws {
        let satisfied = try await eventually(timeout: timeout, poll: .milliseconds(1)) {
            self.state.withLock { $0.sleepers.values.contains { $0.deadline == deadline } }
        }
        if !satisfied { throw ManualClockTimeout(description: "no task sleeps until \(deadline.offset)") }
    }

    /// Advances in `step`s until `condition` holds, letting the code under test run between steps; gives up after
    /// `limit` of clock time.
    @discardableResult
    package func advance(
        by step: Duration,
        until condition: @Sendable () async throws -> Bool,
        limit: Duration = .seconds(600)
    ) async throws -> Bool {
        var moved = Duration.zero
        while moved <= limit {
            if try await condition() { return true }
            try await settle()
            advance(by: step)
            moved += step
            try await settle()
        }
        return try await condition()
    }

    /// Lets other tasks run until the number of sleepers stops changing for a few real milliseconds.
    package func settle() async throws {
        var previous = -1
        var stable = 0
        while stable < 5 {
            try await Task.sleep(for: .milliseconds(2))
            let current = sleepers
            stable = current == previous ? stable + 1 : 0
            previous = current
        }
    }

    private struct Wall: WallClock {
        let clock: ManualClock
        func now() -> Date { clock.date }
    }
}

/// `ManualClock.waitForSleepers` gave up.
package struct ManualClockTimeout: Error, CustomStringConvertible {
    package var description: String
}

/// Polls `condition` every `poll` in real time until it holds or `timeout` passes; returns whether it held.
///
/// The one `eventually` of the test suites: for conditions another process or thread makes true.
package func eventually(
    timeout: Duration = .seconds(10),
    poll: Duration = .milliseconds(20),
    _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: poll)
    }
    return try await condition()
}
