import Foundation

/// Regular expressions on an incident's message, compiled once when the routes file is loaded.
///
/// ICU syntax through `NSRegularExpression`, which accepts what Flux's `inclusionList`/`exclusionList` (Go RE2)
/// use in practice: `(?i)`, classes, anchors, alternation. A pattern matches if it is found anywhere in the message.
package struct MessagePatterns: @unchecked Sendable, CustomStringConvertible {
    // @unchecked: NSRegularExpression is immutable and documented as safe to use from several threads.
    package let patterns: [String]
    private let expressions: [NSRegularExpression]

    /// - Throws: ``CoreError`` naming the first pattern that does not compile.
    package init(_ patterns: [String]) throws(CoreError) {
        var expressions: [NSRegularExpression] = []
        for pattern in patterns {
            do {
                expressions.append(try NSRegularExpression(pattern: pattern))
            } catch {
                throw CoreError(.invalidConfiguration, "'\(pattern)' is not a valid regular expression")
            }
        }
        self.patterns = patterns
        self.expressions = expressions
    }

    /// `true` if any pattern is found in `message`.
    package func anyMatches(_ message: String) -> Bool {
        let range = NSRange(message.startIndex..<message.endIndex, in: message)
        return expressions.contains { $0.firstMatch(in: message, range: range) != nil }
    }

    package var description: String { patterns.description }
}

/// The conditions of one `match:` or `exclude:` block of a route: the fields of an ``IncidentSelector`` plus
/// `messages` (regular expressions on the incident's message).
package struct RouteConditions: Sendable {
    package var selector: IncidentSelector
    package var messages: MessagePatterns?

    package init(selector: IncidentSelector = IncidentSelector(), messages: MessagePatterns? = nil) {
        self.selector = selector
        self.messages = messages
    }

    /// `true` when no field is given.
    package var isEmpty: Bool { selector.isEmpty && messages == nil }

    /// `match:` semantics: every given field matches (a `messages` list: any pattern is found).
    package func matchesAll(_ subject: RoutingSubject) -> Bool {
        if let messages, !messages.anyMatches(subject.message) { return false }
        return selector.matches(subject)
    }

    /// `exclude:` semantics: any one given field matches. An empty block excludes nothing.
    package func matchesAny(_ subject: RoutingSubject) -> Bool {
        if selector.matchesAny(subject) { return true }
        if let messages, messages.anyMatches(subject.message) { return true }
        return false
    }
}

/// One entry of `routes:`: where matching incidents go.
package struct Route: Sendable {
    /// The channels it delivers to (names of `channels:`), in order.
    package var to: [ChannelID]
    /// Every given field must match (an empty block matches every incident).
    package var match: RouteConditions
    /// Any one given field matching takes the incident out of this route.
    package var exclude: RouteConditions
    /// When the route matches, later routes are not looked at.
    package var stop: Bool
    /// Where it is written (`routes.yaml:14`), for people; `nil` for the route derived from `FLUXBRAIN_*`.
    package var origin: String?

    package init(
        to: [ChannelID],
        match: RouteConditions = RouteConditions(),
        exclude: RouteConditions = RouteConditions(),
        stop: Bool = false,
        origin: String? = nil
    ) {
        self.to = to
        self.match = match
        self.exclude = exclude
        self.stop = stop
        self.origin = origin
    }
}
