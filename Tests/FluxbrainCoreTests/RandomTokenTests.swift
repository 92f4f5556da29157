import FluxbrainCore
import Foundation
import Testing

@Suite struct RandomTokenTests {
    @Test(arguments: [
        (UInt64(0), UInt64(0), "00000000-0000-4000-8000-000000000000"),
        (.max, .max, "ffffffff-ffff-4fff-bfff-ffffffffffff"),
        (0x0123_4567_89AB_CDEF, 0xFEDC_BA98_7654_3210, "01234567-89ab-4def-bedc-ba9876543210"),
    ])
    func writesTheBitsAsALowercaseVersion4UUID(high: UInt64, low: UInt64, expected: String) {
        #expect(RandomToken.make(high: high, low: low) == expected)
    }

    @Test func freshTokensAreDistinctUUIDsThatFoundationReadsBack() throws {
        let tokens = (0..<1000).map { _ in RandomToken.make() }
        #expect(Set(tokens).count == tokens.count)
        for token in tokens.prefix(50) {
            let parsed = try #require(UUID(uuidString: token))
            #expect(parsed.uuidString.lowercased() == token)
            #expect(parsed.uuid.6 >> 4 == 4)
            #expect(parsed.uuid.8 >> 6 == 0b10)
        }
    }
}
