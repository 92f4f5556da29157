import AsyncHTTPClient
import FluxbrainCore
import Foundation
import Logging

/// Builds the notifiers of the configured channels (``ChannelDefinition``) with the HTTP clients their URLs need.
package enum NotifierFactory {
    /// One notifier per channel, in order, each delivering under its channel's name.
    ///
    /// - Parameters:
    ///   - clients: the HTTP client for a URL (direct or through a proxy, see ``HTTPClients``).
    ///   - requestTimeout: timeout of one HTTP request (default 10s).
    ///   - console: makes the console notifier for a channel name (text on standard output by default).
    package static func make(
        _ channels: [ChannelDefinition],
        clients: (URL) -> HTTPClient,
        logger: Logger,
        requestTimeout: Duration = .seconds(10),
        console: (ChannelID) -> any Notifier = { ConsoleNotifier(channel: $0, write: { print($0 + "\n") }) }
    ) -> [any Notifier] {
        let policy = HTTPRetryPolicy(timeout: requestTimeout)
        return channels.map { definition -> any Notifier in
            let id = definition.id
            switch definition.settings {
            case .slack(let url, let channel):
                let http = NotificationHTTP(client: clients(url), policy: policy, logger: logger)
                return SlackNotifier(webhookURL: url, channelOverride: channel, channel: id, http: http)
            case .slackBot(let token, let slackChannel, let apiURL):
                let http = NotificationHTTP(client: clients(apiURL), policy: policy, logger: logger)
                return SlackBotNotifier(
                    token: token,
                    slackChannel: slackChannel,
                    apiURL: apiURL,
                    channel: id,
                    http: http
                )
            case .webhook(let url, let secret, let headers):
                let http = NotificationHTTP(client: clients(url), policy: policy, logger: logger)
                return WebhookNotifier(url: url, secret: secret, headers: headers, channel: id, http: http)
            case .github(let owner, let repo, let token, let apiURL, let reopenWindow):
                let http = NotificationHTTP(client: clients(apiURL), policy: policy, logger: logger)
                return GitHubIssuesNotifier(
                    owner: owner,
                    repo: repo,
                    token: token,
                    apiURL: apiURL,
                    reopenWindow: reopenWindow,
                    channel: id,
                    http: http
                )
            case .console:
                return console(id)
            case .alertmanager(let settings):
                // Prometheus' 10s per Alertmanager; a POST of alerts is idempotent, so 5xx are retried.
                let targets = settings.urls.map { url in
                    AlertmanagerNotifier.Target(
                        url: url,
                        http: NotificationHTTP(client: clients(url), policy: policy, logger: logger)
                    )
                }
                return AlertmanagerNotifier(settings: settings, targets: targets, channel: id, logger: logger)
            }
        }
    }
}
