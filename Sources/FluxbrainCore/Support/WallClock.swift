import Foundation
import Synchronization

/// A source of wall-clock time (`Date`), injected into anything that stamps, expires or schedules by calendar time.
///
/// `Clock` from the standard library measures durations; a `WallClock` says what time it is, which is what
/// shared state (backoff deadlines, cache entries, leases) stores. Production code uses `SystemWallClock`;
/// tests use the test support's `ManualClock`, whose `wall` reads the moment its monotonic
/// side has reached. Durations, sleeps and timeouts use an injected `any Clock<Duration>` instead.
package protocol WallClock: Sendable {
    /// The current time.
    func now() -> Date
}

/// The system's wall clock.
package struct SystemWallClock: WallClock {
    package init() {}

    package func now() -> Date { Date() }
}

/// A function giving the time elapsed on `clock` since this call: lets types hold `any Clock<Duration>` and still
/// measure intervals.
package func elapsedTime(on clock: any Clock<Duration>) -> @Sendable () -> Duration {
    func make<C: Clock<Duration>>(_ clock: C) -> @Sendable () -> Duration {
        let origin = clock.now
        return { origin.duration(to: clock.now) }
    }
    return make(clock)
}
