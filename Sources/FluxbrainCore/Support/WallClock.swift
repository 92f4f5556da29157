import Foundation
import Synchronization

/// A source of wall-clock time (`Date`), injected into anything that stamps, expires or schedules by calendar time.
///
/// `Clock` from the standard library measures durations; a `WallClock` says what time it is, which is what
/// shared state (backoff deadlines, cache entries, leases) stores. Production code uses `SystemWallClock`;
/// tests use `ManualWallClock` and move time by hand.
package protocol WallClock: Sendable {
    /// The current time.
    func now() -> Date
}

/// The system's wall clock.
package struct SystemWallClock: WallClock {
    package init() {}

    package func now() -> Date { Date() }
}

/// A wall clock that only moves when told to; for tests.
package final class ManualWallClock: WallClock {
    private let current: Mutex<Date>

    /// A clock that reads `start` until advanced.
    package init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        self.current = Mutex(start)
    }

    package func now() -> Date { current.withLock { $0 } }

    /// Moves the clock forward (or backward, for a negative duration) by `duration`.
    package func advance(by duration: Duration) {
        current.withLock { $0 = $0.addingTimeInterval(duration.timeInterval) }
    }

    /// Sets the clock to `date`.
    package func set(_ date: Date) {
        current.withLock { $0 = date }
    }
}
