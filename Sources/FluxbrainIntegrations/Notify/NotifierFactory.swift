import AsyncHTTPClient
import FluxbrainCore
import Foundation
import Logging

/// Builds the configured notifiers from configuration values and the HTTP clients their URLs need.
package enum NotifierFactory {
    /// The values the notifiers read (the `FLUXBRAIN_*` variables of the same names).
    package struct Settings: Sendable {
        package var slackWebhook: URL?
        package var slackChannel: String?
        package var webhookURL: URL?
        package var webhookSecret: String?
        package var webhookHeaders: [(String, String)]
        package var githubOwner: String?
        package var githubRepo: String?
        package var githubToken: String?
        package var githubAPIURL: URL
        package var githubReopenWindow: Duration
        /// Timeout of one HTTP request (default 10s).
        package var requestTimeout: Duration

        package init(
            slackWebhook: URL? = nil,
            slackChannel: String? = nil,
            webhookURL: URL? = nil,
            webhookSecret: String? = nil,
            webhookHeaders: [(String, String)] = [],
            githubOwner: String? = nil,
            githubRepo: String? = nil,
            githubToken: String? = nil,
            githubAPIURL: URL = URL(string: "https://api.github.com")!,
            githubReopenWindow: Duration = .seconds(24 * 3600),
            requestTimeout: Duration = .seconds(10)
        ) {
            self.slackWebhook = slackWebhook
            self.slackChannel = slackChannel
            self.webhookURL = webhookURL
            self.webhookSecret = webhookSecret
            self.webhookHeaders = webhookHeaders
            self.githubOwner = githubOwner
            self.githubRepo = githubRepo
            self.githubToken = githubToken
            self.githubAPIURL = githubAPIURL
            self.githubReopenWindow = githubReopenWindow
            self.requestTimeout = requestTimeout
        }
    }

    /// Slack, webhook and GitHub notifiers for what is configured; the console notifier alone when nothing is.
    package static func make(
        _ settings: Settings,
        client: HTTPClient,
        logger: Logger,
        console: any Notifier = ConsoleNotifier(write: { print($0 + "\n") })
    ) -> [any Notifier] {
        make(settings, clients: { _ in client }, logger: logger, console: console)
    }

    /// Like ``make(_:client:logger:console:)``, with the HTTP client each channel's URL needs (direct or through a
    /// proxy, see ``HTTPClients``).
    ///
    /// The one place the console channel is chosen: `console` is added when no other channel is configured, or
    /// always with `alwaysConsole` (`fluxbrain once --output`).
    package static func make(
        _ settings: Settings,
        clients: (URL) -> HTTPClient,
        logger: Logger,
        console: any Notifier = ConsoleNotifier(write: { print($0 + "\n") }),
        alwaysConsole: Bool = false
    ) -> [any Notifier] {
        let policy = HTTPRetryPolicy(timeout: settings.requestTimeout)
        var notifiers: [any Notifier] = []
        if let url = settings.slackWebhook {
            let http = NotificationHTTP(client: clients(url), policy: policy, logger: logger)
            notifiers.append(SlackNotifier(webhookURL: url, channelOverride: settings.slackChannel, http: http))
        }
        if let url = settings.webhookURL {
            let http = NotificationHTTP(client: clients(url), policy: policy, logger: logger)
            notifiers.append(
                WebhookNotifier(url: url, secret: settings.webhookSecret, headers: settings.webhookHeaders, http: http)
            )
        }
        if let owner = settings.githubOwner, let repo = settings.githubRepo, let token = settings.githubToken {
            let http = NotificationHTTP(client: clients(settings.githubAPIURL), policy: policy, logger: logger)
            notifiers.append(
                GitHubIssuesNotifier(
                    owner: owner,
                    repo: repo,
                    token: token,
                    apiURL: settings.githubAPIURL,
                    reopenWindow: settings.githubReopenWindow,
                    http: http
                )
            )
        }
        if notifiers.isEmpty || alwaysConsole { notifiers.append(console) }
        return notifiers
    }
}
