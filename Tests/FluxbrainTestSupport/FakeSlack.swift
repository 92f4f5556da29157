import FluxbrainCore
import FluxbrainTestbed
import Foundation
import Hummingbird
import Logging
import Synchronization

/// A Slack incoming webhook on loopback: records every request and answers as Slack does.
///
/// `200 ok` by default; `invalid_blocks` (400) for messages over Block Kit's limits (more than 50 blocks, a header
/// over 150 characters, a section text over 3,000, a field over 2,000, more than 10 fields), `invalid_payload`
/// (400) for a body that is not JSON or lacks `text` and `blocks`; and whatever was queued with `enqueue`.
package final class FakeSlack: Sendable {
    /// A queued answer.
    package enum Fault: Sendable, Hashable {
        /// 429 with `Retry-After: seconds` and body `rate_limited`.
        case rateLimited(retryAfter: Int)
        /// 500 with body `internal_error`.
        case serverError
        /// A 4xx with Slack's text/plain error code, e.g. `invalid_blocks`, `no_service`.
        case error(status: Int, code: String)
    }

    private struct State {
        var requests: [RecordedRequest] = []
        var faults: [Fault] = []
    }

    private let state = Mutex(State())

    package init() {}

    /// Every request received, oldest first.
    package var requests: [RecordedRequest] { state.withLock { $0.requests } }

    /// Answers the next request with `fault` (in order, one request each).
    package func enqueue(_ fault: Fault) { state.withLock { $0.faults.append(fault) } }

    /// Runs the fake on a free loopback port during `body`, which gets it and its webhook URL.
    package static func withRunning<T: Sendable>(
        logger: Logger = Logger(label: "fake-slack"),
        _ body: @Sendable (FakeSlack, URL) async throws -> T
    ) async throws -> T {
        let fake = FakeSlack()
        return try await withLoopbackServer(
            logger: logger,
            respond: { try await fake.respond($0) },
            body: { port in
                try await body(fake, URL(string: "http://127.0.0.1:\(port)/services/T000/B000/XXXXSECRET")!)
            }
        )
    }

    private func respond(_ request: Request) async throws -> Response {
        let recorded = try await RecordedRequest.read(request)
        let fault = state.withLock { state -> Fault? in
            state.requests.append(recorded)
            return state.faults.isEmpty ? nil : state.faults.removeFirst()
        }
        switch fault {
        case .rateLimited(let seconds):
            return fakeResponse(
                status: 429,
                headers: ["Retry-After": "\(seconds)", "Content-Type": "text/plain"],
                body: "rate_limited"
            )
        case .serverError:
            return fakeResponse(status: 500, headers: ["Content-Type": "text/plain"], body: "internal_error")
        case .error(let status, let code):
            return fakeResponse(status: status, headers: ["Content-Type": "text/plain"], body: code)
        case nil:
            break
        }
        guard recorded.method == "POST", let json = recorded.json,
            json["text"] != nil || json["blocks"] != nil || json["attachments"] != nil
        else {
            return fakeResponse(status: 400, headers: ["Content-Type": "text/plain"], body: "invalid_payload")
        }
        if !Self.withinLimits(json) {
            return fakeResponse(status: 400, headers: ["Content-Type": "text/plain"], body: "invalid_blocks")
        }
        return fakeResponse(status: 200, headers: ["Content-Type": "text/plain"], body: "ok")
    }

    /// Slack's Block Kit limits, as the real service enforces them.
    package static func withinLimits(_ message: JSONValue) -> Bool {
        // Blocks at the top level and inside attachments (the colour-bar form); the 50-block cap is per message.
        let attachments = message["attachments"]?.arrayValue ?? []
        if attachments.contains(where: { $0["color"] != nil && $0["color"]?.stringValue?.hasPrefix("#") != true }) {
            return false
        }
        let blocks = (message["blocks"]?.arrayValue ?? []) + attachments.flatMap { $0["blocks"]?.arrayValue ?? [] }
        guard blocks.count <= 50 else { return false }
        for block in blocks {
            let type = block["type"]?.stringValue
            let text = block["text"]?["text"]?.stringValue ?? ""
            if type == "header", text.count > 150 || block["text"]?["type"]?.stringValue != "plain_text" {
                return false
            }
            if type == "section" {
                if text.count > 3000 { return false }
                let fields = block["fields"]?.arrayValue ?? []
                if fields.count > 10 { return false }
                if fields.contains(where: { ($0["text"]?.stringValue ?? "").count > 2000 }) { return false }
                if block["text"] == nil && fields.isEmpty { return false }
            }
            if type == "context", (block["elements"]?.arrayValue ?? []).count > 10 { return false }
        }
        return true
    }
}
