import FluxbrainCore
import Testing

@Suite struct BackoffTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        var backoff: Backoff
        var failures: Int
        var random: Double
        var expected: Duration
        var testDescription: String { "\(name) after \(failures), random \(random)" }
    }

    static let linear = Backoff(base: .seconds(1), maximum: Backoff.unbounded)
    static let doubling = Backoff(base: .milliseconds(200), maximum: .seconds(5), growth: .exponential(factor: 2))
    static let adding = Backoff(
        base: .milliseconds(800),
        maximum: .seconds(30),
        growth: .exponential(factor: 2),
        jitter: .adding(upTo: 1)
    )
    static let scaling = Backoff(
        base: .milliseconds(500),
        maximum: .seconds(5),
        growth: .exponential(factor: 2),
        jitter: .scaling(from: 0.5)
    )

    static let rows: [Row] = [
        Row(name: "linear", backoff: linear, failures: 0, random: 0, expected: .zero),
        Row(name: "linear", backoff: linear, failures: 1, random: 0.7, expected: .seconds(1)),
        Row(name: "linear", backoff: linear, failures: 2, random: 0, expected: .seconds(2)),
        Row(name: "linear", backoff: linear, failures: 1_000_000, random: 0, expected: .seconds(1_000_000)),
        Row(name: "linear capped", backoff: Backoff(), failures: Int.max, random: 0, expected: .seconds(3600)),
        Row(name: "doubling", backoff: doubling, failures: 1, random: 0, expected: .milliseconds(200)),
        Row(name: "doubling", backoff: doubling, failures: 3, random: 0, expected: .milliseconds(800)),
        Row(name: "doubling", backoff: doubling, failures: 5, random: 0, expected: .milliseconds(3200)),
        Row(name: "doubling", backoff: doubling, failures: 6, random: 0, expected: .seconds(5)),
        Row(name: "doubling", backoff: doubling, failures: Int.max, random: 0, expected: .seconds(5)),
        Row(name: "adding", backoff: adding, failures: 1, random: 0, expected: .milliseconds(800)),
        Row(name: "adding", backoff: adding, failures: 3, random: 0.5, expected: .milliseconds(4800)),
        Row(name: "adding", backoff: adding, failures: 5, random: 0.99, expected: .milliseconds(25472)),
        Row(name: "adding", backoff: adding, failures: 6, random: 0.99, expected: .seconds(30)),
        Row(name: "scaling", backoff: scaling, failures: 1, random: 0, expected: .milliseconds(250)),
        Row(name: "scaling", backoff: scaling, failures: 2, random: 1, expected: .seconds(1)),
        Row(name: "scaling", backoff: scaling, failures: 10, random: 0.5, expected: .milliseconds(3750)),
        Row(name: "scaling", backoff: scaling, failures: 10, random: 7, expected: .seconds(5)),
        Row(name: "zero base", backoff: Backoff(base: .zero), failures: 3, random: 0, expected: .zero),
    ]

    @Test(arguments: rows)
    func delayGrowsCapsAndJitters(row: Row) {
        #expect(row.backoff.delay(afterFailures: row.failures, random: row.random) == row.expected)
    }

    @Test func nextCountsFailuresUntilReset() {
        var backoff = Self.doubling
        #expect(backoff.next(random: 0) == .milliseconds(200))
        #expect(backoff.next(random: 0) == .milliseconds(400))
        backoff.reset()
        #expect(backoff.next(random: 0) == .milliseconds(200))
    }
}
