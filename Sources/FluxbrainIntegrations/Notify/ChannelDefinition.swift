import FluxbrainCore
import Foundation

/// One named notification channel with what its notifier needs, secrets resolved: an entry of `channels:` in the
/// routes file, or one derived from the `FLUXBRAIN_*` channel variables (ids `slack`, `webhook`, `github`,
/// `console`, so per-channel state in Redis stays valid).
///
/// The configuration produces these; ``NotifierFactory`` builds the notifiers from them.
package struct ChannelDefinition: Sendable {
    /// The channel types of the routes file's `type:`.
    package enum Kind: String, Sendable, CaseIterable {
        case slack, webhook, github, console, alertmanager
    }

    /// What the notifier of each type needs.
    package enum Settings: Sendable {
        /// A Slack incoming webhook (secret URL) and an optional channel override.
        case slack(webhookURL: URL, channel: String?)
        /// A Slack app's bot token (secret) posting to `channel` through the Web API at `apiURL`, one thread per
        /// incident (``SlackBotNotifier``).
        case slackBot(token: String, channel: String, apiURL: URL)
        /// A generic JSON webhook (secret URL), its HMAC secret and extra headers (secret values).
        case webhook(url: URL, secret: String?, headers: [(String, String)])
        /// GitHub Issues in `owner/repo` with a token (secret), through `apiURL`.
        case github(owner: String, repo: String, token: String, apiURL: URL, reopenWindow: Duration)
        /// Readable text on standard output.
        case console
        /// One or more Alertmanagers (API v2), every alert to each.
        case alertmanager(AlertmanagerSettings)
    }

    /// The name: routes' `to:`, per-channel state and metrics use it.
    package var id: ChannelID
    package var settings: Settings

    package init(id: ChannelID, settings: Settings) {
        self.id = id
        self.settings = settings
    }

    package var kind: Kind {
        switch settings {
        case .slack, .slackBot: return .slack
        case .webhook: return .webhook
        case .github: return .github
        case .console: return .console
        case .alertmanager: return .alertmanager
        }
    }

    /// How often the channel wants an open incident offered again, when it needs it more often than
    /// `FLUXBRAIN_REPEAT_INTERVAL` (an Alertmanager's `resendInterval`); `nil` for the global repeat interval.
    package var resendInterval: Duration? {
        if case .alertmanager(let settings) = settings { return settings.resendInterval }
        return nil
    }

    /// The channel's notification rules: `base` (from `FLUXBRAIN_*`), with an Alertmanager channel's own repeat
    /// interval (``AlertmanagerSettings/storeRepeatInterval``).
    package func notificationSettings(_ base: NotificationSettings) -> NotificationSettings {
        guard case .alertmanager(let alertmanager) = settings else { return base }
        var settings = base
        settings.repeatInterval = alertmanager.storeRepeatInterval
        return settings
    }

    /// The channels of `channels` whose rules differ from `base`, with their rules (the dispatcher's
    /// `channelSettings`).
    package static func channelSettings(
        _ channels: [ChannelDefinition],
        base: NotificationSettings
    ) -> [ChannelID: NotificationSettings] {
        var settings: [ChannelID: NotificationSettings] = [:]
        for channel in channels where channel.notificationSettings(base) != base {
            settings[channel.id] = channel.notificationSettings(base)
        }
        return settings
    }

    /// How often the scheduler must offer open incidents so that every channel gets its re-sends: the shortest
    /// ``resendInterval`` of `channels`, at most `resync` (`FLUXBRAIN_REQUEUE_INTERVAL`, which covers the global
    /// repeat interval).
    package static func reminderInterval(_ channels: [ChannelDefinition], resync: Duration) -> Duration {
        channels.compactMap(\.resendInterval).reduce(resync, min)
    }

    /// For `fluxbrain check-config`: the type and the settings, secrets masked.
    package var summary: String {
        func maskURL(_ url: URL) -> String { "\(url.scheme ?? "https")://\(url.host ?? "?")/******" }
        switch settings {
        case .slack(let url, let channel):
            return "slack url=\(maskURL(url))" + (channel.map { " channel=\($0)" } ?? "")
        case .slackBot(_, let channel, let apiURL):
            return "slack token=****** channel=\(channel) apiURL=\(apiURL.absoluteString)"
        case .webhook(let url, let secret, let headers):
            return "webhook url=\(maskURL(url))" + (secret == nil ? "" : " secret=******")
                + (headers.isEmpty ? "" : " headers=" + headers.map { "\($0.0): ******" }.joined(separator: "; "))
        case .github(let owner, let repo, _, let apiURL, _):
            return "github \(owner)/\(repo) token=****** apiURL=\(apiURL.absoluteString)"
        case .console:
            return "console"
        case .alertmanager(let settings):
            return settings.summary
        }
    }
}
