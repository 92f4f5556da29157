import FluxbrainCore
import FluxbrainTestbed
import Foundation
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// The part of Slack's Web API a bot notifier uses, on loopback, in Slack's documented shapes.
///
/// `POST /chat.postMessage` and `POST /chat.update` take JSON bodies; `GET /conversations.history` takes query
/// parameters (`channel`, `oldest`, `limit`, `cursor`, `include_all_metadata`). Every answer is HTTP 200 JSON with
/// `ok`, and on failure `error`: `not_authed` without `Authorization`, `invalid_auth` for another token,
/// `channel_not_found` for an unknown channel, `not_in_channel` / `is_archived` for channels set up so,
/// `missing_scope` (with `needed` and `provided`) for history without `channels:history`, `invalid_blocks` for
/// messages over Block Kit's limits, `msg_too_long` for text over ``maxTextLength``, `message_not_found` for an
/// update of an unknown `ts`. Rate limits answer HTTP 429 with `Retry-After` and `{"ok":false,"error":"ratelimited"}`.
/// Faults are queued per method; ``Fault/dropAfterStoring`` stores a posted message and then cuts the connection
/// before the answer is complete (a lost response).
package final class FakeSlackWebAPI: Sendable {
    /// A stored message.
    package struct Message: Sendable, Hashable {
        package var channel: String
        package var ts: String
        package var text: String
        package var attachments: JSONValue?
        /// The parent's `ts` for a thread reply.
        package var threadTS: String?
        package var replyBroadcast: Bool
        package var metadata: JSONValue?
        /// `chat.update` calls applied to it.
        package var edits: Int

        package var isTopLevel: Bool { threadTS == nil }
        /// The first attachment's colour.
        package var color: String? { attachments?.arrayValue?.first?["color"]?.stringValue }
        /// The header block's text.
        package var header: String? {
            let blocks = attachments?.arrayValue?.first?["blocks"]?.arrayValue ?? []
            return blocks.first { $0["type"]?.stringValue == "header" }?["text"]?["text"]?.stringValue
        }
    }

    /// A queued answer for the next call of a method.
    package enum Fault: Sendable, Hashable {
        /// HTTP 429 with `Retry-After` seconds.
        case rateLimited(retryAfter: Int)
        /// HTTP 200 `{"ok":false,"error":code}`.
        case error(String)
        /// chat.postMessage only: store the message, then drop the connection mid-answer.
        case dropAfterStoring
    }

    private struct State {
        var messages: [Message] = []
        var requests: [RecordedRequest] = []
        var faults: [String: [Fault]] = [:]
        var counter = 0
    }

    /// The bot token the fake accepts.
    package let token: String
    /// Channels by ID, and the names that resolve to them (`#alerts` → `C0ALERTS`).
    package let channels: [String: String]
    /// Channel IDs whose members do not include the bot (`not_in_channel`), and archived ones (`is_archived`).
    package let notInChannel: Set<String>
    package let archived: Set<String>
    /// The token's scopes; history needs `channels:history`.
    package let scopes: Set<String>
    /// The longest `text` accepted (Slack truncates at 40,000; the fake refuses past this with `msg_too_long`).
    package let maxTextLength: Int
    private let now: @Sendable () -> Date
    private let state = Mutex(State())

    package init(
        token: String = "xoxb-test-token",
        channels: [String: String] = ["C0ALERTS": "#alerts"],
        notInChannel: Set<String> = [],
        archived: Set<String> = [],
        scopes: Set<String> = ["chat:write", "channels:history", "groups:history"],
        maxTextLength: Int = 40_000,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.token = token
        self.channels = channels
        self.notInChannel = notInChannel
        self.archived = archived
        self.scopes = scopes
        self.maxTextLength = maxTextLength
        self.now = now
    }

    /// Every request, oldest first.
    package var requests: [RecordedRequest] { state.withLock { $0.requests } }
    /// Requests to one method (`chat.postMessage`), oldest first.
    package func requests(_ method: String) -> [RecordedRequest] { requests.filter { $0.path == "/\(method)" } }
    /// Every stored message, oldest first.
    package var messages: [Message] { state.withLock { $0.messages } }
    /// Top-level messages (thread replies broadcast to the channel excluded).
    package var topLevel: [Message] { messages.filter(\.isTopLevel) }
    /// Replies in the thread of `ts`.
    package func replies(to ts: String) -> [Message] { messages.filter { $0.threadTS == ts } }

    /// Answers the next call of `method` with `fault` (in order).
    package func enqueue(_ fault: Fault, for method: String) {
        state.withLock { $0.faults[method, default: []].append(fault) }
    }

    /// Stores a top-level message directly (e.g. one posted before state was lost); returns its `ts`.
    @discardableResult
    package func seed(channel: String, text: String, metadata: JSONValue? = nil) -> String {
        state.withLock { state in
            let ts = nextTS(&state)
            state.messages.append(
                Message(
                    channel: channel,
                    ts: ts,
                    text: text,
                    threadTS: nil,
                    replyBroadcast: false,
                    metadata: metadata,
                    edits: 0
                )
            )
            return ts
        }
    }

    /// Runs the fake on a free loopback port during `body`, which gets it and its API base URL
    /// (`http://127.0.0.1:PORT/api`).
    package static func withRunning<T: Sendable>(
        _ fake: FakeSlackWebAPI = FakeSlackWebAPI(),
        logger: Logger = Logger(label: "fake-slack-web-api"),
        _ body: @Sendable (FakeSlackWebAPI, URL) async throws -> T
    ) async throws -> T {
        try await withLoopbackServer(
            logger: logger,
            respond: { try await fake.respond($0) },
            body: { port in try await body(fake, URL(string: "http://127.0.0.1:\(port)/api")!) }
        )
    }

    // MARK: Server

    private func nextTS(_ state: inout State) -> String {
        state.counter += 1
        let seconds = Int64(now().timeIntervalSince1970.rounded(.down))
        return "\(seconds).\(String(format: "%06d", state.counter))"
    }

    private func respond(_ request: Request) async throws -> Response {
        var recorded = try await RecordedRequest.read(request)
        if recorded.path.hasPrefix("/api/") { recorded.path.removeFirst(4) }
        let method = String(recorded.path.dropFirst())
        let fault = state.withLock { state -> Fault? in
            state.requests.append(recorded)
            guard var queue = state.faults[method], !queue.isEmpty else { return nil }
            let fault = queue.removeFirst()
            state.faults[method] = queue
            return fault
        }
        guard let authorization = recorded.headers["authorization"] else { return fail("not_authed") }
        guard authorization == "Bearer \(token)" else { return fail("invalid_auth") }
        switch fault {
        case .rateLimited(let seconds):
            return fakeResponse(
                status: 429,
                headers: ["Retry-After": "\(seconds)", "Content-Type": "application/json; charset=utf-8"],
                body: #"{"ok":false,"error":"ratelimited"}"#
            )
        case .error(let code):
            return fail(code)
        case .dropAfterStoring, nil:
            break
        }
        switch (recorded.method, method) {
        case ("POST", "chat.postMessage"): return post(recorded, drop: fault == .dropAfterStoring)
        case ("POST", "chat.update"): return update(recorded)
        case ("GET", "conversations.history"): return history(recorded)
        default: return fakeResponse(status: 404, body: "")
        }
    }

    private func resolve(_ channel: String?) -> String? {
        guard let channel else { return nil }
        if channels[channel] != nil { return channel }
        return channels.first { $0.value == channel }?.key
    }

    private func post(_ request: RecordedRequest, drop: Bool) -> Response {
        guard request.headers["content-type"]?.hasPrefix("application/json") == true, let body = request.json else {
            return fail("invalid_arguments")
        }
        guard let channel = resolve(body["channel"]?.stringValue) else { return fail("channel_not_found") }
        if notInChannel.contains(channel) { return fail("not_in_channel") }
        if archived.contains(channel) { return fail("is_archived") }
        let text = body["text"]?.stringValue ?? ""
        if text.isEmpty && body["blocks"] == nil && body["attachments"] == nil { return fail("no_text") }
        if text.count > maxTextLength { return fail("msg_too_long") }
        if !FakeSlack.withinLimits(body) { return fail("invalid_blocks") }
        let threadTS = body["thread_ts"]?.stringValue
        let message = state.withLock { state -> Message in
            let message = Message(
                channel: channel,
                ts: nextTS(&state),
                text: text,
                attachments: body["attachments"],
                threadTS: threadTS,
                replyBroadcast: body["reply_broadcast"] == .bool(true),
                metadata: body["metadata"],
                edits: 0
            )
            state.messages.append(message)
            return message
        }
        var answer: [String: JSONValue] = [
            "ok": .bool(true), "channel": .string(channel), "ts": .string(message.ts),
            "message": .object(["type": .string("message"), "text": .string(text), "ts": .string(message.ts)]),
        ]
        if let threadTS { answer["message"] = answer["message"].map { merge($0, ["thread_ts": .string(threadTS)]) } }
        let data = (try? JSONEncoder().encode(JSONValue.object(answer))) ?? Data()
        guard drop else {
            return fakeResponse(
                status: 200,
                headers: ["Content-Type": "application/json; charset=utf-8"],
                body: String(decoding: data, as: UTF8.self)
            )
        }
        // The head and part of the body go out, then the connection is cut: the client never sees the answer.
        struct Dropped: Error {}
        return Response(
            status: .ok,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(contentLength: data.count) { writer in
                try await writer.write(ByteBuffer(bytes: data.prefix(5)))
                throw Dropped()
            }
        )
    }

    private func update(_ request: RecordedRequest) -> Response {
        guard let body = request.json else { return fail("invalid_arguments") }
        guard let channel = resolve(body["channel"]?.stringValue) else { return fail("channel_not_found") }
        guard let ts = body["ts"]?.stringValue else { return fail("message_not_found") }
        let updated = state.withLock { state -> Message? in
            guard let index = state.messages.firstIndex(where: { $0.channel == channel && $0.ts == ts }) else {
                return nil
            }
            if let text = body["text"]?.stringValue { state.messages[index].text = text }
            if let attachments = body["attachments"] { state.messages[index].attachments = attachments }
            state.messages[index].edits += 1
            return state.messages[index]
        }
        guard let updated else { return fail("message_not_found") }
        return json([
            "ok": .bool(true), "channel": .string(channel), "ts": .string(ts), "text": .string(updated.text),
            "message": .object(["type": .string("message"), "text": .string(updated.text)]),
        ])
    }

    private func history(_ request: RecordedRequest) -> Response {
        guard scopes.contains("channels:history") else {
            return json([
                "ok": .bool(false), "error": .string("missing_scope"), "needed": .string("channels:history"),
                "provided": .string(scopes.sorted().joined(separator: ",")),
            ])
        }
        // conversations.history takes IDs only.
        guard let channel = request.query["channel"], channels[channel] != nil else {
            return fail("channel_not_found")
        }
        let oldest = request.query["oldest"].flatMap(Double.init) ?? 0
        let limit = min(max(Int(request.query["limit"] ?? "100") ?? 100, 1), 999)
        let offset = request.query["cursor"].flatMap { Int($0.dropFirst("next:".count)) } ?? 0
        let withMetadata = request.query["include_all_metadata"] == "true"
        let visible = messages.filter { message in
            message.channel == channel && (message.isTopLevel || message.replyBroadcast)
                && (Double(message.ts) ?? 0) > oldest
        }.reversed()  // newest first
        let page = Array(visible.dropFirst(offset).prefix(limit))
        let hasMore = offset + page.count < visible.count
        let items: [JSONValue] = page.map { message in
            var item: [String: JSONValue] = [
                "type": .string("message"), "ts": .string(message.ts), "text": .string(message.text),
            ]
            if let threadTS = message.threadTS { item["thread_ts"] = .string(threadTS) }
            if withMetadata, let metadata = message.metadata { item["metadata"] = metadata }
            return .object(item)
        }
        return json([
            "ok": .bool(true), "messages": .array(items), "has_more": .bool(hasMore),
            "response_metadata": .object(["next_cursor": .string(hasMore ? "next:\(offset + page.count)" : "")]),
        ])
    }

    private func merge(_ value: JSONValue, _ extra: [String: JSONValue]) -> JSONValue {
        guard case .object(var members) = value else { return value }
        for (key, item) in extra { members[key] = item }
        return .object(members)
    }

    private func fail(_ code: String) -> Response { json(["ok": .bool(false), "error": .string(code)]) }

    private func json(_ object: [String: JSONValue]) -> Response {
        let data = (try? JSONEncoder().encode(JSONValue.object(object))) ?? Data()
        return fakeResponse(
            status: 200,
            headers: ["Content-Type": "application/json; charset=utf-8"],
            body: String(decoding: data, as: UTF8.self)
        )
    }
}
