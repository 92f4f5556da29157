import FluxbrainCore
import Foundation
import Testing

@Suite struct DurationConversionTests {
    @Test(arguments: [
        (Duration.seconds(2), Int64(2000), Int64(2_000_000_000)),
        (.milliseconds(1500), 1500, 1_500_000_000),
        (.microseconds(999), 0, 999_000),
        (.nanoseconds(1), 0, 1),
        (.milliseconds(-1500), -1500, -1_500_000_000),
        (.zero, 0, 0),
    ])
    func truncatesToWholeUnits(duration: Duration, milliseconds: Int64, nanoseconds: Int64) {
        #expect(duration.wholeMilliseconds == milliseconds)
        #expect(duration.nanoseconds == nanoseconds)
    }

    @Test func saturatesInsteadOfOverflowing() {
        #expect(Duration.seconds(Int64.max).nanoseconds == .max)
        #expect(Duration.seconds(Int64.max).wholeMilliseconds == .max)
        #expect(Duration.seconds(Int64.min / 2).nanoseconds == .min)
    }

    @Test func clampsToAMinimumForRedisPX() {
        #expect(Duration.microseconds(10).wholeMilliseconds(atLeast: 1) == 1)
        #expect(Duration.milliseconds(-5).wholeMilliseconds(atLeast: 0) == 0)
        #expect(Duration.seconds(3).wholeMilliseconds(atLeast: 1) == 3000)
    }

    @Test func timeIntervalKeepsSubsecondParts() {
        #expect(Duration.milliseconds(1250).timeInterval == 1.25)
        #expect(Duration.seconds(-2).timeInterval == -2)
    }
}
