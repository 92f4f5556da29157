import FluxbrainCore
import Foundation

/// What `fluxbrain queue stats|dead|requeue` prints: queue depths and dead letters, as text for people or as
/// stable JSON for scripts.
///
/// ```swift
/// let report = QueueReport(stats: try await queue.stats(), deadLetters: try await queue.deadLetters(limit: 20))
/// print(json ? try report.json() : report.text())
/// ```
package struct QueueReport: Sendable, Hashable, Codable {
    /// One dead letter, summarized (the full incident is in `item` only when asked for).
    package struct Letter: Sendable, Hashable, Codable {
        /// The item key, `<fingerprint>:<transition>`; what `fluxbrain queue requeue <key>` takes.
        package var key: String
        /// `firing` or `resolved`, when the payload decoded.
        package var transition: String?
        /// `Kind/namespace/name`, when the payload decoded.
        package var object: String?
        /// The object's cluster, when the payload decoded.
        package var cluster: String?
        /// The failure reason of the incident, when the payload decoded.
        package var reason: String?
        /// Claims made before the item died.
        package var attempts: Int
        /// Why it died.
        package var lastError: String?
        /// `false` when the stored payload could not be decoded.
        package var decodable: Bool
        /// The full work item, only with `includeItems`.
        package var item: WorkItem?

        /// Summarizes `letter`; keeps the whole item when `includeItem` is set.
        package init(_ letter: DeadLetter, includeItem: Bool = false) {
            key = letter.key
            transition = letter.item?.transition.rawValue
            object = letter.item.map { $0.incident.object.description }
            cluster = letter.item?.incident.object.cluster
            reason = letter.item?.incident.reason
            attempts = letter.attempts
            lastError = letter.lastError
            decodable = letter.item != nil
            item = includeItem ? letter.item : nil
        }
    }

    /// Queue depths, if they were read.
    package var stats: QueueStats?
    /// Dead letters, oldest first, if they were read.
    package var deadLetters: [Letter]?
    /// How many dead letters a requeue moved back, if one ran.
    package var requeued: Int?

    /// - Parameters:
    ///   - stats: queue depths to show.
    ///   - deadLetters: dead letters to show.
    ///   - requeued: the result of a requeue.
    ///   - includeItems: keep each dead letter's full work item (JSON only; the text shows summaries).
    package init(
        stats: QueueStats? = nil,
        deadLetters: [DeadLetter]? = nil,
        requeued: Int? = nil,
        includeItems: Bool = false
    ) {
        self.stats = stats
        self.deadLetters = deadLetters?.map { Letter($0, includeItem: includeItems) }
        self.requeued = requeued
    }

    /// Stable JSON (sorted keys); pretty-printed by default.
    package func json(pretty: Bool = true) throws -> String {
        try StableJSON.string(self, pretty: pretty)
    }

    /// Aligned text for a terminal.
    package func text() -> String {
        var lines: [String] = []
        if let stats {
            lines.append("queue")
            let rows: [(String, Int)] = [
                ("ready", stats.ready), ("delayed", stats.delayed), ("leased", stats.leased), ("dead", stats.dead),
                ("pending", stats.pending),
            ]
            let width = rows.map { String($0.1).count }.max() ?? 1
            for (name, value) in rows {
                let number = String(value)
                lines.append(
                    "  " + name.padding(toLength: 8, withPad: " ", startingAt: 0)
                        + String(repeating: " ", count: width - number.count) + number
                )
            }
        }
        if let deadLetters {
            if !lines.isEmpty { lines.append("") }
            if deadLetters.isEmpty {
                lines.append("no dead letters")
            } else {
                lines.append("dead letters (\(deadLetters.count), oldest first)")
                for letter in deadLetters {
                    lines.append("- \(letter.key)")
                    if letter.decodable {
                        let place = letter.cluster.map { " in \($0)" } ?? ""
                        lines.append(
                            "    \(letter.transition ?? "?") \(letter.object ?? "?")\(place): \(letter.reason ?? "?")"
                        )
                    } else {
                        lines.append("    (payload could not be decoded)")
                    }
                    lines.append("    attempts: \(letter.attempts)")
                    lines.append("    last error: \(Self.oneLine(letter.lastError ?? "-"))")
                }
            }
        }
        if let requeued {
            if !lines.isEmpty { lines.append("") }
            lines.append(requeued == 1 ? "requeued 1 dead letter" : "requeued \(requeued) dead letters")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Newlines and tabs as spaces, cut at 300 characters, so one letter stays readable.
    private static func oneLine(_ text: String) -> String {
        let flat = text.map { $0.isNewline || $0 == "\t" ? " " : $0 }
        let string = String(flat)
        return string.count > 300 ? String(string.prefix(300)) + "…" : string
    }
}
