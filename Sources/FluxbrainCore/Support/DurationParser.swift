import Foundation

/// Parses and formats durations the way Go (and so Flux and Fluxbrain's configuration) writes them:
/// `30s`, `5m`, `1h`, `1h30m`, `250ms`, `1.5h`.
package enum DurationParser {
    /// The duration `text` denotes, or `nil` if it is not a valid Go-style duration. Negative values are refused.
    package static func parse(_ text: String) -> Duration? {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        guard !rest.isEmpty else { return nil }
        if rest == "0" { return .zero }
        var totalNanoseconds: Double = 0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { $0.isLetter || $0 == "µ" }
            rest = rest.dropFirst(unit.count)
            let scale: Double
            switch unit {
            case "ns": scale = 1
            case "us", "µs": scale = 1e3
            case "ms": scale = 1e6
            case "s": scale = 1e9
            case "m": scale = 60e9
            case "h": scale = 3600e9
            case "d": scale = 86400e9
            default: return nil
            }
            totalNanoseconds += value * scale
        }
        guard totalNanoseconds.isFinite, totalNanoseconds < 9e18 else { return nil }
        return .nanoseconds(Int64(totalNanoseconds.rounded()))
    }

    /// Formats `duration` compactly: `1h30m`, `5m`, `45s`, `250ms`, `0s`.
    package static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        if seconds == 0 {
            let milliseconds = attoseconds / 1_000_000_000_000_000
            return milliseconds == 0 ? "0s" : "\(milliseconds)ms"
        }
        var remaining = seconds
        var text = ""
        if remaining >= 3600 {
            text += "\(remaining / 3600)h"
            remaining %= 3600
        }
        if remaining >= 60 {
            text += "\(remaining / 60)m"
            remaining %= 60
        }
        if remaining > 0 || text.isEmpty {
            text += "\(remaining)s"
        }
        return text
    }
}
