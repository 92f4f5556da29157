import FluxbrainCore
import Testing

@Suite struct AnalysisBackoffTests {
    /// (failures, expected wait in seconds) with the defaults: 30s steps, capped at 1h.
    static let table: [(Int, Int64)] = [
        (0, 0), (1, 30), (2, 60), (3, 90), (4, 120), (5, 150), (119, 3570), (120, 3600), (121, 3600), (200, 3600),
        (Int.max, 3600),
    ]

    @Test(arguments: table)
    func waitsFailuresTimesBaseCappedAtMaximum(failures: Int, seconds: Int64) {
        let backoff = Backoff(base: .seconds(30), maximum: .seconds(3600))
        #expect(backoff.delay(afterFailures: failures) == .seconds(seconds))
    }

    @Test func defaultsAreThirtySecondsAndOneHour() {
        let backoff = Backoff()
        #expect(backoff.base == .seconds(30))
        #expect(backoff.maximum == .seconds(3600))
    }

    @Test func nextAttemptIsFailureTimePlusDelay() {
        let backoff = Backoff()
        let failedAt = AnalysisFixtures.start
        #expect(backoff.nextAttempt(afterFailures: 3, failedAt: failedAt) == failedAt.addingTimeInterval(90))
    }
}
