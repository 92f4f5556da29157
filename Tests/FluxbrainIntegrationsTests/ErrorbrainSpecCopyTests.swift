import FluxbrainCore
import FluxbrainTestSupport
import Foundation
import Testing

/// The fake Errorbrain validates against the repository's copy of Errorbrain's spec/v1, so a clone anywhere can run
/// the tests; the copy must stay the contract itself.
@Suite struct ErrorbrainSpecCopyTests {
    static let schemas = [
        "error_event.schema.json", "evidence.schema.json", "source.schema.json", "verdict.schema.json",
    ]

    @Test func theCopyHoldsEverySchemaAndEqualsTheSharedSpecWhereItIsBeside() throws {
        let copy = FakeErrorbrain.vendoredSpecDirectory
        let names = try FileManager.default.contentsOfDirectory(atPath: copy.path).filter { $0.hasSuffix(".json") }
            .sorted()
        #expect(names == Self.schemas)
        for name in names {
            _ = try FastJSON.parse(Data(contentsOf: copy.appendingPathComponent(name)))
        }
        // Beside a checkout that has the contract's source (the development workspace), the copy must be identical.
        guard let shared = FakeErrorbrain.sharedSpecDirectory else { return }
        let sharedNames = try FileManager.default.contentsOfDirectory(atPath: shared.path).filter {
            $0.hasSuffix(".json")
        }
        #expect(sharedNames.sorted() == names)
        for name in names {
            let original = try Data(contentsOf: shared.appendingPathComponent(name))
            #expect(
                try Data(contentsOf: copy.appendingPathComponent(name)) == original,
                "\(name) differs from \(shared.path)"
            )
        }
    }
}
