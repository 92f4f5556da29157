import FluxbrainCore
import FluxbrainTestbed
import Foundation
import Hummingbird
import Logging
import Synchronization

/// Alertmanager's `POST /api/v2/alerts` on loopback, answering as Alertmanager 0.25 does
/// (shared/reference/alerting.md §2.1): `200` with an empty body for a valid batch; `415` without a JSON content
/// type; `400 {"code":400,"message":"parsing alerts body …"}` for a body that is not a JSON array; `422
/// {"code":602,"message":"0.labels in body is required"}` for an alert without labels; `400 "<errors joined by
/// '; '>"` (a JSON string) for an invalid label name or a start after the end; and whatever was queued.
package final class FakeAlertmanager: Sendable {
    private struct State {
        var requests: [RecordedRequest] = []
        var faults: [(status: Int, body: String)] = []
    }

    private let state = Mutex(State())

    package init() {}

    /// Every request received, oldest first.
    package var requests: [RecordedRequest] { state.withLock { $0.requests } }

    /// Answers the next request with `status` and `body` (in order, one request each).
    package func enqueue(status: Int, body: String = "") {
        state.withLock { $0.faults.append((status, body)) }
    }

    /// Runs the fake on a free loopback port during `body`, which gets it and its base URL.
    package static func withRunning<T: Sendable>(
        logger: Logger = Logger(label: "fake-alertmanager"),
        _ body: @Sendable (FakeAlertmanager, URL) async throws -> T
    ) async throws -> T {
        let fake = FakeAlertmanager()
        return try await withLoopbackServer(
            logger: logger,
            respond: { try await fake.respond($0) },
            body: { port in try await body(fake, URL(string: "http://127.0.0.1:\(port)")!) }
        )
    }

    private func respond(_ request: Request) async throws -> Response {
        let recorded = try await RecordedRequest.read(request)
        let fault = state.withLock { state -> (status: Int, body: String)? in
            state.requests.append(recorded)
            return state.faults.isEmpty ? nil : state.faults.removeFirst()
        }
        if let fault {
            return fakeResponse(status: fault.status, headers: ["Content-Type": "application/json"], body: fault.body)
        }
        guard recorded.method == "POST", ["/api/v2/alerts", "/api/v2/alerts/"].contains(recorded.path) else {
            return fakeResponse(status: 404, body: "404 page not found")
        }
        guard recorded.headers["content-type"]?.hasPrefix("application/json") == true else {
            return fakeResponse(status: 415, body: "")
        }
        guard let alerts = recorded.json?.arrayValue else {
            return Self.json(
                400,
                #"{"code":400,"message":"parsing alerts body from \"\" failed, because json: cannot unmarshal"}"#
            )
        }
        var errors: [String] = []
        for (index, alert) in alerts.enumerated() {
            guard let labels = alert["labels"]?.objectValue else {
                return Self.json(422, #"{"code":602,"message":"\#(index).labels in body is required"}"#)
            }
            if let bad = labels.keys.sorted().first(where: { !AlertmanagerLabel.isValidName($0) }) {
                errors.append("invalid label set: invalid name \\\"\(bad)\\\"")
            }
            if labels.values.allSatisfy({ $0.stringValue?.isEmpty != false }) {
                errors.append("at least one label pair required")
            }
            let start = alert["startsAt"]?.stringValue.flatMap(RFC3339.date(from:))
            let end = alert["endsAt"]?.stringValue.flatMap(RFC3339.date(from:))
            if let start, let end, start > end { errors.append("start time must be before end time") }
        }
        if !errors.isEmpty { return Self.json(400, "\"\(errors.joined(separator: "; "))\"") }
        return fakeResponse(status: 200, body: "")
    }

    private static func json(_ status: Int, _ body: String) -> Response {
        fakeResponse(status: status, headers: ["Content-Type": "application/json"], body: body)
    }
}

/// Alertmanager 0.25's label name rule, as the fake checks it independently of Fluxbrain's code.
enum AlertmanagerLabel {
    static func isValidName(_ name: String) -> Bool {
        name.range(of: "^[a-zA-Z_][a-zA-Z0-9_]*$", options: .regularExpression) != nil
    }
}
