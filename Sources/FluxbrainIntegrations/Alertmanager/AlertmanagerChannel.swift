import FluxbrainCore
import Foundation

/// What an `alertmanager` channel of the routes file says (docs/alertmanager.md).
///
/// Every alert goes to every URL (an HA pair gets each alert twice, as Prometheus sends it: Alertmanager's gossip
/// deduplicates the notifications). Open incidents are re-sent every ``resendInterval`` with
/// `endsAt = now + 4 × resendInterval`, so an alert ends on its own if Fluxbrain stops sending.
package struct AlertmanagerSettings: Sendable, Hashable {
    /// How requests authenticate.
    package enum Auth: Sendable, Hashable {
        /// `Authorization: Basic` from `username` and `password` (secret).
        case basic(username: String, password: String)
        /// `Authorization: Bearer <token>` (secret).
        case bearer(token: String)
    }

    /// The default of `resendInterval:`: Prometheus' `--rules.alert.resend-delay`.
    package static let defaultResendInterval: Duration = .seconds(60)
    /// Label names Fluxbrain sets itself; a channel's `labels:` may not set them (except `severity`).
    package static let ownLabels = ["alertname", "cluster", "namespace", "kind", "name", "reason", "state"]

    /// `url:` or `urls:`: each Alertmanager's base URL (`http://alertmanager:9093`, with its route prefix if it has
    /// one), or its full `…/api/v2/alerts` address.
    package var urls: [URL]
    package var auth: Auth?
    /// `resendInterval:` (default 1m): how often an open incident is sent again.
    package var resendInterval: Duration
    /// `labels:`: static labels added to every alert of the channel (`severity` here replaces Fluxbrain's).
    package var labels: [String: String]

    package init(
        urls: [URL],
        auth: Auth? = nil,
        resendInterval: Duration = Self.defaultResendInterval,
        labels: [String: String] = [:]
    ) {
        self.urls = urls
        self.auth = auth
        self.resendInterval = resendInterval
        self.labels = labels
    }

    /// `POST` address of one Alertmanager: `<url>/api/v2/alerts`, or `url` itself when it already ends so.
    package static func alertsURL(_ url: URL) -> URL {
        let path = url.path
        if path.hasSuffix("/api/v2/alerts") || path.hasSuffix("/api/v2/alerts/") { return url }
        return URL(string: url.apiBase + "/api/v2/alerts")!
    }

    /// `true` for a name Alertmanager 0.25 accepts: `[a-zA-Z_][a-zA-Z0-9_]*`.
    package static func isLabelName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.isASCII, first == "_" || first.properties.isAlphabetic
        else { return false }
        return name.unicodeScalars.allSatisfy {
            $0.isASCII && ($0 == "_" || $0.properties.isAlphabetic || ("0"..."9").contains($0))
        }
    }

    /// The store's repeat interval for the channel: three quarters of ``resendInterval``.
    ///
    /// The scheduler offers every open incident once per `resendInterval`; an offer can reach the store a little
    /// less than `resendInterval` after the previous send was recorded (that send finished after its pass). With
    /// the full interval as the rule such an offer would be skipped and the alert re-sent only on the next one,
    /// `2 × resendInterval` later. Offers never come more often than once per `resendInterval`, so the shorter rule
    /// does not send more often.
    package var storeRepeatInterval: Duration { resendInterval * 3 / 4 }

    /// For `fluxbrain check-config`: URLs (without credentials), auth masked, interval and labels.
    package var summary: String {
        var text = "alertmanager urls=" + urls.map { Self.alertsURL($0).absoluteString }.joined(separator: ",")
        switch auth {
        case .basic(let username, _): text += " basicAuth=\(username):******"
        case .bearer: text += " token=******"
        case nil: break
        }
        text += " resendInterval=\(DurationParser.format(resendInterval))"
        if !labels.isEmpty {
            text +=
                " labels=" + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        }
        return text
    }
}
