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
    /// Takes one line, its newline included.
    private let write: @Sendable ([UInt8]) -> Void

    /// A handler that writes to standard error, one `write(2)` per line.
    package init(label: String) {
        self.label = label
        self.write = writeToStandardError
    }

    /// A handler that hands each line, without its newline, to `write` (tests).
    package init(label: String, write: @escaping @Sendable (String) -> Void) {
        self.label = label
        self.write = { line in write(String(decoding: line.dropLast(), as: UTF8.self)) }
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        var fields = metadata
        if let provided = metadataProvider?.get() { fields.merge(provided) { _, new in new } }
        if let extra = event.metadata { fields.merge(extra) { _, new in new } }
        fields["ts"] = .string(RFC3339.stringWithFraction(from: Date()))
        fields["level"] = .string(event.level.rawValue)
        fields["logger"] = .string(label)
        fields["msg"] = .string("\(event.message)")
        // Written by hand into bytes (sorted keys, slashes unescaped): JSONSerialization over `Any`, and then
        // building a `String` scalar by scalar, were several per cent of a replica's CPU per processed item.
        var line: [UInt8] = []
        line.reserveCapacity(512)
        Self.append(.dictionary(fields), to: &line)
        line.append(UInt8(ascii: "\n"))
        write(line)
    }

    /// Appends `value` as JSON: strings, arrays and objects (keys sorted); `stringConvertible` as its description.
    static func append(_ value: Logger.MetadataValue, to line: inout [UInt8]) {
        switch value {
        case .string(let text): StableJSON.appendString(text, to: &line)
        case .stringConvertible(let convertible): StableJSON.appendString(convertible.description, to: &line)
        case .array(let values):
            line.append(UInt8(ascii: "["))
            for (index, element) in values.enumerated() {
                if index > 0 { line.append(UInt8(ascii: ",")) }
                append(element, to: &line)
            }
            line.append(UInt8(ascii: "]"))
        case .dictionary(let values):
            line.append(UInt8(ascii: "{"))
            for (index, member) in values.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { line.append(UInt8(ascii: ",")) }
                StableJSON.appendString(member.key, to: &line)
                line.append(UInt8(ascii: ":"))
                append(member.value, to: &line)
            }
            line.append(UInt8(ascii: "}"))
        }
    }
}

/// Writes `line` to file descriptor 2; a line that cannot be written is dropped (there is nowhere to report it).
private func writeToStandardError(_ line: [UInt8]) {
    try? writeFully(line, to: 2)
}
