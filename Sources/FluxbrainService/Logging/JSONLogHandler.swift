import FluxbrainCore
import Foundation
import Logging

/// Writes one JSON object per log line to standard error: `{"ts","level","logger","msg",…metadata}`.
///
/// What Kubernetes log tooling expects. Keys are sorted so lines are stable; metadata values become strings,
/// arrays or objects.
package struct JSONLogHandler: LogHandler {
    package var metadata: Logger.Metadata = [:]
    package var logLevel: Logger.Level = .info
    package var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let write: @Sendable (String) -> Void

    /// A handler that writes to standard error.
    package init(label: String) {
        self.init(label: label) { line in
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }

    /// A handler that hands each line to `write` (tests).
    package init(label: String, write: @escaping @Sendable (String) -> Void) {
        self.label = label
        self.write = write
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        var fields: [String: Logger.MetadataValue] = [
            "ts": .string(RFC3339.stringWithFraction(from: Date())),
            "level": .string(event.level.rawValue),
            "logger": .string(label),
            "msg": .string("\(event.message)"),
        ]
        for (key, value) in merged where fields[key] == nil {
            fields[key] = value
        }
        // Written by hand (sorted keys, slashes unescaped): JSONSerialization over `Any` was several per cent of a
        // replica's CPU per processed item.
        var line = ""
        line.reserveCapacity(256)
        Self.append(.dictionary(fields), to: &line)
        write(line)
    }

    /// Appends `value` as JSON: strings, arrays and objects (keys sorted); `stringConvertible` as its description.
    static func append(_ value: Logger.MetadataValue, to line: inout String) {
        switch value {
        case .string(let text): appendString(text, to: &line)
        case .stringConvertible(let convertible): appendString(convertible.description, to: &line)
        case .array(let values):
            line.append("[")
            for (index, element) in values.enumerated() {
                if index > 0 { line.append(",") }
                append(element, to: &line)
            }
            line.append("]")
        case .dictionary(let values):
            line.append("{")
            for (index, key) in values.keys.sorted().enumerated() {
                if index > 0 { line.append(",") }
                appendString(key, to: &line)
                line.append(":")
                append(values[key]!, to: &line)
            }
            line.append("}")
        }
    }

    /// A JSON string literal: `"` and `\\` escaped, control characters as `\n`, `\t`… or `\u00XX`; everything else,
    /// `/` and non-ASCII included, as it is.
    static func appendString(_ text: String, to line: inout String) {
        line.append("\"")
        var clean = text.utf8.startIndex
        let utf8 = text.utf8
        var index = clean
        while index != utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 {
                line.unicodeScalars.append(contentsOf: text.unicodeScalars[clean..<index])
                switch byte {
                case UInt8(ascii: "\""): line.append("\\\"")
                case UInt8(ascii: "\\"): line.append("\\\\")
                case 0x0A: line.append("\\n")
                case 0x0D: line.append("\\r")
                case 0x09: line.append("\\t")
                case 0x08: line.append("\\b")
                case 0x0C: line.append("\\f")
                default:
                    let hex = String(byte, radix: 16)
                    line.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
                }
                clean = utf8.index(after: index)
            }
            index = utf8.index(after: index)
        }
        line.unicodeScalars.append(contentsOf: text.unicodeScalars[clean..<utf8.endIndex])
        line.append("\"")
    }
}
