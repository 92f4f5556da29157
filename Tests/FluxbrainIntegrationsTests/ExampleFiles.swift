import FluxbrainCore
import Foundation
import Testing

/// The files in docs/examples: produced by the code, committed, and compared with what the code produces now.
///
/// `FLUXBRAIN_WRITE_EXAMPLES=1 swift test --filter Example` rewrites them (docs/notifications.md); without it a
/// stale file fails the test that produces it.
enum ExampleFiles {
    static let directory = NotifyFixtures.repositoryRoot.appendingPathComponent("docs/examples")

    static var regenerating: Bool { ProcessInfo.processInfo.environment["FLUXBRAIN_WRITE_EXAMPLES"] == "1" }

    /// Writes `files` (name, text) when regenerating, then expects every committed file to equal its text.
    static func check(_ files: [(String, String)], sourceLocation: SourceLocation = #_sourceLocation) throws {
        if regenerating {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            for (name, text) in files {
                try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
            }
        }
        for (name, text) in files {
            let committed = try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            #expect(
                committed == text,
                "docs/examples/\(name) is stale: run with FLUXBRAIN_WRITE_EXAMPLES=1",
                sourceLocation: sourceLocation
            )
        }
    }

    /// Pretty, key-sorted JSON of `value` with a final newline, the top-level `volatile` keys (set by a server at
    /// run time: ids, creation times) taken from the committed file `name` so they do not make it stale.
    static func json(_ value: JSONValue, name: String, volatile: [String] = []) throws -> String {
        var value = value
        if !volatile.isEmpty, !regenerating,
            let data = try? Data(contentsOf: directory.appendingPathComponent(name)),
            let committed = try? JSONDecoder().decode(JSONValue.self, from: data),
            case .object(var members) = value
        {
            for key in volatile { members[key] = committed[key] }
            value = .object(members)
        }
        return try StableJSON.string(value, pretty: true) + "\n"
    }

    /// `value` encoded and read back as a ``JSONValue``.
    static func jsonValue(_ value: some Encodable) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: StableJSON.encode(value))
    }
}
