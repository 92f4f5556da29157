import FluxbrainService
import Foundation
import Logging
import Synchronization
import Testing

/// The production log line: one JSON object per line, keys sorted, every string escaped as JSON requires.
@Suite struct JSONLogHandlerTests {
    static func lines(_ body: (inout Logger) -> Void) -> [String] {
        let lines = Mutex<[String]>([])
        var logger = Logger(label: "test") { label in
            JSONLogHandler(label: label) { line in lines.withLock { $0.append(line) } }
        }
        logger.logLevel = .info
        body(&logger)
        return lines.withLock { $0 }
    }

    @Test func writesOneSortedJSONObjectWithEveryStringEscaped() throws {
        let awkward = "quote \" backslash \\ slash / newline \n tab \t cr\r\n bell \u{7} é 🚀"
        let lines = Self.lines { logger in
            logger[metadataKey: "object"] = "Kustomization/flux-system/apps"
            logger.info(
                "message \(awkward)",
                metadata: [
                    "nested": ["b": "2", "a": ["x", .stringConvertible(42)]],
                    "awkward": .string(awkward),
                ]
            )
        }
        let line = try #require(lines.first)
        #expect(lines.count == 1 && !line.contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["msg"] as? String == "message \(awkward)")
        #expect(object["awkward"] as? String == awkward)
        #expect(object["level"] as? String == "info")
        #expect(object["logger"] as? String == "test")
        #expect(object["object"] as? String == "Kustomization/flux-system/apps")
        let nested = try #require(object["nested"] as? [String: Any])
        #expect(nested["b"] as? String == "2")
        #expect(nested["a"] as? [String] == ["x", "42"])
        let ts = try #require(object["ts"] as? String)
        #expect(RFC3339Check.isTimestamp(ts))
        // Keys in order, slashes as they are, control characters escaped.
        #expect(
            line.hasPrefix(#"{"awkward":"quote \" backslash \\ slash / newline \n tab \t cr\r\n bell \u0007 é 🚀","#)
        )
        #expect(line.contains(#","level":"info","logger":"test","msg":"#))
        #expect(line.contains(#""nested":{"a":["x","42"],"b":"2"},"object":"Kustomization/flux-system/apps","ts":""#))
    }
}

enum RFC3339Check {
    /// `2026-12-06T14:03:12.345Z`.
    static func isTimestamp(_ text: String) -> Bool {
        text.count == 24 && text.hasSuffix("Z") && text.dropFirst(10).first == "T"
    }
}
