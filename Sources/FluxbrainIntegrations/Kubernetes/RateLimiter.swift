import FluxbrainCore

/// A token bucket: `qps` tokens per second refill a bucket of `burst`; every request takes one. Pure state, no I/O:
/// `reserve(at:)` says how long the caller must wait for its token.
package struct TokenBucket: Sendable, Hashable {
    package let qps: Double
    package let burst: Double
    private var tokens: Double
    private var last: Duration

    package init(qps: Double, burst: Int) {
        precondition(qps > 0 && burst >= 1, "a token bucket needs qps > 0 and burst >= 1")
        self.qps = qps
        self.burst = Double(burst)
        self.tokens = Double(burst)
        self.last = .zero
    }

    /// Takes a token at time `now` (elapsed since some origin, non-decreasing). Returns `.zero` when a token was
    /// available, else how long to wait; the token is reserved either way, so waiting callers queue fairly.
    package mutating func reserve(at now: Duration) -> Duration {
        if now > last {
            let refill = (now - last).timeInterval * qps
            tokens = min(burst, tokens + refill)
            last = now
        }
        tokens -= 1
        if tokens >= 0 { return .zero }
        return .nanoseconds(Int64((-tokens / qps * 1e9).rounded(.up)))
    }
}

/// The client-side rate limit of one API server: a token bucket on an injected clock.
package actor RateLimiter {
    private var bucket: TokenBucket
    private let clock: any Clock<Duration>
    private let elapsed: @Sendable () -> Duration

    /// `qps` requests per second on average, up to `burst` at once (client-go's defaults are 5/10; Flux's
    /// controllers use 50/300; Fluxbrain defaults to 20/50).
    package init(qps: Double = 20, burst: Int = 50, clock: any Clock<Duration> = ContinuousClock()) {
        self.bucket = TokenBucket(qps: qps, burst: burst)
        self.clock = clock
        self.elapsed = elapsedTime(on: clock)
    }

    /// Waits for a token.
    package func acquire() async throws {
        let wait = bucket.reserve(at: elapsed())
        if wait > .zero {
            try await clock.sleep(for: wait)
        }
    }
}

extension Backoff {
    /// Kubernetes list/watch restarts, as client-go's reflector: 800 ms × 2 up to 30 s, adding up to 100 % jitter;
    /// reset after a clean end of a watch.
    package static let kubernetesWatch = Backoff(
        base: .milliseconds(800),
        maximum: .seconds(30),
        growth: .exponential(factor: 2),
        jitter: .adding(upTo: 1)
    )
}
