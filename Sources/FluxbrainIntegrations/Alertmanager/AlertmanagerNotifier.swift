import AsyncHTTPClient
import FluxbrainCore
import Foundation
import Logging
import Metrics
import NIOCore
import NIOHTTP1

/// Posts an incident's alert to one or more Alertmanagers (`POST /api/v2/alerts`, API v2), as Prometheus does.
///
/// Every URL gets every alert, concurrently, each with its own retries (a 5xx or a connection error is retried by
/// ``NotificationHTTP``). The notification counts as delivered when at least one Alertmanager accepted it (2xx):
/// an HA pair shares its alerts by gossip, and the one that missed this send gets the next re-send, one
/// `resendInterval` later, or ends the alert at its `endsAt`. Each Alertmanager's outcome is counted in
/// `fluxbrain_alertmanager_requests_total{channel,alertmanager,result}` (`alertmanager` is `host:port`), and a
/// failure beside a success is logged as a warning. Only when every one failed does the send fail (and the
/// dispatcher backs off and retries).
///
/// Alertmanager's answers (shared/reference/alerting.md §2.1): 200 with an empty body; 400 with a JSON string or
/// `{"code","message"}`; 422 `{"code","message"}` (the body breaks the schema); 415 without a JSON content type;
/// 5xx (retried). Credentials are never logged or put in an error.
package struct AlertmanagerNotifier: Notifier {
    /// One Alertmanager: its `…/api/v2/alerts` address and the client that reaches it.
    package struct Target: Sendable {
        package var url: URL
        package var http: NotificationHTTP

        package init(url: URL, http: NotificationHTTP) {
            self.url = AlertmanagerSettings.alertsURL(url)
            self.http = http
        }

        /// `host:port`, for metrics and logs (never a path, user or password).
        package var instance: String {
            let port = url.port ?? (url.scheme?.lowercased() == "https" ? 443 : 80)
            return "\(url.host ?? "?"):\(port)"
        }
    }

    package let channel: ChannelID
    private let settings: AlertmanagerSettings
    private let targets: [Target]
    private let metricsFactory: any MetricsFactory
    private let logger: Logger

    /// - Parameters:
    ///   - settings: the channel's settings (its `urls` are not used: `targets` carry them with their clients).
    ///   - targets: one per Alertmanager.
    package init(
        settings: AlertmanagerSettings,
        targets: [Target],
        channel: ChannelID,
        metricsFactory: any MetricsFactory = MetricsSystem.factory,
        logger: Logger
    ) {
        self.channel = channel
        self.settings = settings
        self.targets = targets
        self.metricsFactory = metricsFactory
        self.logger = logger
    }

    /// The exact body for `notification`: a JSON array of one alert.
    package func body(for notification: IncidentNotification) throws -> Data {
        try StableJSON.encode([
            AlertmanagerAlert(notification, resendInterval: settings.resendInterval, labels: settings.labels)
        ])
    }

    /// The request headers: JSON content type, user agent and the channel's credentials.
    package func headers() -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "User-Agent", value: BuildInfo.userAgent)
        switch settings.auth {
        case .basic(let username, let password):
            headers.add(
                name: "Authorization",
                value: "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
            )
        case .bearer(let token):
            headers.add(name: "Authorization", value: "Bearer \(token)")
        case nil:
            break
        }
        return headers
    }

    package func send(_ notification: IncidentNotification) async throws -> DeliveryReport {
        let body: Data
        do { body = try self.body(for: notification) } catch {
            throw NotificationError(.invalidResponse, "could not encode the Alertmanager alert", underlying: error)
        }
        let headers = headers()
        let outcomes = await withTaskGroup(of: (Int, Result<HTTPExchange, NotificationError>).self) { group in
            for (index, target) in targets.enumerated() {
                group.addTask {
                    do throws(NotificationError) {
                        let exchange = try await target.http.execute(
                            method: .POST,
                            url: target.url.absoluteString,
                            headers: headers,
                            body: ByteBuffer(bytes: body),
                            what: "Alertmanager \(target.instance)"
                        )
                        guard (200..<300).contains(exchange.status) else {
                            return (index, .failure(Self.refusal(exchange, target: target, channel: channel)))
                        }
                        return (index, .success(exchange))
                    } catch {
                        return (index, .failure(error))
                    }
                }
            }
            var all: [(Int, Result<HTTPExchange, NotificationError>)] = []
            for await outcome in group { all.append(outcome) }
            return all.sorted { $0.0 < $1.0 }.map(\.1)
        }

        var accepted: [(Target, HTTPExchange)] = []
        var failed: [(Target, NotificationError)] = []
        for (target, outcome) in zip(targets, outcomes) {
            let result: String
            switch outcome {
            case .success(let exchange):
                accepted.append((target, exchange))
                result = "accepted"
            case .failure(let error):
                failed.append((target, error))
                result = error.code == .rejected ? "rejected" : "failed"
            }
            Counter(
                label: "fluxbrain_alertmanager_requests_total",
                dimensions: [("channel", channel.rawValue), ("alertmanager", target.instance), ("result", result)],
                factory: metricsFactory
            ).increment()
        }
        let attempts = outcomes.map { (try? $0.get().attempts) ?? 1 }.max() ?? 1
        guard let first = accepted.first else {
            // Every Alertmanager failed: the most telling error decides (a refusal over a transport failure).
            guard let (_, error) = failed.first(where: { $0.1.code == .rejected }) ?? failed.first else {
                throw NotificationError(.invalidConfiguration, "\(channel): no Alertmanager URL configured")
            }
            var combined = error
            if failed.count > 1 {
                combined.message = failed.map { "\($0.0.instance): \($0.1.message)" }.joined(separator: "; ")
            }
            throw combined
        }
        for (target, error) in failed {
            logger.warning(
                "an Alertmanager did not take the alert; the others did",
                metadata: [
                    "channel": "\(channel)", "alertmanager": "\(target.instance)", "error": "\(error)",
                    "fingerprint": "\(notification.incident.fingerprint.short)",
                ]
            )
        }
        var detail = "accepted by \(accepted.map(\.0.instance).joined(separator: ", "))"
        if !failed.isEmpty {
            detail += "; not by " + failed.map { "\($0.0.instance) (\($0.1.code))" }.joined(separator: ", ")
        }
        return DeliveryReport(httpStatus: first.1.status, attempts: attempts, detail: detail)
    }

    /// The error for a non-2xx answer, with Alertmanager's message: a JSON string (validation, 400) or
    /// `{"code","message"}` (400 parse errors, 422 schema errors).
    static func refusal(_ exchange: HTTPExchange, target: Target, channel: ChannelID) -> NotificationError {
        let status = exchange.status
        var message = errorSnippet(exchange)
        if let json = try? JSONDecoder().decode(JSONValue.self, from: Data(exchange.text.utf8)) {
            if let text = json.stringValue {
                message = text
            } else if let text = json["message"]?.stringValue {
                if case .int(let code) = json["code"] { message = "\(text) (code \(code))" } else { message = text }
            }
        }
        if message.isEmpty { message = "HTTP \(status)" }
        let hint: String? =
            switch status {
            case 401, 403: "check the username/password or token of channel \(channel)"
            case 404, 405: "check the url of channel \(channel): an Alertmanager's base URL, API v2"
            case 415: "the request lacked Content-Type: application/json"
            default: nil
            }
        return NotificationError(
            status >= 500 ? .serverError : .rejected,
            "Alertmanager \(target.instance) refused the alert: \(message.count > 300 ? String(message.prefix(300)) + "…" : message)",
            httpStatus: status,
            hint: hint
        )
    }
}
