/// A conformance check on real time (Redis `TIME`) that had to act before a deadline did not get to run in time: the
/// test process was stalled on a busy machine. The check proves nothing either way, so it is run again; a store that
/// decides wrongly inside the window still fails it.
package struct MissedWindow: Error, CustomStringConvertible {
    package var description: String
}

/// Throws ``MissedWindow`` unless less than `window` has passed on the continuous clock since `start`.
///
/// Taken after the call whose answer depends on the deadline returned, with `start` read before the call that set
/// the deadline: the server then decided inside the window, whatever the machine did in between.
package func requireInside(
    _ window: Duration,
    since start: ContinuousClock.Instant,
    _ what: @autoclosure () -> String
) throws {
    let elapsed = ContinuousClock.now - start
    if elapsed >= window {
        throw MissedWindow(description: "\(what()): \(elapsed) passed, the window is \(window)")
    }
}

/// Runs `body` again while it throws ``MissedWindow``, at most `attempts` times in all; rethrows the last one.
package func retryingMissedWindows<T>(attempts: Int = 3, _ body: () async throws -> T) async throws -> T {
    var attempt = 1
    while true {
        do {
            return try await body()
        } catch let missed as MissedWindow {
            if attempt >= attempts { throw missed }
            attempt += 1
        }
    }
}
