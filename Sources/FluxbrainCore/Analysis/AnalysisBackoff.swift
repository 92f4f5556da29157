import Foundation

/// How long an incident waits before its analysis is tried again: `failures × base`, capped at `maximum`. The one
/// linear backoff: a failing notification channel waits by the same formula (`NotificationSettings.backoff`).
///
/// Linear, not exponential: with the defaults (`FLUXBRAIN_BACKOFF_BASE` 30s, `FLUXBRAIN_BACKOFF_MAX` 1h) the
/// first five waits are 30s, 60s, 90s, 120s and 150s, and the cap is reached at 120 failures. Pure: no clock.
package struct AnalysisBackoff: Sendable, Hashable {
    /// The step added per failure (`FLUXBRAIN_BACKOFF_BASE`, default 30s).
    package var base: Duration
    /// The longest wait (`FLUXBRAIN_BACKOFF_MAX`, default 1h).
    package var maximum: Duration

    /// A backoff of `failures × base`, at most `maximum`.
    package init(base: Duration = .seconds(30), maximum: Duration = .seconds(3600)) {
        self.base = base
        self.maximum = maximum
    }

    /// The wait after `failures` consecutive failures: `min(failures × base, maximum)`; zero for no failures.
    package func delay(afterFailures failures: Int) -> Duration {
        guard failures > 0, base > .zero else { return .zero }
        // Compare as a ratio first so a huge failure count cannot overflow `Duration`.
        if Double(failures) >= maximum / base { return maximum }
        return min(base * failures, maximum)
    }

    /// When the next try is due after `failures` failures, the last one at `failedAt`.
    package func nextAttempt(afterFailures failures: Int, failedAt: Date) -> Date {
        failedAt.addingTimeInterval(delay(afterFailures: failures).timeInterval)
    }
}
