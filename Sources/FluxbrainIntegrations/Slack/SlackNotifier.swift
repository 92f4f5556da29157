import AsyncHTTPClient
import FluxbrainCore
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Posts notifications to a Slack incoming webhook (`FLUXBRAIN_SLACK_WEBHOOK`, optional `FLUXBRAIN_SLACK_CHANNEL`).
///
/// Slack answers `200 ok`, or a text/plain error such as `invalid_payload`, `invalid_blocks`, `no_service`,
/// `channel_not_found`; a 429 carries `Retry-After` seconds, which the notifier sleeps through (bounded by the
/// policy) before retrying; 5xx are retried with a short backoff. The webhook URL is a secret: it is never logged
/// nor put in an error.
package struct SlackNotifier: Notifier {
    package let channel: ChannelID
    private let webhookURL: URL
    private let builder: SlackMessageBuilder
    private let http: NotificationHTTP

    /// - Parameters:
    ///   - webhookURL: `FLUXBRAIN_SLACK_WEBHOOK`.
    ///   - channelOverride: `FLUXBRAIN_SLACK_CHANNEL`.
    ///   - http: the shared client with its retry policy, sleeper and logger.
    /// - Parameter channel: the channel's name (`slack` without a routes file).
    package init(
        webhookURL: URL,
        channelOverride: String? = nil,
        channel: ChannelID = .slack,
        http: NotificationHTTP
    ) {
        self.channel = channel
        self.webhookURL = webhookURL
        self.builder = SlackMessageBuilder(channel: channelOverride)
        self.http = http
    }

    package func send(_ notification: IncidentNotification) async throws -> DeliveryReport {
        let message = builder.message(for: notification)
        let body: Data
        do { body = try StableJSON.encode(message) } catch {
            throw NotificationError(.invalidResponse, "could not encode the Slack message", underlying: error)
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        headers.add(name: "User-Agent", value: BuildInfo.userAgent)
        let exchange = try await http.execute(
            method: .POST,
            url: webhookURL.absoluteString,
            headers: headers,
            body: ByteBuffer(bytes: body),
            what: "Slack webhook"
        )
        guard (200..<300).contains(exchange.status) else {
            let code: NotificationError.Code = exchange.status >= 500 ? .serverError : .rejected
            // 403 invalid_token, 404 no_service, 410 channel_is_archived: the webhook URL is what to look at.
            let hint = [401, 403, 404, 410].contains(exchange.status) ? "check FLUXBRAIN_SLACK_WEBHOOK" : nil
            throw NotificationError(
                code,
                "Slack refused the message: \(errorSnippet(exchange))",
                httpStatus: exchange.status,
                hint: hint
            )
        }
        return DeliveryReport(httpStatus: exchange.status, attempts: exchange.attempts, detail: errorSnippet(exchange))
    }
}
