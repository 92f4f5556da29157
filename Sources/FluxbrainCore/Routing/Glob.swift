/// A shell-style pattern on one value: `*` matches any run of characters (also none), `?` exactly one; everything
/// else matches itself, case-sensitively. The pattern covers the whole value (`prod-*` matches `prod-eu-1`, not
/// `x-prod-eu-1`).
///
/// The matching used by routes (`FLUXBRAIN_ROUTES_FILE`) and silences (`fluxbrain silence add --match`).
package struct Glob: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The pattern as written.
    package let pattern: String
    private let scalars: [Unicode.Scalar]
    private let isLiteral: Bool

    package init(_ pattern: String) {
        self.pattern = pattern
        self.scalars = Array(pattern.unicodeScalars)
        self.isLiteral = !pattern.unicodeScalars.contains { $0 == "*" || $0 == "?" }
    }

    package init(from decoder: any Decoder) throws {
        self.init(try decoder.singleValueContainer().decode(String.self))
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(pattern)
    }

    package var description: String { pattern }

    /// `true` if the whole of `value` matches the pattern.
    package func matches(_ value: String) -> Bool {
        if isLiteral { return value == pattern }
        if pattern == "*" { return true }
        let text = Array(value.unicodeScalars)
        // Iterative wildcard matching with one backtrack point (the last `*`): linear in practice.
        var p = 0
        var t = 0
        var star: Int? = nil
        var resume = 0
        while t < text.count {
            if p < scalars.count, scalars[p] == "?" || scalars[p] == text[t] {
                p += 1
                t += 1
            } else if p < scalars.count, scalars[p] == "*" {
                star = p
                resume = t
                p += 1
            } else if let star {
                p = star + 1
                resume += 1
                t = resume
            } else {
                return false
            }
        }
        while p < scalars.count, scalars[p] == "*" { p += 1 }
        return p == scalars.count
    }

    /// `true` if any of `globs` matches `value`.
    package static func any(_ globs: [Glob], match value: String) -> Bool {
        globs.contains { $0.matches(value) }
    }
}
