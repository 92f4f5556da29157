import FluxbrainCore
import FluxbrainTestbed
import Foundation
import Hummingbird
import Logging
import Synchronization

/// GitHub's REST Issues API on loopback, with in-memory issues and comments in GitHub's JSON shapes.
///
/// Implements what Fluxbrain calls: `GET /repos/{o}/{r}/issues` (labels, state, sort, direction, per_page, page;
/// pull requests included as GitHub does; `Link` pagination), `POST /repos/{o}/{r}/issues` (201),
/// `PATCH /repos/{o}/{r}/issues/{n}` (200), `POST` and `GET /repos/{o}/{r}/issues/{n}/comments`. Requests need
/// `Authorization: Bearer <token>` (else 401 `Bad credentials`). Faults: the next create's response can be delayed
/// past the client's timeout (the issue is created, the answer is lost); rate-limit answers can be queued.
package final class FakeGitHub: Sendable {
    package struct Comment: Sendable, Hashable {
        package var id: Int64
        package var issueNumber: Int
        package var body: String
        package var createdAt: Date
    }

    package struct Issue: Sendable, Hashable {
        package var id: Int64
        package var number: Int
        package var title: String
        package var body: String
        package var state: String
        package var stateReason: String?
        package var labels: [String]
        package var createdAt: Date
        package var updatedAt: Date
        package var closedAt: Date?
        package var isPullRequest: Bool
    }

    /// A queued rate-limit answer.
    package enum RateLimit: Sendable, Hashable {
        /// 403 with `x-ratelimit-remaining: 0` and `x-ratelimit-reset` this many seconds from now.
        case primary(resetIn: Int)
        /// 429 with `retry-after`.
        case secondary(retryAfter: Int)
    }

    private struct State {
        var issues: [Issue] = []
        var comments: [Comment] = []
        var requests: [RecordedRequest] = []
        var nextID: Int64 = 1_000
        var loseNextCreate: Duration?
        var rateLimits: [RateLimit] = []
        var afterLostCreate: RateLimit?
    }

    package let owner: String
    package let repo: String
    package let token: String
    private let now: @Sendable () -> Date
    private let state = Mutex(State())

    package init(
        owner: String = "acme",
        repo: String = "platform",
        token: String = "ghp_test",
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.owner = owner
        self.repo = repo
        self.token = token
        self.now = now
    }

    /// Every request, oldest first.
    package var requests: [RecordedRequest] { state.withLock { $0.requests } }
    /// Every issue and pull request, by number.
    package var issues: [Issue] { state.withLock { $0.issues } }
    /// Comments on issue `number`, oldest first.
    package func comments(on number: Int) -> [Comment] {
        state.withLock { $0.comments.filter { $0.issueNumber == number } }
    }

    /// Creates the next issue but answers only after `delay` (longer than the client's timeout: the response is
    /// lost); with `thenRateLimit`, the request after that create is rate limited (so the sender's own retry fails).
    package func loseNextCreateResponse(delay: Duration = .seconds(3), thenRateLimit: RateLimit? = nil) {
        state.withLock {
            $0.loseNextCreate = delay
            $0.afterLostCreate = thenRateLimit
        }
    }

    /// Answers the next request with a rate-limit error.
    package func enqueueRateLimit(_ limit: RateLimit) { state.withLock { $0.rateLimits.append(limit) } }

    /// Adds an issue (or a pull request) directly, e.g. to seed history; returns its number.
    @discardableResult
    package func seed(
        title: String,
        body: String,
        labels: [String],
        state issueState: String = "open",
        closedAt: Date? = nil,
        pullRequest: Bool = false
    ) -> Int {
        let time = now()
        return state.withLock { state in
            let number = state.issues.count + 1
            state.nextID += 1
            state.issues.append(
                Issue(
                    id: state.nextID,
                    number: number,
                    title: title,
                    body: body,
                    state: issueState,
                    stateReason: issueState == "closed" ? "completed" : nil,
                    labels: labels,
                    createdAt: time,
                    updatedAt: closedAt ?? time,
                    closedAt: closedAt,
                    isPullRequest: pullRequest
                )
            )
            return number
        }
    }

    /// Runs the fake on a free loopback port during `body`, which gets it and its API base URL.
    package static func withRunning<T: Sendable>(
        owner: String = "acme",
        repo: String = "platform",
        token: String = "ghp_test",
        now: @escaping @Sendable () -> Date = { Date() },
        logger: Logger = Logger(label: "fake-github"),
        _ body: @Sendable (FakeGitHub, URL) async throws -> T
    ) async throws -> T {
        let fake = FakeGitHub(owner: owner, repo: repo, token: token, now: now)
        return try await withLoopbackServer(
            logger: logger,
            respond: { try await fake.respond($0) },
            body: { port in
                try await body(fake, URL(string: "http://127.0.0.1:\(port)")!)
            }
        )
    }

    // MARK: Server

    private func respond(_ request: Request) async throws -> Response {
        let recorded = try await RecordedRequest.read(request)
        let rateLimit = state.withLock { state -> RateLimit? in
            state.requests.append(recorded)
            return state.rateLimits.isEmpty ? nil : state.rateLimits.removeFirst()
        }
        guard recorded.headers["authorization"] == "Bearer \(token)" else {
            return json(401, ["message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"])
        }
        switch rateLimit {
        case .primary(let resetIn):
            let reset = Int(now().timeIntervalSince1970) + resetIn
            return fakeResponse(
                status: 403,
                headers: [
                    "x-ratelimit-limit": "5000", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "\(reset)",
                    "content-type": "application/json; charset=utf-8",
                ],
                body:
                    #"{"message":"API rate limit exceeded for user ID 1.","documentation_url":"https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"}"#
            )
        case .secondary(let retryAfter):
            return fakeResponse(
                status: 429,
                headers: ["retry-after": "\(retryAfter)", "content-type": "application/json; charset=utf-8"],
                body:
                    #"{"message":"You have exceeded a secondary rate limit.","documentation_url":"https://docs.github.com/rest"}"#
            )
        case nil:
            break
        }
        let prefix = "/repos/\(owner)/\(repo)/issues"
        guard recorded.path.hasPrefix(prefix) else { return json(404, ["message": "Not Found"]) }
        let rest = recorded.path.dropFirst(prefix.count).split(separator: "/").map(String.init)
        let host = recorded.headers["host"] ?? "127.0.0.1"
        switch (recorded.method, rest.count) {
        case ("GET", 0): return list(recorded, host: host)
        case ("POST", 0): return try await create(recorded)
        case ("PATCH", 1): return update(recorded, number: Int(rest[0]) ?? -1)
        case ("POST", 2) where rest[1] == "comments": return comment(recorded, number: Int(rest[0]) ?? -1)
        case ("GET", 2) where rest[1] == "comments": return listComments(number: Int(rest[0]) ?? -1)
        default: return json(404, ["message": "Not Found"])
        }
    }

    private func list(_ request: RecordedRequest, host: String) -> Response {
        let wantedState = request.query["state"] ?? "open"
        let labels = (request.query["labels"] ?? "").split(separator: ",").map(String.init)
        let sort = request.query["sort"] ?? "created"
        let ascending = request.query["direction"] == "asc"
        let perPage = min(Int(request.query["per_page"] ?? "30") ?? 30, 100)
        let page = max(Int(request.query["page"] ?? "1") ?? 1, 1)
        var matching = issues.filter { issue in
            (wantedState == "all" || issue.state == wantedState) && labels.allSatisfy(issue.labels.contains)
        }
        matching.sort { a, b in
            let (x, y) = sort == "updated" ? (a.updatedAt, b.updatedAt) : (a.createdAt, b.createdAt)
            if x == y { return ascending ? a.number < b.number : a.number > b.number }
            return ascending ? x < y : x > y
        }
        let pages = max((matching.count + perPage - 1) / perPage, 1)
        let slice = Array(matching.dropFirst((page - 1) * perPage).prefix(perPage))
        var headers = ["content-type": "application/json; charset=utf-8"]
        if page < pages {
            func link(_ p: Int) -> String {
                var items = request.query
                items["page"] = "\(p)"
                let query = items.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
                return "<http://\(host)\(request.path)?\(query)>"
            }
            headers["link"] = "\(link(page + 1)); rel=\"next\", \(link(pages)); rel=\"last\""
        }
        return jsonArray(200, slice.map { render($0, host: host) }, headers: headers)
    }

    private func create(_ request: RecordedRequest) async throws -> Response {
        guard let body = request.json, let title = body["title"]?.stringValue, !title.isEmpty else {
            return json(422, ["message": "Validation Failed"])
        }
        let text = body["body"]?.stringValue ?? ""
        guard text.count <= 65_536 else {
            return json(
                422,
                [
                    "message": "Validation Failed",
                    "errors": [
                        [
                            "resource": "Issue", "field": "body", "code": "custom",
                            "message": "body is too long (maximum is 65536 characters)",
                        ]
                    ],
                ]
            )
        }
        let labels = body["labels"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let time = now()
        let (issue, lose) = state.withLock { state -> (Issue, Duration?) in
            state.nextID += 1
            let issue = Issue(
                id: state.nextID,
                number: state.issues.count + 1,
                title: title,
                body: text,
                state: "open",
                stateReason: nil,
                labels: labels,
                createdAt: time,
                updatedAt: time,
                closedAt: nil,
                isPullRequest: false
            )
            state.issues.append(issue)
            let lose = state.loseNextCreate
            state.loseNextCreate = nil
            if lose != nil, let limit = state.afterLostCreate {
                state.rateLimits.insert(limit, at: 0)
                state.afterLostCreate = nil
            }
            return (issue, lose)
        }
        if let lose { try await Task.sleep(for: lose) }
        return json(201, render(issue, host: request.headers["host"] ?? "127.0.0.1"))
    }

    private func update(_ request: RecordedRequest, number: Int) -> Response {
        guard let body = request.json else { return json(400, ["message": "Problems parsing JSON"]) }
        let time = now()
        let updated = state.withLock { state -> Issue? in
            guard let index = state.issues.firstIndex(where: { $0.number == number }) else { return nil }
            var issue = state.issues[index]
            if let newState = body["state"]?.stringValue {
                if newState == "closed", issue.state != "closed" {
                    issue.closedAt = time
                    issue.stateReason = body["state_reason"]?.stringValue ?? "completed"
                } else if newState == "open", issue.state != "open" {
                    issue.closedAt = nil
                    issue.stateReason = "reopened"
                }
                issue.state = newState
            }
            if let title = body["title"]?.stringValue { issue.title = title }
            if let text = body["body"]?.stringValue { issue.body = text }
            issue.updatedAt = time
            state.issues[index] = issue
            return issue
        }
        guard let updated else { return json(404, ["message": "Not Found"]) }
        return json(200, render(updated, host: request.headers["host"] ?? "127.0.0.1"))
    }

    private func comment(_ request: RecordedRequest, number: Int) -> Response {
        guard let text = request.json?["body"]?.stringValue else { return json(422, ["message": "Validation Failed"]) }
        let time = now()
        let created = state.withLock { state -> Comment? in
            guard let index = state.issues.firstIndex(where: { $0.number == number }) else { return nil }
            state.nextID += 1
            let comment = Comment(id: state.nextID, issueNumber: number, body: text, createdAt: time)
            state.comments.append(comment)
            state.issues[index].updatedAt = time
            return comment
        }
        guard let created else { return json(404, ["message": "Not Found"]) }
        return json(201, render(created))
    }

    private func listComments(number: Int) -> Response {
        jsonArray(200, comments(on: number).map(render))
    }

    // MARK: JSON in GitHub's shapes

    private func render(_ issue: Issue, host: String) -> [String: Any] {
        let base = "https://github.com/\(owner)/\(repo)"
        var object: [String: Any] = [
            "id": issue.id, "node_id": "I_kwDO\(issue.id)", "number": issue.number, "title": issue.title,
            "body": issue.body, "state": issue.state, "state_reason": issue.stateReason ?? NSNull(),
            "locked": false, "comments": state.withLock { $0.comments.filter { $0.issueNumber == issue.number }.count },
            "labels": issue.labels.enumerated().map { index, name in
                ["id": 100 + index, "name": name, "color": "ededed", "default": false, "description": NSNull()]
                    as [String: Any]
            },
            "user": ["login": "fluxbrain-bot", "id": 1, "type": "User"],
            "url": "http://\(host)/repos/\(owner)/\(repo)/issues/\(issue.number)",
            "html_url": "\(base)/\(issue.isPullRequest ? "pull" : "issues")/\(issue.number)",
            "created_at": RFC3339.string(from: issue.createdAt), "updated_at": RFC3339.string(from: issue.updatedAt),
            "closed_at": issue.closedAt.map(RFC3339.string(from:)) ?? NSNull(),
            "author_association": "OWNER",
        ]
        if issue.isPullRequest {
            object["pull_request"] = [
                "url": "http://\(host)/repos/\(owner)/\(repo)/pulls/\(issue.number)",
                "html_url": "\(base)/pull/\(issue.number)",
            ]
        }
        return object
    }

    private func render(_ comment: Comment) -> [String: Any] {
        [
            "id": comment.id, "node_id": "IC_kwDO\(comment.id)", "body": comment.body,
            "html_url": "https://github.com/\(owner)/\(repo)/issues/\(comment.issueNumber)#issuecomment-\(comment.id)",
            "issue_url": "https://api.github.com/repos/\(owner)/\(repo)/issues/\(comment.issueNumber)",
            "user": ["login": "fluxbrain-bot", "id": 1, "type": "User"],
            "created_at": RFC3339.string(from: comment.createdAt),
            "updated_at": RFC3339.string(from: comment.createdAt),
        ]
    }

    private func json(_ status: Int, _ object: [String: Any], headers: [String: String] = [:]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        var headers = headers
        headers["content-type"] = "application/json; charset=utf-8"
        return fakeResponse(status: status, headers: headers, body: String(decoding: data, as: UTF8.self))
    }

    private func jsonArray(_ status: Int, _ objects: [[String: Any]], headers: [String: String] = [:]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: objects, options: [.sortedKeys])) ?? Data()
        var headers = headers
        headers["content-type"] = "application/json; charset=utf-8"
        return fakeResponse(status: status, headers: headers, body: String(decoding: data, as: UTF8.self))
    }
}
