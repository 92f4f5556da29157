import FluxbrainCore
import FluxbrainRedis
import Foundation
import Synchronization

/// Redis `TIME` without a round trip per reading: an anchor (a `TIME` reply and the local monotonic reading at the
/// middle of its round trip), advanced by the injected monotonic clock and measured again at most every `refresh`.
///
/// Precision (see docs/coordination.md, "Store time"): a reading is off from Redis `TIME` by at most half the round
/// trip of the anchor's `TIME` (the best of up to three samples; well under a millisecond on a LAN) plus how far the
/// local monotonic clock and Redis' wall clock drift apart within `refresh` (at NTP's maximum slew of 500 ppm, 2.5 ms
/// in 5 s; in practice microseconds). A step of Redis' clock shows at the next refresh. Two replicas therefore agree
/// within twice that, whatever their own wall clocks say. Readings are whole milliseconds, like every timestamp the
/// scripts write.
package final class RedisTime: Sendable {
    /// How often the anchor is measured again by default.
    package static let defaultRefresh: Duration = .seconds(5)

    private struct Anchor {
        /// Redis `TIME` in microseconds since 1970.
        var redisMicroseconds: Int64
        /// The monotonic reading that `redisMicroseconds` corresponds to (the middle of the round trip).
        var at: Duration
        var roundTrip: Duration
    }

    private let client: RedisClient
    private let refresh: Duration
    private let elapsed: @Sendable () -> Duration
    private let anchor = Mutex<Anchor?>(nil)

    /// - Parameters:
    ///   - client: the Redis client.
    ///   - clock: the monotonic clock that advances the anchor between refreshes (`ContinuousClock` in production).
    ///   - refresh: how long one anchor is used before `TIME` is asked again (default 5 s).
    package init(
        client: RedisClient,
        clock: any Clock<Duration> = ContinuousClock(),
        refresh: Duration = defaultRefresh
    ) {
        self.client = client
        self.refresh = refresh
        self.elapsed = elapsedTime(on: clock)
    }

    /// The current Redis time, in whole milliseconds.
    package func now() async throws -> Date {
        let reading = elapsed()
        if let anchor = anchor.withLock({ $0 }), reading >= anchor.at, reading - anchor.at < refresh {
            return Self.date(anchor, at: reading)
        }
        let fresh = try await measure()
        anchor.withLock { current in
            if current == nil || current!.at < fresh.at { current = fresh }
        }
        // The `TIME` just read, as a call to `TIME` would have answered: never later than the store's clock when the
        // reply arrived (an estimate from the middle of the round trip could be, when the request waited long).
        return Self.date(fresh, at: fresh.at)
    }

    /// The round trip of the anchor in use, if one was measured (for tests and diagnostics).
    package var anchorRoundTrip: Duration? { anchor.withLock { $0?.roundTrip } }

    private static func date(_ anchor: Anchor, at reading: Duration) -> Date {
        let micros = anchor.redisMicroseconds + (reading - anchor.at).wholeMicroseconds
        return Date(milliseconds: micros / 1000)
    }

    /// Up to three `TIME` samples, stopping at one whose round trip is under a millisecond; the shortest wins.
    private func measure() async throws -> Anchor {
        var best: Anchor?
        for _ in 0..<3 {
            let before = elapsed()
            let reply: RedisReply
            do {
                reply = try await client.send(RedisCommand("TIME").idempotent())
            } catch {
                throw CoreError(.unavailable, "reading Redis TIME failed", underlying: error)
            }
            let after = elapsed()
            guard let parts = reply.array, parts.count == 2, let seconds = parts[0].integer,
                let micros = parts[1].integer
            else { throw CoreError(.invalidInput, "Redis TIME returned an unexpected reply: \(reply)") }
            let roundTrip = after - before
            let sample = Anchor(
                redisMicroseconds: seconds * 1_000_000 + micros,
                at: before + roundTrip / 2,
                roundTrip: roundTrip
            )
            if best == nil || roundTrip < best!.roundTrip { best = sample }
            if roundTrip < .milliseconds(1) { break }
        }
        return best!
    }
}
