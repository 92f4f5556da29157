import Foundation

/// How long to wait after a number of consecutive failures: a step that grows with each failure, capped, optionally
/// jittered. Every retry wait in Fluxbrain is one of these; each caller keeps its own numbers:
///
/// | caller | growth | base | maximum | jitter |
/// | --- | --- | --- | --- | --- |
/// | analysis retries (`FLUXBRAIN_BACKOFF_BASE`/`_MAX`) | linear | 30s | 1h | none |
/// | notification sends (`NotificationSettings`) | linear | 30s | 1h | none |
/// | notifier 5xx retries (`HTTPRetryPolicy`) | linear | 1s | none | none |
/// | Errorbrain tries within one attempt | ×2 | 500ms | 5s | scaled to 50–100 % |
/// | Kubernetes list/watch restarts (client-go's reflector) | ×2 | 800ms | 30s | up to +100 % |
/// | recording a delivered notification | ×2 | 200ms | 5s | none |
///
/// Pure: `delay(afterFailures:random:)` computes a wait; ``next(random:)`` and ``reset()`` count failures for a
/// loop that keeps the value. The caller sleeps.
package struct Backoff: Sendable, Hashable {
    /// How the step grows with the number of failures `n` (1 for the first failure).
    package enum Growth: Sendable, Hashable {
        /// `n × base`.
        case linear
        /// `base × factor^(n-1)`.
        case exponential(factor: Double)
    }

    /// How randomness spreads the waits of many clients apart; `random` is a number in 0...1.
    package enum Jitter: Sendable, Hashable {
        /// The step as it is.
        case none
        /// Adds up to `fraction` of the step (`step × (1 + fraction × random)`), still at most `maximum`
        /// (client-go's `wait.Jitter`).
        case adding(upTo: Double)
        /// Scales the step to between `lowest` and all of it: `step × (lowest + (1 - lowest) × random)`.
        case scaling(from: Double)
    }

    /// The step for the first failure (and what `linear` adds per failure).
    package var base: Duration
    /// The longest step; jitter never goes past it either.
    package var maximum: Duration
    package var growth: Growth
    package var jitter: Jitter
    /// Failures counted by ``next(random:)`` since the last ``reset()``.
    private var failures = 0

    /// A backoff; the defaults are those of the analysis retry: `failures × 30s`, at most 1h, no jitter.
    /// - Parameter maximum: the cap; pass ``unbounded`` for none.
    package init(
        base: Duration = .seconds(30),
        maximum: Duration = .seconds(3600),
        growth: Growth = .linear,
        jitter: Jitter = .none
    ) {
        self.base = base
        self.maximum = maximum
        self.growth = growth
        self.jitter = jitter
    }

    /// A cap no wait reaches (about 292 billion years).
    package static let unbounded = Duration.seconds(Int64.max)

    /// The wait after `failures` consecutive failures; zero for none (or a zero base).
    /// - Parameter random: a number in 0...1 that picks within the jitter (ignored without jitter).
    package func delay(afterFailures failures: Int, random: Double = 0) -> Duration {
        guard failures > 0, base > .zero else { return .zero }
        let step = self.step(failures)
        switch jitter {
        case .none:
            return step
        case .adding(let fraction):
            return min(maximum, step + step * (fraction * random))
        case .scaling(let lowest):
            return step * (lowest + (1 - lowest) * min(max(random, 0), 1))
        }
    }

    /// When the next try is due after `failures` failures, the last one at `failedAt` (no jitter).
    package func nextAttempt(afterFailures failures: Int, failedAt: Date) -> Date {
        failedAt.addingTimeInterval(delay(afterFailures: failures).timeInterval)
    }

    /// Counts one more failure and returns its wait.
    package mutating func next(random: Double = Double.random(in: 0..<1)) -> Duration {
        if failures < Int.max { failures += 1 }
        return delay(afterFailures: failures, random: random)
    }

    /// Back to the first step after a success.
    package mutating func reset() { failures = 0 }

    /// The step before jitter, at most `maximum`; ratios are compared first so a huge count cannot overflow.
    private func step(_ failures: Int) -> Duration {
        switch growth {
        case .linear:
            if Double(failures) >= maximum / base { return maximum }
            return min(base * failures, maximum)
        case .exponential(let factor):
            let scale = pow(factor, Double(failures - 1))
            guard scale.isFinite, scale < maximum / base else { return maximum }
            return min(base * scale, maximum)
        }
    }
}
