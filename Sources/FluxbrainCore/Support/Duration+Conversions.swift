import Foundation

/// The one place a `Duration` becomes a number of a unit (targets that see FluxbrainCore use these; FluxbrainRedis,
/// below it, keeps the conversions its wire format needs).
extension Duration {
    /// The duration in seconds as a `TimeInterval`.
    package var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }

    /// Whole milliseconds, truncated toward zero (possibly zero or negative), saturating at the `Int64` bounds.
    package var wholeMilliseconds: Int64 { whole(unitsPerSecond: 1000) }

    /// Whole milliseconds, at least `minimum` (Redis rejects `PX 0`).
    package func wholeMilliseconds(atLeast minimum: Int64) -> Int64 { Swift.max(minimum, wholeMilliseconds) }

    /// Whole microseconds, truncated toward zero, saturating at the `Int64` bounds.
    package var wholeMicroseconds: Int64 { whole(unitsPerSecond: 1_000_000) }

    /// Whole nanoseconds, truncated toward zero, saturating at the `Int64` bounds (NIO's `TimeAmount` unit).
    package var nanoseconds: Int64 { whole(unitsPerSecond: 1_000_000_000) }

    private func whole(unitsPerSecond: Int64) -> Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: unitsPerSecond)
        if overflow { return seconds < 0 ? .min : .max }
        let fraction = attoseconds / (1_000_000_000_000_000_000 / unitsPerSecond)
        let (sum, sumOverflow) = product.addingReportingOverflow(fraction)
        if sumOverflow { return seconds < 0 ? .min : .max }
        return sum
    }
}
