import AsyncHTTPClient
import Crypto
import FluxbrainCore
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Posts `fluxbrain.webhook/v1` JSON to `FLUXBRAIN_WEBHOOK_URL`.
///
/// The body is encoded once, deterministically (sorted keys); with `FLUXBRAIN_WEBHOOK_SECRET` the exact bytes sent
/// are signed as Flux's `generic-hmac` provider does: `X-Signature: sha256=<hex HMAC-SHA256(secret, body)>`.
/// `Idempotency-Key` is `<fingerprint>:<kind>:<sequence>`: the same on every retry of one notification.
/// `FLUXBRAIN_WEBHOOK_HEADERS` are added as given (they may override `User-Agent`, not the signature or key).
package struct WebhookNotifier: Notifier {
    package let channel: ChannelID
    private let url: URL
    private let secret: String?
    private let extraHeaders: [(String, String)]
    private let http: NotificationHTTP

    /// - Parameters:
    ///   - url: `FLUXBRAIN_WEBHOOK_URL` (a secret: never logged).
    ///   - secret: `FLUXBRAIN_WEBHOOK_SECRET`, the HMAC key.
    ///   - headers: `FLUXBRAIN_WEBHOOK_HEADERS`, parsed.
    /// - Parameter channel: the channel's name (`webhook` without a routes file).
    package init(
        url: URL,
        secret: String?,
        headers: [(String, String)] = [],
        channel: ChannelID = .webhook,
        http: NotificationHTTP
    ) {
        self.channel = channel
        self.url = url
        self.secret = secret.flatMap { $0.isEmpty ? nil : $0 }
        self.extraHeaders = headers
        self.http = http
    }

    /// The exact body bytes for `notification`.
    package static func body(for notification: IncidentNotification) throws -> Data {
        try StableJSON.encode(WebhookPayload(notification))
    }

    /// `sha256=<lowercase hex HMAC-SHA256 of body keyed with secret>`.
    package static func signature(body: Data, secret: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
        return "sha256=" + code.map { String(format: "%02x", $0) }.joined()
    }

    /// The headers sent with `body`.
    package func headers(body: Data, idempotencyKey: String) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "User-Agent", value: BuildInfo.userAgent)
        for (name, value) in extraHeaders { headers.replaceOrAdd(name: name, value: value) }
        headers.replaceOrAdd(name: "Idempotency-Key", value: idempotencyKey)
        headers.replaceOrAdd(name: "X-Fluxbrain-Version", value: WebhookPayload.version)
        if let secret { headers.replaceOrAdd(name: "X-Signature", value: Self.signature(body: body, secret: secret)) }
        return headers
    }

    package func send(_ notification: IncidentNotification) async throws -> DeliveryReport {
        let body: Data
        do { body = try Self.body(for: notification) } catch {
            throw NotificationError(.invalidResponse, "could not encode the webhook payload", underlying: error)
        }
        let exchange = try await http.execute(
            method: .POST,
            url: url.absoluteString,
            headers: headers(body: body, idempotencyKey: notification.idempotencyKey),
            body: ByteBuffer(bytes: body),
            what: "webhook"
        )
        guard (200..<300).contains(exchange.status) else {
            let code: NotificationError.Code = exchange.status >= 500 ? .serverError : .rejected
            let hint: String? =
                switch exchange.status {
                case 401, 403: "check FLUXBRAIN_WEBHOOK_SECRET and FLUXBRAIN_WEBHOOK_HEADERS"
                case 404, 405, 410: "check FLUXBRAIN_WEBHOOK_URL"
                default: nil
                }
            throw NotificationError(
                code,
                "the webhook refused the payload: \(errorSnippet(exchange))",
                httpStatus: exchange.status,
                hint: hint
            )
        }
        return DeliveryReport(httpStatus: exchange.status, attempts: exchange.attempts, detail: "delivered")
    }
}
