extension RoutingDecision {
    /// For people (`fluxbrain once --dry-run`, `fluxbrain routes test`): the routes that matched, the channels the
    /// incident would reach, and why every other channel would not.
    ///
    /// ```
    /// HelmRelease/apps/podinfo (cluster prod, stalled)
    ///   routes matched: 1 (routes.yaml:15)
    ///   would notify: oncall
    ///   not: team-a (no route matched), issues (excluded by route 2)
    /// ```
    package func explained(title: String, router: Router) -> String {
        var lines = [title]
        let routes = matchedRoutes.map { index -> String in
            let origin = index < router.routes.count ? router.routes[index].origin : nil
            return "\(index + 1)" + (origin.map { " (\($0))" } ?? "")
        }
        lines.append("  routes matched: " + (routes.isEmpty ? "none" : routes.joined(separator: ", ")))
        if directedByAnnotation { lines.append("  channels chosen by \(RoutingAnnotations.channels)") }
        lines.append(
            "  would notify: " + (channels.isEmpty ? "nothing" : channels.map(\.rawValue).joined(separator: ", "))
        )
        let others = router.channels.compactMap { channel in skipped[channel].map { "\(channel) (\($0))" } }
        if !others.isEmpty { lines.append("  not: " + others.joined(separator: ", ")) }
        for warning in warnings { lines.append("  warning: \(warning)") }
        if isUnrouted { lines.append("  unrouted: no route matches this incident") }
        return lines.joined(separator: "\n")
    }
}
