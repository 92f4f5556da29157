import Foundation

/// Why an incident is not notified on a channel.
package enum RoutingSkip: Sendable, Hashable, CustomStringConvertible {
    /// No route that delivers to the channel matched.
    case noRouteMatched
    /// The route (0-based index) would have delivered to the channel, but its `exclude:` matched.
    case excluded(route: Int)
    /// The object (or its owner) is annotated `fluxbrain.io/notify: "false"`.
    case optedOut
    /// The object (or its owner) names other channels in `fluxbrain.io/channels`.
    case notInChannelsAnnotation
    /// An active silence matches the incident.
    case silenced(id: String)

    package var description: String {
        switch self {
        case .noRouteMatched: return "no route matched"
        case .excluded(let route): return "excluded by route \(route + 1)"
        case .optedOut: return "opted out by annotation \(RoutingAnnotations.notify)=false"
        case .notInChannelsAnnotation: return "not in \(RoutingAnnotations.channels)"
        case .silenced(let id): return "silenced by \(id)"
        }
    }
}

/// Where one incident goes, and for every other channel why not.
package struct RoutingDecision: Sendable, Hashable {
    /// The routes (0-based indexes) whose `match:` matched and whose `exclude:` did not, in evaluation order.
    package var matchedRoutes: [Int] = []
    /// The channels to notify, in the order of `channels:`.
    package var channels: [ChannelID] = []
    /// Every other channel, with the reason.
    package var skipped: [ChannelID: RoutingSkip] = [:]
    /// `true` when `fluxbrain.io/channels` chose the channels instead of the routes.
    package var directedByAnnotation = false
    /// Problems worth a log line: unknown names in `fluxbrain.io/channels`.
    package var warnings: [String] = []

    package init() {}

    /// No route matched and no annotation decided: the incident is not notified, and that is probably a gap in the
    /// routes file (counted in `fluxbrain_incidents_unrouted_total`). Exclusions, opt-outs and silences are choices,
    /// not gaps.
    package var isUnrouted: Bool {
        channels.isEmpty && matchedRoutes.isEmpty && !directedByAnnotation
            && skipped.values.allSatisfy { $0 == .noRouteMatched }
    }
}

/// Decides where an incident goes: the routes, then the object's annotations, then the silences. Pure: the same
/// inputs give the same decision (`fluxbrain once --dry-run` and `fluxbrain routes test` print it).
///
/// 1. Routes are evaluated in order. A route applies when its `match:` matches (every given field) and its
///    `exclude:` does not (no given field); it adds its `to:` channels. An applying route with `stop: true` ends the
///    evaluation; an excluded one does not.
/// 2. `fluxbrain.io/notify: "false"` drops every channel; otherwise `fluxbrain.io/channels` replaces the routes'
///    choice with the channels it names (unknown names are warned about and ignored; if it names no known
///    channel, the routes decide).
/// 3. An active silence that matches the incident drops every channel.
package struct Router: Sendable {
    /// Every configured channel, in the order of `channels:`.
    package var channels: [ChannelID]
    package var routes: [Route]

    package init(channels: [ChannelID], routes: [Route]) {
        self.channels = channels
        self.routes = routes
    }

    /// One catch-all route to every channel: the routing without a routes file.
    package static func catchAll(_ channels: [ChannelID]) -> Router {
        Router(channels: channels, routes: [Route(to: channels)])
    }

    /// The decision for `incident` (its labels and `fluxbrain.io/*` annotations included).
    package func decide(_ incident: Incident, silences: [Silence], now: Date) -> RoutingDecision {
        decide(RoutingSubject(incident), annotations: incident.annotations ?? [:], silences: silences, now: now)
    }

    /// The decision for `subject` with the object's `annotations` under the active `silences`.
    package func decide(
        _ subject: RoutingSubject,
        annotations: [String: String],
        silences: [Silence],
        now: Date
    ) -> RoutingDecision {
        var decision = RoutingDecision()
        var chosen = Set<ChannelID>()
        var excludedBy: [ChannelID: Int] = [:]
        for (index, route) in routes.enumerated() {
            guard route.match.matchesAll(subject) else { continue }
            if !route.exclude.isEmpty, route.exclude.matchesAny(subject) {
                for channel in route.to where excludedBy[channel] == nil { excludedBy[channel] = index }
                continue
            }
            decision.matchedRoutes.append(index)
            chosen.formUnion(route.to)
            if route.stop { break }
        }
        func routesReason(_ channel: ChannelID) -> RoutingSkip {
            excludedBy[channel].map { .excluded(route: $0) } ?? .noRouteMatched
        }

        if annotations[RoutingAnnotations.notify]?.trimmingCharacters(in: .whitespaces).lowercased() == "false" {
            for channel in channels { decision.skipped[channel] = .optedOut }
            return decision
        }
        if let list = annotations[RoutingAnnotations.channels] {
            let named = list.split(separator: ",").map { ChannelID($0.trimmingCharacters(in: .whitespaces)) }
                .filter { !$0.rawValue.isEmpty }
            let known = Set(channels)
            let unknown = named.filter { !known.contains($0) }
            if !unknown.isEmpty {
                decision.warnings.append(
                    "\(RoutingAnnotations.channels) names unknown channel(s) "
                        + unknown.map(\.rawValue).joined(separator: ", ")
                )
            }
            let direct = Set(named).intersection(known)
            if !direct.isEmpty {
                decision.directedByAnnotation = true
                chosen = direct
                excludedBy = [:]
            }
        }
        if let silence = silences.first(where: { $0.silences(subject, at: now) }) {
            for channel in channels { decision.skipped[channel] = .silenced(id: silence.id) }
            return decision
        }
        for channel in channels {
            if chosen.contains(channel) {
                decision.channels.append(channel)
            } else if decision.directedByAnnotation {
                decision.skipped[channel] = .notInChannelsAnnotation
            } else {
                decision.skipped[channel] = routesReason(channel)
            }
        }
        return decision
    }
}
