import FluxbrainCore
import FluxbrainIntegrations
import Foundation
import Yams

/// Where notifications go: the named channels and the routes that pick them, from `FLUXBRAIN_ROUTES_FILE` or, without
/// it, derived from the `FLUXBRAIN_*` channel variables (one channel of each configured type, ids `slack`,
/// `webhook`, `github`, or `console` when none is configured, and one catch-all route).
package struct RoutingConfiguration: Sendable {
    /// `FLUXBRAIN_ROUTES_FILE`, when routing comes from a file.
    package var file: String?
    /// The channels, in the file's order.
    package var channels: [ChannelDefinition]
    /// The router over the channels' names and the routes.
    package var router: Router

    package init(file: String?, channels: [ChannelDefinition], router: Router) {
        self.file = file
        self.channels = channels
        self.router = router
    }

    /// The same routing with a console channel (`fluxbrain once --output`): added if absent, and routed every
    /// incident (a first route to it, without `stop`), so the terminal shows what the run notifies.
    package func addingConsole() -> RoutingConfiguration {
        guard !channels.contains(where: { $0.kind == .console }) else { return self }
        var copy = self
        copy.channels.append(ChannelDefinition(id: .console, settings: .console))
        copy.router.channels.append(.console)
        copy.router.routes.insert(Route(to: [.console], origin: "--output"), at: 0)
        return copy
    }

    /// For `fluxbrain check-config`: one line per channel and per route, secrets masked.
    package func describe() -> [String] {
        var lines = ["routes file: \(file ?? "(unset: channels from FLUXBRAIN_* variables, every incident to all)")"]
        for channel in channels { lines.append("channel \(channel.id): \(channel.summary)") }
        for (index, route) in router.routes.enumerated() {
            var text = "route \(index + 1)"
            if let origin = route.origin { text += " (\(origin))" }
            text += ": to \(route.to.map(\.rawValue).joined(separator: ","))"
            text += route.match.isEmpty ? " match all" : " match \(RoutesFile.describe(route.match))"
            if !route.exclude.isEmpty { text += " exclude \(RoutesFile.describe(route.exclude))" }
            if route.stop { text += " stop" }
            lines.append(text)
        }
        return lines
    }
}

/// Reads and validates a routes file (YAML): `channels:` and `routes:`, each error naming the file, the line and
/// the field. See docs/notifications.md for the format.
package enum RoutesFile {
    /// The variable naming the file.
    package static let variable = "FLUXBRAIN_ROUTES_FILE"

    /// What the file's channels need from the configuration.
    package struct Defaults: Sendable {
        /// `FLUXBRAIN_GITHUB_API_URL`: a github channel's `apiURL` when it gives none.
        package var githubAPIURL: URL
        /// `FLUXBRAIN_GITHUB_REOPEN_WINDOW`.
        package var githubReopenWindow: Duration
        /// `FLUXBRAIN_SLACK_API_URL`: a bot-token slack channel's `apiURL` when it gives none.
        package var slackAPIURL: URL

        package init(
            githubAPIURL: URL,
            githubReopenWindow: Duration,
            slackAPIURL: URL = URL(string: "https://slack.com/api")!
        ) {
            self.githubAPIURL = githubAPIURL
            self.githubReopenWindow = githubReopenWindow
            self.slackAPIURL = slackAPIURL
        }
    }

    /// Reads the file at `path`.
    ///
    /// - Parameters:
    ///   - environment: where `{env: NAME}` secrets are read.
    /// - Throws: ``ConfigurationError`` for `FLUXBRAIN_ROUTES_FILE` whose message names the file, line and field.
    package static func load(
        path: String,
        environment: [String: String],
        defaults: Defaults
    ) throws(ConfigurationError) -> RoutingConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError(
                variable: variable,
                message: "\(path): cannot be read (\(error.localizedDescription))"
            )
        }
        return try parse(text, path: path, environment: environment, defaults: defaults)
    }

    /// Parses routes file `text` (named `path` in errors).
    package static func parse(
        _ text: String,
        path: String,
        environment: [String: String],
        defaults: Defaults
    ) throws(ConfigurationError) -> RoutingConfiguration {
        var parser = Parser(path: path, environment: environment, defaults: defaults)
        do {
            return try parser.parse(text)
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError(variable: variable, message: "\(path): not valid YAML: \(error)")
        }
    }

    static func describe(_ conditions: RouteConditions) -> String {
        let selector = conditions.selector
        var parts: [String] = []
        func globs(_ name: String, _ list: [Glob]?) {
            if let list { parts.append("\(name)=\(list.map(\.pattern).joined(separator: "|"))") }
        }
        globs("clusters", selector.clusters)
        globs("kinds", selector.kinds)
        globs("namespaces", selector.namespaces)
        globs("names", selector.names)
        if let labels = selector.labels {
            parts.append(
                "labels=" + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            )
        }
        if let states = selector.states { parts.append("states=\(states.map(\.rawValue).joined(separator: "|"))") }
        if let messages = conditions.messages { parts.append("messages=\(messages.patterns.joined(separator: "|"))") }
        return "{" + parts.joined(separator: " ") + "}"
    }

    private struct Parser {
        let path: String
        let environment: [String: String]
        let defaults: Defaults

        func fail(_ node: Node?, _ field: String, _ message: String) -> ConfigurationError {
            let line = node?.mark.map { ":\($0.line)" } ?? ""
            return ConfigurationError(variable: RoutesFile.variable, message: "\(path)\(line): \(field): \(message)")
        }

        /// The entries of a mapping node, rejecting keys not in `allowed`.
        func mapping(_ node: Node, _ field: String, allowed: [String]) throws -> [(String, Node, Node)] {
            guard let mapping = node.mapping else { throw fail(node, field, "must be a mapping") }
            var seen = Set<String>()
            var entries: [(String, Node, Node)] = []
            for (key, value) in mapping {
                guard let name = key.scalar?.string else { throw fail(key, field, "keys must be strings") }
                let qualified = field.isEmpty ? name : "\(field).\(name)"
                guard allowed.contains(name) else {
                    throw fail(key, qualified, "unknown key (allowed: \(allowed.joined(separator: ", ")))")
                }
                guard seen.insert(name).inserted else { throw fail(key, qualified, "given twice") }
                entries.append((name, key, value))
            }
            return entries
        }

        func string(_ node: Node, _ field: String) throws -> String {
            guard let scalar = node.scalar else { throw fail(node, field, "must be a string") }
            let value = scalar.string.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !value.isEmpty else { throw fail(node, field, "must not be empty") }
            return value
        }

        func strings(_ node: Node, _ field: String) throws -> [String] {
            guard let sequence = node.sequence else { throw fail(node, field, "must be a list") }
            guard !sequence.isEmpty else { throw fail(node, field, "must not be an empty list") }
            return try sequence.map { try string($0, field) }
        }

        func url(_ text: String, _ node: Node, _ field: String) throws -> URL {
            guard let url = URL(string: text), let scheme = url.scheme?.lowercased(),
                ["http", "https"].contains(scheme),
                url.host?.isEmpty == false
            else {
                // The value is not shown: it may be a secret.
                throw fail(node, field, "is not an http(s) URL")
            }
            return url
        }

        /// A secret: `{env: NAME}` or `{file: PATH}`; a literal is an error.
        func secret(_ node: Node, _ field: String) throws -> String {
            guard node.mapping != nil else {
                throw fail(node, field, "is a secret: write {env: NAME} or {file: PATH}, not the value itself")
            }
            let entries = try mapping(node, field, allowed: ["env", "file"])
            guard entries.count == 1, let (kind, _, value) = entries.first else {
                throw fail(node, field, "give exactly one of env or file")
            }
            let reference = try string(value, "\(field).\(kind)")
            let resolved: String
            if kind == "env" {
                guard let text = environment[reference] else {
                    throw fail(value, "\(field).env", "environment variable \(reference) is not set")
                }
                resolved = text
            } else {
                do {
                    resolved = try String(contentsOfFile: reference, encoding: .utf8)
                } catch {
                    throw fail(value, "\(field).file", "cannot read \(reference)")
                }
            }
            let trimmed = resolved.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else {
                throw fail(value, "\(field).\(kind)", "\(reference) is empty")
            }
            return trimmed
        }

        mutating func parse(_ text: String) throws -> RoutingConfiguration {
            guard let root = try Yams.compose(yaml: text) else {
                throw ConfigurationError(variable: RoutesFile.variable, message: "\(path): the file is empty")
            }
            var channelsNode: Node?
            var routesNode: Node?
            for (name, _, value) in try mapping(root, "", allowed: ["channels", "routes"]) {
                if name == "channels" { channelsNode = value } else { routesNode = value }
            }
            guard let channelsNode, let channelList = channelsNode.sequence, !channelList.isEmpty else {
                throw fail(channelsNode ?? root, "channels", "a non-empty list of channels is required")
            }
            var channels: [ChannelDefinition] = []
            for (index, node) in channelList.enumerated() {
                let channel = try self.channel(node, "channels[\(index)]")
                if channels.contains(where: { $0.id == channel.id }) {
                    throw fail(node, "channels[\(index)].name", "duplicate channel name '\(channel.id)'")
                }
                channels.append(channel)
            }
            guard let routesNode, let routeList = routesNode.sequence, !routeList.isEmpty else {
                throw fail(routesNode ?? root, "routes", "a non-empty list of routes is required")
            }
            let known = Set(channels.map(\.id))
            var routes: [Route] = []
            for (index, node) in routeList.enumerated() {
                routes.append(try route(node, "routes[\(index)]", known: known))
            }
            return RoutingConfiguration(
                file: path,
                channels: channels,
                router: Router(channels: channels.map(\.id), routes: routes)
            )
        }

        func channel(_ node: Node, _ field: String) throws -> ChannelDefinition {
            let allowed = [
                "name", "type", "url", "channel", "secret", "headers", "owner", "repo", "token", "apiURL",
                "urls", "username", "password", "resendInterval", "labels",
            ]
            var values: [String: (key: Node, value: Node)] = [:]
            for (name, key, value) in try mapping(node, field, allowed: allowed) { values[name] = (key, value) }
            guard let nameNode = values["name"]?.value else { throw fail(node, "\(field).name", "is required") }
            let name = try string(nameNode, "\(field).name")
            guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
                throw fail(nameNode, "\(field).name", "'\(name)' may hold only letters, digits, '-', '_' and '.'")
            }
            guard let typeNode = values["type"]?.value else { throw fail(node, "\(field).type", "is required") }
            let typeName = try string(typeNode, "\(field).type")
            guard let kind = ChannelDefinition.Kind(rawValue: typeName) else {
                throw fail(
                    typeNode,
                    "\(field).type",
                    "'\(typeName)' is not one of \(ChannelDefinition.Kind.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            let fields: [ChannelDefinition.Kind: (required: [String], optional: [String])] = [
                .slack: ([], ["url", "token", "channel", "apiURL"]),
                .webhook: (["url"], ["secret", "headers"]),
                .github: (["owner", "repo", "token"], ["apiURL"]),
                .console: ([], []),
                .alertmanager: ([], ["url", "urls", "username", "password", "token", "resendInterval", "labels"]),
            ]
            let (needed, optional) = fields[kind]!
            for (key, entry) in values where !["name", "type"].contains(key) && !(needed + optional).contains(key) {
                throw fail(entry.key, "\(field).\(key)", "not a setting of a \(kind.rawValue) channel")
            }
            for key in needed where values[key] == nil {
                throw fail(node, "\(field).\(key)", "is required for a \(kind.rawValue) channel")
            }
            func required(_ key: String) -> Node { values[key]!.value }
            let settings: ChannelDefinition.Settings
            switch kind {
            case .slack:
                // An incoming webhook (`url`) or a bot token (`token`, `channel`, optional `apiURL`).
                let channelName = try values["channel"].map { try string($0.value, "\(field).channel") }
                switch (values["url"], values["token"]) {
                case (let webhook?, nil):
                    if let apiURL = values["apiURL"] {
                        throw fail(apiURL.key, "\(field).apiURL", "is a setting of a bot-token slack channel (token:)")
                    }
                    let url = try url(try secret(webhook.value, "\(field).url"), webhook.value, "\(field).url")
                    settings = .slack(webhookURL: url, channel: channelName)
                case (nil, let token?):
                    guard let channelName else {
                        throw fail(node, "\(field).channel", "is required for a slack channel with a token")
                    }
                    let apiURL =
                        try values["apiURL"].map {
                            try url(try string($0.value, "\(field).apiURL"), $0.value, "\(field).apiURL")
                        } ?? defaults.slackAPIURL
                    settings = .slackBot(
                        token: try secret(token.value, "\(field).token"),
                        channel: channelName,
                        apiURL: apiURL
                    )
                case (_?, let token?):
                    throw fail(
                        token.key,
                        "\(field).token",
                        "give either url (incoming webhook) or token (bot), not both"
                    )
                case (nil, nil):
                    throw fail(node, "\(field).url", "a slack channel needs url (incoming webhook) or token (bot)")
                }
            case .webhook:
                let url = try url(try secret(required("url"), "\(field).url"), required("url"), "\(field).url")
                let secretValue = try values["secret"].map { try secret($0.value, "\(field).secret") }
                var headers: [(String, String)] = []
                if let node = values["headers"]?.value {
                    guard let mapping = node.mapping else { throw fail(node, "\(field).headers", "must be a mapping") }
                    for (key, value) in mapping {
                        guard let header = key.scalar?.string, FluxbrainConfiguration.isHeaderName(header)
                        else {
                            throw fail(key, "\(field).headers", "not a valid header name")
                        }
                        headers.append((header, try secret(value, "\(field).headers.\(header)")))
                    }
                }
                settings = .webhook(url: url, secret: secretValue, headers: headers)
            case .github:
                let apiURL =
                    try values["apiURL"].map {
                        try url(try string($0.value, "\(field).apiURL"), $0.value, "\(field).apiURL")
                    }
                    ?? defaults.githubAPIURL
                settings = .github(
                    owner: try string(required("owner"), "\(field).owner"),
                    repo: try string(required("repo"), "\(field).repo"),
                    token: try secret(required("token"), "\(field).token"),
                    apiURL: apiURL,
                    reopenWindow: defaults.githubReopenWindow
                )
            case .console:
                settings = .console
            case .alertmanager:
                settings = .alertmanager(try alertmanager(values, node, field))
            }
            return ChannelDefinition(id: ChannelID(name), settings: settings)
        }

        /// An `alertmanager` channel: `url:` or `urls:` (plain http(s) URLs, no credentials in them), `username` +
        /// `password` or `token` (secrets), `resendInterval` (duration ≥ 1s, default 1m), `labels` (name: value).
        func alertmanager(
            _ values: [String: (key: Node, value: Node)],
            _ node: Node,
            _ field: String
        ) throws -> AlertmanagerSettings {
            var urls: [URL] = []
            switch (values["url"], values["urls"]) {
            case (let single?, nil):
                let text = try string(single.value, "\(field).url")
                urls = [try url(text, single.value, "\(field).url")]
            case (nil, let list?):
                guard let sequence = list.value.sequence, !sequence.isEmpty else {
                    throw fail(list.value, "\(field).urls", "must be a non-empty list of URLs")
                }
                for (index, item) in sequence.enumerated() {
                    urls.append(try url(try string(item, "\(field).urls[\(index)]"), item, "\(field).urls[\(index)]"))
                }
            case (_?, let list?):
                throw fail(list.key, "\(field).urls", "give url or urls, not both")
            case (nil, nil):
                throw fail(node, "\(field).url", "is required for an alertmanager channel (or urls: for several)")
            }
            for (index, url) in urls.enumerated() where url.user != nil || url.password != nil {
                let at = values["urls"] == nil ? "url" : "urls[\(index)]"
                throw fail(
                    values["urls"]?.value ?? values["url"]?.value,
                    "\(field).\(at)",
                    "must not carry credentials: use username/password or token"
                )
            }
            if Set(urls.map { AlertmanagerSettings.alertsURL($0).absoluteString }).count != urls.count {
                throw fail(values["urls"]?.value, "\(field).urls", "lists the same Alertmanager twice")
            }
            var auth: AlertmanagerSettings.Auth?
            switch (values["username"], values["password"], values["token"]) {
            case (nil, nil, nil):
                break
            case (let user?, let password?, nil):
                auth = .basic(
                    username: try string(user.value, "\(field).username"),
                    password: try secret(password.value, "\(field).password")
                )
            case (nil, nil, let token?):
                auth = .bearer(token: try secret(token.value, "\(field).token"))
            case (_, _, let token?):
                throw fail(token.key, "\(field).token", "give username/password or token, not both")
            case (nil, let password?, nil):
                throw fail(password.key, "\(field).username", "is required with password")
            case (let user?, nil, nil):
                throw fail(user.key, "\(field).password", "is required with username")
            }
            var resendInterval = AlertmanagerSettings.defaultResendInterval
            if let entry = values["resendInterval"] {
                let text = try string(entry.value, "\(field).resendInterval")
                guard let duration = DurationParser.parse(text), duration >= .seconds(1) else {
                    throw fail(entry.value, "\(field).resendInterval", "'\(text)' is not a duration of at least 1s")
                }
                resendInterval = duration
            }
            var labels: [String: String] = [:]
            if let entry = values["labels"] {
                guard let mapping = entry.value.mapping, !mapping.isEmpty else {
                    throw fail(entry.value, "\(field).labels", "must be a non-empty mapping of name: value")
                }
                for (key, value) in mapping {
                    let name = try string(key, "\(field).labels")
                    guard AlertmanagerSettings.isLabelName(name) else {
                        throw fail(key, "\(field).labels", "'\(name)' is not a label name ([a-zA-Z_][a-zA-Z0-9_]*)")
                    }
                    guard !AlertmanagerSettings.ownLabels.contains(name) else {
                        throw fail(key, "\(field).labels.\(name)", "is set by Fluxbrain (only severity may be given)")
                    }
                    labels[name] = try string(value, "\(field).labels.\(name)")
                }
            }
            return AlertmanagerSettings(urls: urls, auth: auth, resendInterval: resendInterval, labels: labels)
        }

        func route(_ node: Node, _ field: String, known: Set<ChannelID>) throws -> Route {
            var to: [ChannelID]?
            var match = RouteConditions()
            var exclude = RouteConditions()
            var stop = false
            for (name, _, value) in try mapping(node, field, allowed: ["to", "match", "exclude", "stop"]) {
                switch name {
                case "to":
                    guard let sequence = value.sequence, !sequence.isEmpty else {
                        throw fail(value, "\(field).to", "must be a non-empty list of channel names")
                    }
                    to = try sequence.map { item in
                        let channel = ChannelID(try string(item, "\(field).to"))
                        guard known.contains(channel) else {
                            throw fail(item, "\(field).to", "unknown channel '\(channel)' (not in channels:)")
                        }
                        return channel
                    }
                case "match":
                    match = try conditions(value, "\(field).match")
                case "exclude":
                    exclude = try conditions(value, "\(field).exclude")
                default:
                    guard let flag = value.scalar.flatMap(Bool.construct) else {
                        throw fail(value, "\(field).stop", "must be true or false")
                    }
                    stop = flag
                }
            }
            guard let to else { throw fail(node, "\(field).to", "is required") }
            return Route(
                to: to,
                match: match,
                exclude: exclude,
                stop: stop,
                origin: node.mark.map { "\((path as NSString).lastPathComponent):\($0.line)" }
            )
        }

        func conditions(_ node: Node, _ field: String) throws -> RouteConditions {
            var selector = IncidentSelector()
            var messages: MessagePatterns?
            let allowed = ["clusters", "kinds", "namespaces", "names", "labels", "states", "messages"]
            for (name, _, value) in try mapping(node, field, allowed: allowed) {
                let qualified = "\(field).\(name)"
                switch name {
                case "clusters": selector.clusters = try strings(value, qualified).map(Glob.init)
                case "kinds": selector.kinds = try strings(value, qualified).map(Glob.init)
                case "namespaces": selector.namespaces = try strings(value, qualified).map(Glob.init)
                case "names": selector.names = try strings(value, qualified).map(Glob.init)
                case "labels":
                    guard let mapping = value.mapping, !mapping.isEmpty else {
                        throw fail(value, qualified, "must be a non-empty mapping of label: value")
                    }
                    var labels: [String: Glob] = [:]
                    for (key, label) in mapping {
                        let labelName = try string(key, qualified)
                        labels[labelName] = Glob(try string(label, "\(qualified).\(labelName)"))
                    }
                    selector.labels = labels
                case "states":
                    selector.states =
                        try value.sequence.map { sequence in
                            try sequence.map { item in
                                let text = try string(item, qualified)
                                guard let state = FailureState(rawValue: text) else {
                                    throw fail(
                                        item,
                                        qualified,
                                        "'\(text)' is not one of \(FailureState.allCases.map(\.rawValue).joined(separator: ", "))"
                                    )
                                }
                                return state
                            }
                        } ?? { throw fail(value, qualified, "must be a list") }()
                    if selector.states?.isEmpty == true { throw fail(value, qualified, "must not be an empty list") }
                default:
                    guard let sequence = value.sequence, !sequence.isEmpty else {
                        throw fail(value, qualified, "must be a non-empty list of regular expressions")
                    }
                    var patterns: [String] = []
                    for item in sequence {
                        let pattern = try string(item, qualified)
                        do {
                            _ = try MessagePatterns([pattern])
                        } catch {
                            throw fail(item, qualified, error.message)
                        }
                        patterns.append(pattern)
                    }
                    messages = try MessagePatterns(patterns)
                }
            }
            return RouteConditions(selector: selector, messages: messages)
        }
    }
}
