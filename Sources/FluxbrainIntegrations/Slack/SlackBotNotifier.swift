import AsyncHTTPClient
import FluxbrainCore
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Where an incident's Slack conversation lives: the top-level message's channel ID and `ts`, and the sequence of
/// the notification that posted it. Stored as the channel's delivery reference (``DeliveryReport/reference``) in
/// the form `CHANNEL:ts:sequence`.
package struct SlackThreadReference: Sendable, Hashable, CustomStringConvertible {
    /// The channel ID Slack answered with (`C0123456789`), not a name.
    package var channel: String
    /// The top-level message's `ts`, e.g. `1503435956.000247`: also its post time.
    package var ts: String
    /// The sequence of the notification that posted it (its first reply is the first reminder).
    package var sequence: Int?

    package init(channel: String, ts: String, sequence: Int?) {
        self.channel = channel
        self.ts = ts
        self.sequence = sequence
    }

    /// Parses `CHANNEL:ts` or `CHANNEL:ts:sequence`; `nil` for anything else (e.g. a reference of another notifier).
    package init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 || parts.count == 3, !parts[0].isEmpty, Double(parts[1]) != nil else { return nil }
        channel = parts[0]
        ts = parts[1]
        sequence = parts.count == 3 ? Int(parts[2]) : nil
    }

    /// `CHANNEL:ts:sequence`.
    package var description: String { "\(channel):\(ts)" + (sequence.map { ":\($0)" } ?? "") }

    /// When the top-level message was posted (its `ts`).
    package var postedAt: Date? { Double(ts).map(Date.init(timeIntervalSince1970:)) }
}

/// Posts notifications through the Slack Web API with a bot token (`FLUXBRAIN_SLACK_BOT_TOKEN`,
/// `FLUXBRAIN_SLACK_CHANNEL`, `FLUXBRAIN_SLACK_API_URL`), one thread per incident.
///
/// - firing: `chat.postMessage` to the channel, with message `metadata` (`event_type` `fluxbrain_incident`, the
///   fingerprint and the notification's idempotency key; metadata is visible to every member, so nothing else). The
///   answer's channel ID and `ts` become the delivery reference, kept with the notification state. A retry of a
///   firing (an earlier attempt failed, perhaps after Slack stored the message) first looks the message up with
///   `conversations.history` (`include_all_metadata`) by the idempotency key, and adopts it instead of posting again.
/// - reminder: a reply in that thread (`thread_ts`); the first reminder of a stalled incident also goes to the
///   channel (`reply_broadcast`).
/// - resolved: `chat.update` of the top-level message (resolved colour and header, time to resolve), then a reply
///   in the thread. If the message is gone (`message_not_found`) the resolved message is posted top-level; if it
///   cannot be edited (`cant_update_message`, `edit_window_closed`) only the reply is sent.
/// - Without a reference (state lost, or earlier notifications went through a webhook) every kind posts top-level.
/// - test: a top-level message, no reference.
///
/// Slack answers HTTP 200 with `ok: false` and an error code on failure: auth, scope and channel errors are
/// `.rejected` with a hint; `msg_too_long` and `invalid_blocks` re-render a plain-text message once; `ratelimited`
/// is `.rateLimited`; HTTP 429 is waited out (`Retry-After`) by ``NotificationHTTP``. The token is sent only in the
/// `Authorization` header, never logged nor put in an error.
package struct SlackBotNotifier: Notifier {
    /// The `metadata.event_type` of Fluxbrain's top-level messages.
    package static let metadataEventType = "fluxbrain_incident"
    /// The hint of token errors: where the token is set.
    package static let tokenHint =
        "check the bot token (FLUXBRAIN_SLACK_BOT_TOKEN, or the routes-file channel's token:)"
    /// The hint of channel errors: where the channel is set, and that it should be an ID.
    package static let channelHint =
        "check the Slack channel (FLUXBRAIN_SLACK_CHANNEL, or the routes-file channel's channel:); give its ID, e.g. C0123456789"

    /// Error codes of a payload Slack will not take: the message is re-rendered as plain text once.
    static let payloadErrors: Set<String> = [
        "msg_too_long", "invalid_blocks", "invalid_blocks_format", "msg_blocks_too_long", "no_text",
        "too_many_attachments", "invalid_attachments",
    ]
    /// `chat.update` codes for a top-level message that cannot be edited.
    static let uneditable: Set<String> = ["cant_update_message", "edit_window_closed"]

    package let channel: ChannelID
    private let token: String
    private let slackChannel: String
    private let apiBase: String
    private let builder: SlackMessageBuilder
    private let http: NotificationHTTP
    private let lookback: Duration
    private let maxHistoryPages: Int

    /// - Parameters:
    ///   - token: the bot token (`xoxb-…`), a secret.
    ///   - slackChannel: the channel to post to, preferably its ID (`conversations.history` takes only IDs).
    ///   - apiURL: the Web API base, `https://slack.com/api` by default.
    ///   - channel: the Fluxbrain channel's name (`slack` without a routes file).
    ///   - lookback: how far back before the retry's claim the lost-response lookup reads the channel's history
    ///     (default 24h: a retry follows its failed attempt after at most the notification backoff, 1h by default).
    ///   - maxHistoryPages: pages of 200 messages read at most by that lookup.
    package init(
        token: String,
        slackChannel: String,
        apiURL: URL = URL(string: "https://slack.com/api")!,
        channel: ChannelID = .slack,
        lookback: Duration = .seconds(24 * 3600),
        maxHistoryPages: Int = 5,
        http: NotificationHTTP
    ) {
        self.channel = channel
        self.token = token
        self.slackChannel = slackChannel
        self.apiBase = apiURL.apiBase
        self.builder = SlackMessageBuilder()
        self.http = http
        self.lookback = lookback
        self.maxHistoryPages = maxHistoryPages
    }

    package func send(_ notification: IncidentNotification) async throws -> DeliveryReport {
        var attempts = 0
        var report = try await deliver(notification, attempts: &attempts)
        report.attempts = max(attempts, 1)
        return report
    }

    // MARK: Flow

    private func deliver(_ notification: IncidentNotification, attempts: inout Int) async throws -> DeliveryReport {
        let parent = notification.previousReference.flatMap(SlackThreadReference.init)
        switch notification.kind {
        case .test:
            let posted = try await post(notification, to: slackChannel, thread: nil, attempts: &attempts)
            return DeliveryReport(httpStatus: 200, detail: "posted test message ts \(posted.ts)")
        case .firing:
            return try await postTopLevel(notification, attempts: &attempts)
        case .reminder:
            guard let parent else { return try await postTopLevel(notification, attempts: &attempts) }
            let broadcast =
                notification.incident.state == .stalled
                && parent.sequence.map { notification.sequence == $0 + 1 } == true
            _ = try await post(
                notification,
                to: parent.channel,
                thread: (parent.ts, broadcast),
                attempts: &attempts
            )
            return DeliveryReport(
                httpStatus: 200,
                detail: "replied in thread \(parent.ts)" + (broadcast ? " (also sent to the channel)" : ""),
                reference: parent.description
            )
        case .resolved:
            guard let parent else { return try await postTopLevel(notification, attempts: &attempts) }
            switch try await updateTopLevel(parent, notification, attempts: &attempts) {
            case .gone:
                return try await postTopLevel(notification, attempts: &attempts)
            case .updated, .notUpdated:
                _ = try await post(notification, to: parent.channel, thread: (parent.ts, false), attempts: &attempts)
                return DeliveryReport(
                    httpStatus: 200,
                    detail: "replied in thread \(parent.ts)",
                    reference: parent.description
                )
            }
        }
    }

    /// Posts a new top-level message (after adopting one an earlier attempt of a retry posted, if any).
    private func postTopLevel(_ notification: IncidentNotification, attempts: inout Int) async throws -> DeliveryReport
    {
        if notification.isRetry, let found = try await findPosted(notification, attempts: &attempts) {
            return DeliveryReport(
                httpStatus: 200,
                detail: "message ts \(found.ts) was posted by an earlier attempt",
                reference: found.description
            )
        }
        let posted = try await post(notification, to: slackChannel, thread: nil, attempts: &attempts)
        let reference = SlackThreadReference(channel: posted.channel, ts: posted.ts, sequence: notification.sequence)
        return DeliveryReport(httpStatus: 200, detail: "posted ts \(posted.ts)", reference: reference.description)
    }

    private enum UpdateResult { case updated, gone, notUpdated }

    /// `chat.update` of the top-level message to its resolved form. Failures other than `message_not_found` are
    /// logged and do not fail the resolve: the thread reply still tells it.
    private func updateTopLevel(
        _ parent: SlackThreadReference,
        _ notification: IncidentNotification,
        attempts: inout Int
    ) async throws -> UpdateResult {
        let resolvedAfter = parent.postedAt.map { posted in
            Duration.seconds(max(Int64(notification.notifiedAt.timeIntervalSince(posted).rounded()), 0))
        }
        let message = builder.message(for: notification, resolvedAfter: resolvedAfter)
        var body = MessageBody(channel: parent.channel, message: message)
        body.ts = parent.ts
        let answer: APIAnswer
        do {
            answer = try await call("chat.update", body: body, idempotent: true, attempts: &attempts)
        } catch {
            http.logger.warning(
                "Slack chat.update of the incident's first message failed; replying in the thread only",
                metadata: ["channel": "\(channel)", "error": "\(error)"]
            )
            return .notUpdated
        }
        guard let code = answer.error else { return .updated }
        if code == "message_not_found" { return .gone }
        // cant_update_message, edit_window_closed: the workspace restricts edits; anything else is unexpected.
        http.logger.log(
            level: Self.uneditable.contains(code) ? .info : .warning,
            "Slack chat.update of the incident's first message refused; replying in the thread only",
            metadata: ["channel": "\(channel)", "slackError": "\(code)"]
        )
        return .notUpdated
    }

    private struct Posted {
        var channel: String
        var ts: String
    }

    /// `chat.postMessage` of the notification's message, top-level (with metadata) or in `thread`; a payload Slack
    /// refuses is re-rendered once as plain text.
    private func post(
        _ notification: IncidentNotification,
        to target: String,
        thread: (ts: String, broadcast: Bool)?,
        attempts: inout Int
    ) async throws -> Posted {
        var body = MessageBody(channel: target, message: builder.message(for: notification))
        if let thread {
            body.threadTS = thread.ts
            if thread.broadcast { body.replyBroadcast = true }
        } else if notification.kind != .test {
            body.metadata = MessageBody.Metadata(
                eventType: Self.metadataEventType,
                eventPayload: [
                    "fingerprint": notification.incident.fingerprint.hex,
                    "idempotency_key": notification.idempotencyKey,
                ]
            )
        }
        // A top-level post is not idempotent: a 5xx is not retried here (the dispatcher's retry looks it up first).
        var answer = try await call("chat.postMessage", body: body, idempotent: thread != nil, attempts: &attempts)
        if let code = answer.error, Self.payloadErrors.contains(code) {
            http.logger.warning(
                "Slack refused the message; sending a plain-text version",
                metadata: ["channel": "\(channel)", "slackError": "\(code)"]
            )
            body.text = builder.fallbackText(notification)
            body.attachments = nil
            answer = try await call("chat.postMessage", body: body, idempotent: thread != nil, attempts: &attempts)
        }
        if answer.error != nil { throw failure(answer, what: "chat.postMessage") }
        guard let ts = answer.json["ts"]?.stringValue, let channelID = answer.json["channel"]?.stringValue else {
            throw NotificationError(
                .invalidResponse,
                "Slack chat.postMessage answered ok without channel and ts",
                httpStatus: answer.status
            )
        }
        return Posted(channel: channelID, ts: ts)
    }

    // MARK: Lost responses

    /// The top-level message an earlier attempt of `notification` posted, found by its idempotency key in the
    /// channel's history; `nil` if there is none or the history cannot be read (logged, naming the missing scope).
    private func findPosted(
        _ notification: IncidentNotification,
        attempts: inout Int
    ) async throws -> SlackThreadReference? {
        let oldest = notification.notifiedAt.addingTimeInterval(-lookback.timeInterval).timeIntervalSince1970
        var cursor: String?
        var pages = 0
        repeat {
            pages += 1
            var query = [
                ("channel", slackChannel), ("oldest", String(format: "%.6f", oldest)), ("limit", "200"),
                ("include_all_metadata", "true"),
            ]
            if let cursor { query.append(("cursor", cursor)) }
            let answer = try await call("conversations.history", query: query, attempts: &attempts)
            if let code = answer.error {
                var metadata: Logger.Metadata = ["channel": "\(channel)", "slackError": "\(code)"]
                if let needed = answer.json["needed"]?.stringValue { metadata["neededScope"] = "\(needed)" }
                http.logger.warning(
                    code == "missing_scope"
                        ? "cannot look for a message an earlier attempt may have posted: the Slack app lacks the history scope (channels:history for public, groups:history for private channels); posting, which may duplicate it"
                        : "cannot look for a message an earlier attempt may have posted; posting, which may duplicate it",
                    metadata: metadata
                )
                return nil
            }
            for message in answer.json["messages"]?.arrayValue ?? [] {
                guard let metadata = message["metadata"],
                    metadata["event_type"]?.stringValue == Self.metadataEventType,
                    metadata["event_payload"]?["idempotency_key"]?.stringValue == notification.idempotencyKey,
                    let ts = message["ts"]?.stringValue
                else { continue }
                return SlackThreadReference(channel: slackChannel, ts: ts, sequence: notification.sequence)
            }
            cursor = answer.json["response_metadata"]?["next_cursor"]?.stringValue
            if cursor?.isEmpty == true { cursor = nil }
        } while cursor != nil && pages < maxHistoryPages
        return nil
    }

    // MARK: HTTP

    /// A `chat.postMessage` / `chat.update` JSON body.
    private struct MessageBody: Encodable {
        struct Metadata: Encodable {
            var eventType: String
            var eventPayload: [String: String]
            enum CodingKeys: String, CodingKey {
                case eventType = "event_type"
                case eventPayload = "event_payload"
            }
        }

        var channel: String
        var ts: String?
        var text: String
        var attachments: [SlackAttachment]?
        var threadTS: String?
        var replyBroadcast: Bool?
        var metadata: Metadata?
        var unfurlLinks = false
        var unfurlMedia = false

        init(channel: String, message: SlackMessage) {
            self.channel = channel
            self.text = message.text
            self.attachments = message.attachments
        }

        enum CodingKeys: String, CodingKey {
            case channel, ts, text, attachments, metadata
            case threadTS = "thread_ts"
            case replyBroadcast = "reply_broadcast"
            case unfurlLinks = "unfurl_links"
            case unfurlMedia = "unfurl_media"
        }
    }

    /// A Web API answer that arrived with HTTP 200: `ok`, or `error` with Slack's code.
    private struct APIAnswer {
        var json: JSONValue
        var status: Int
        /// Slack's error code when `ok` is not `true`.
        var error: String? {
            if case .bool(true) = json["ok"] { return nil }
            return json["error"]?.stringValue ?? "unknown_error"
        }
    }

    private func call(
        _ method: String,
        body: MessageBody,
        idempotent: Bool,
        attempts: inout Int
    ) async throws -> APIAnswer {
        let data: Data
        do { data = try StableJSON.encode(body) } catch {
            throw NotificationError(.invalidResponse, "could not encode the Slack \(method) request", underlying: error)
        }
        return try await exchange(
            .POST,
            url: "\(apiBase)/\(method)",
            body: ByteBuffer(bytes: data),
            method: method,
            idempotent: idempotent,
            attempts: &attempts
        )
    }

    private func call(_ method: String, query: [(String, String)], attempts: inout Int) async throws -> APIAnswer {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        let text = query.map { name, value in
            "\(name)=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value)"
        }.joined(separator: "&")
        return try await exchange(
            .GET,
            url: "\(apiBase)/\(method)?\(text)",
            body: nil,
            method: method,
            idempotent: true,
            attempts: &attempts
        )
    }

    private func exchange(
        _ httpMethod: HTTPMethod,
        url: String,
        body: ByteBuffer?,
        method: String,
        idempotent: Bool,
        attempts: inout Int
    ) async throws -> APIAnswer {
        var headers = HTTPHeaders()
        headers.add(name: "Authorization", value: "Bearer \(token)")
        headers.add(name: "User-Agent", value: BuildInfo.userAgent)
        if body != nil { headers.add(name: "Content-Type", value: "application/json; charset=utf-8") }
        var http = self.http
        if !idempotent { http.policy.retryServerErrors = false }
        let exchange: HTTPExchange
        do {
            exchange = try await http.execute(
                method: httpMethod,
                url: url,
                headers: headers,
                body: body,
                what: "Slack \(method)"
            )
            attempts += exchange.attempts
        } catch {
            attempts += 1
            throw error
        }
        guard exchange.status == 200 else {
            throw NotificationError(
                exchange.status >= 500 ? .serverError : .rejected,
                "Slack \(method) failed: HTTP \(exchange.status) \(errorSnippet(exchange))",
                httpStatus: exchange.status,
                hint: [401, 403].contains(exchange.status) ? Self.tokenHint : nil
            )
        }
        let json: JSONValue
        do {
            json = try JSONDecoder().decode(JSONValue.self, from: Data(exchange.body.readableBytesView))
        } catch {
            throw NotificationError(
                .invalidResponse,
                "Slack \(method) answered with something other than JSON: \(errorSnippet(exchange))",
                httpStatus: exchange.status,
                underlying: error
            )
        }
        return APIAnswer(json: json, status: exchange.status)
    }

    /// The error for an `ok: false` answer: Slack's code, what to check, and whether a retry can help.
    private func failure(_ answer: APIAnswer, what: String) -> NotificationError {
        let code = answer.error ?? "unknown_error"
        var message = "Slack \(what) failed: \(code)"
        let hint: String?
        var errorCode = NotificationError.Code.rejected
        switch code {
        case "not_authed", "invalid_auth", "account_inactive", "token_revoked", "token_expired", "no_permission":
            hint = Self.tokenHint
        case "missing_scope":
            let needed = answer.json["needed"]?.stringValue ?? "?"
            let provided = answer.json["provided"]?.stringValue ?? "?"
            message += " (needed \(needed), provided \(provided))"
            hint = "add the scope \(needed) to the Slack app and reinstall it (docs/slack.md has a manifest)"
        case "channel_not_found":
            hint = Self.channelHint + "; for a private channel, invite the app first"
        case "not_in_channel":
            hint = "invite the app to the channel (/invite @fluxbrain), or give it the chat:write.public scope"
        case "is_archived":
            hint = "the channel is archived; " + Self.channelHint
        case "ratelimited", "rate_limited":
            errorCode = .rateLimited
            hint = nil
        case "internal_error", "fatal_error", "service_unavailable", "request_timeout":
            errorCode = .serverError
            hint = nil
        default:
            hint = Self.payloadErrors.contains(code) ? "the plain-text version was refused too" : nil
        }
        return NotificationError(errorCode, message, httpStatus: answer.status, hint: hint)
    }
}
