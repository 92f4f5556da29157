import Foundation

/// An incident's events and log lines with repeated text collapsed: what a person reads as evidence.
///
/// kustomize-controller writes a build error as the condition message, again as a Warning event and again in each
/// log line; helm-controller prefixes events with how long the action took. A line whose text equals the message,
/// or another line, or does so once a timing prefix (`health check failed after 5m0.01s: `,
/// `(combined from similar events): `) is dropped, counts towards that line instead: one line with a count and
/// the last time it was seen.
package struct EvidenceDigest: Sendable, Hashable, Codable {
    /// One distinct piece of evidence.
    package struct Line: Sendable, Hashable, Codable {
        /// `event` or `log`.
        package var origin: String
        /// The event's type and reason (`Warning BuildFailed`), or the log level (`error`).
        package var label: String
        /// The text shown: the event message, or the log line's `msg: error`.
        package var text: String
        /// How many times it was seen (event counts are summed, each log line counts once).
        package var count: Int64
        /// When it was last seen.
        package var lastSeen: Date?
    }

    /// How many events and log lines repeat the condition message (0 when none does).
    package var messageRepeats: Int64
    /// When the condition message was last repeated by an event or log line.
    package var messageLastSeen: Date?
    /// The other evidence, each text once, newest first (events before log lines at equal times).
    package var lines: [Line]

    package init(messageRepeats: Int64 = 0, messageLastSeen: Date? = nil, lines: [Line] = []) {
        self.messageRepeats = messageRepeats
        self.messageLastSeen = messageLastSeen
        self.lines = lines
    }

    /// Collapses `events` and `logLines` against `message` and each other.
    package init(message: String, events: [EventRecord], logLines: [LogLine]) {
        self.init()
        let messageKey = Self.key(message)
        var index: [String: Int] = [:]
        func add(key: String, line: Line) {
            if key == messageKey {
                messageRepeats += line.count
                messageLastSeen = Self.later(messageLastSeen, line.lastSeen)
            } else if let at = index[key] {
                lines[at].count += line.count
                lines[at].lastSeen = Self.later(lines[at].lastSeen, line.lastSeen)
            } else {
                index[key] = lines.count
                lines.append(line)
            }
        }
        for event in events {
            add(
                key: Self.key(event.message),
                line: Line(
                    origin: "event",
                    label: "\(event.type) \(event.reason)",
                    text: event.message,
                    count: max(event.count ?? 1, 1),
                    lastSeen: event.lastTimestamp ?? event.firstTimestamp
                )
            )
        }
        for line in logLines {
            // A log line's own text is the error when there is one; `msg` says only what failed and how long it took.
            let text = line.error.map { "\(line.message): \($0)" } ?? line.message
            add(
                key: Self.key(line.error ?? line.message),
                line: Line(origin: "log", label: line.level, text: text, count: 1, lastSeen: line.timestamp)
            )
        }
        lines.sort { ($0.lastSeen ?? .distantPast) > ($1.lastSeen ?? .distantPast) }
    }

    /// The comparison key of a text: without a timing prefix and surrounding spaces.
    package static func key(_ text: String) -> String {
        ErrorCause.droppingTimingPrefix(Substring(text)).trimmingSpaces()
    }

    private static func later(_ lhs: Date?, _ rhs: Date?) -> Date? {
        guard let lhs else { return rhs }
        guard let rhs else { return lhs }
        return max(lhs, rhs)
    }
}
