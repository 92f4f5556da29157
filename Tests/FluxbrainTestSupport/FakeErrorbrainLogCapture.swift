import Logging
import Synchronization

/// Log entries captured in memory, for asserting what a component logged (no global bootstrap).
package final class CapturedLogs: Sendable {
    /// One captured entry, rendered: level, message and metadata as text.
    package struct Entry: Sendable {
        package var level: Logger.Level
        package var message: String
        package var metadata: [String: String]
        /// Message and metadata in one string, for "contains" checks.
        package var text: String {
            ([message] + metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }).joined(separator: " ")
        }
    }

    private let storage = Mutex<[Entry]>([])

    package init() {}

    /// Everything logged so far.
    package var entries: [Entry] { storage.withLock { $0 } }

    /// All entries as one text.
    package var allText: String { entries.map(\.text).joined(separator: "\n") }

    /// A logger at `level` writing here.
    package func logger(label: String = "test", level: Logger.Level = .trace) -> Logger {
        var logger = Logger(label: label) { _ in CapturingLogHandler(logs: self) }
        logger.logLevel = level
        return logger
    }

    fileprivate func append(_ entry: Entry) {
        storage.withLock { $0.append(entry) }
    }
}

/// A `LogHandler` that appends to `CapturedLogs`.
package struct CapturingLogHandler: LogHandler {
    private let logs: CapturedLogs
    package var metadata: Logger.Metadata = [:]
    package var logLevel: Logger.Level = .trace
    package var metadataProvider: Logger.MetadataProvider?

    package init(logs: CapturedLogs) {
        self.logs = logs
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let explicit = event.metadata { merged.merge(explicit) { _, new in new } }
        var rendered = merged.mapValues { "\($0)" }
        if let error = event.error { rendered["error"] = "\(error)" }
        logs.append(CapturedLogs.Entry(level: event.level, message: event.message.description, metadata: rendered))
    }
}
