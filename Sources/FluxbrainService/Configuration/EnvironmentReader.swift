import FluxbrainCore
import Foundation

/// A configuration value that cannot be used; the message names the variable. The executable exits with code 2.
package struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    /// The environment variable at fault, e.g. `FLUXBRAIN_LOCK_TTL`.
    package var variable: String
    package var message: String

    package init(variable: String, message: String) {
        self.variable = variable
        self.message = message
    }

    package var description: String { "\(variable): \(message)" }
}

/// Reads typed `FLUXBRAIN_*` values from an environment, failing with a message that names the variable.
///
/// An empty value counts as unset, so `FLUXBRAIN_X=` in a compose file or manifest means "use the default".
package struct EnvironmentReader: Sendable {
    package let environment: [String: String]

    package init(_ environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    /// The trimmed value of `name`, or `nil` when unset or empty.
    package func string(_ name: String) -> String? {
        guard let value = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else {
            return nil
        }
        return value
    }

    /// A duration written as `30s`, `5m`, `1h30m`.
    package func duration(_ name: String, default defaultValue: Duration, minimum: Duration = .zero) throws(ConfigurationError) -> Duration {
        guard let text = string(name) else { return defaultValue }
        guard let value = DurationParser.parse(text) else {
            throw ConfigurationError(variable: name, message: "'\(text)' is not a duration (write it like 30s, 5m, 1h or 1h30m)")
        }
        guard value >= minimum else {
            throw ConfigurationError(variable: name, message: "'\(text)' is below the minimum of \(minimum.formattedShort)")
        }
        return value
    }

    /// An integer within `range`.
    package func int(_ name: String, default defaultValue: Int, range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let text = string(name) else { return defaultValue }
        guard let value = Int(text) else {
            throw ConfigurationError(variable: name, message: "'\(text)' is not a whole number")
        }
        guard range.contains(value) else {
            throw ConfigurationError(variable: name, message: "\(value) is outside \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    /// `true`/`false` (also `1`/`0`, `yes`/`no`).
    package func bool(_ name: String, default defaultValue: Bool) throws(ConfigurationError) -> Bool {
        guard let text = string(name) else { return defaultValue }
        switch text.lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw ConfigurationError(variable: name, message: "'\(text)' is not a boolean (true or false)")
        }
    }

    /// An absolute `http` or `https` URL. Secret URLs are never echoed in the error.
    package func url(_ name: String, secret: Bool = false) throws(ConfigurationError) -> URL? {
        guard let text = string(name) else { return nil }
        let shown = secret ? "the value" : "'\(text)'"
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = url.host, !host.isEmpty
        else {
            throw ConfigurationError(variable: name, message: "\(shown) is not an absolute http(s) URL")
        }
        return url
    }

    /// One of `choices`.
    package func choice(_ name: String, default defaultValue: String, choices: [String]) throws(ConfigurationError) -> String {
        guard let text = string(name) else { return defaultValue }
        guard choices.contains(text.lowercased()) else {
            throw ConfigurationError(variable: name, message: "'\(text)' is not one of \(choices.joined(separator: ", "))")
        }
        return text.lowercased()
    }

    /// A comma-separated list, empty entries dropped.
    package func list(_ name: String) -> [String] {
        guard let text = string(name) else { return [] }
        return text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// A comma-separated list of `key=value` pairs, e.g. `prod=prod-context,stage=stage-context`.
    package func pairs(_ name: String, separator: Character = "=", secret: Bool = false) throws(ConfigurationError) -> [(String, String)] {
        var result: [(String, String)] = []
        for entry in list(name) {
            guard let index = entry.firstIndex(of: separator) else {
                let shown = secret ? "an entry" : "'\(entry)'"
                throw ConfigurationError(variable: name, message: "\(shown) is not of the form key\(separator)value")
            }
            let key = entry[..<index].trimmingCharacters(in: .whitespaces)
            let value = entry[entry.index(after: index)...].trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty, !value.isEmpty else {
                throw ConfigurationError(variable: name, message: "an entry has an empty key or value")
            }
            result.append((key, value))
        }
        return result
    }
}
