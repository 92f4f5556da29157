import AsyncHTTPClient
import FluxbrainCore
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Keeps one GitHub issue per incident (`FLUXBRAIN_GITHUB_OWNER`, `_REPO`, `_TOKEN`, `_API_URL`, `_REOPEN_WINDOW`).
///
/// - firing: comment on the open issue carrying the incident's fingerprint marker; else reopen the most recently
///   closed one if it closed within the reopen window (PATCH `state=open`, then a comment); else create one with
///   labels `fluxbrain`, `cluster:<name>`, `kind:<Kind>`. An open issue whose body carries this very notification's
///   marker was created by an earlier attempt whose response was lost: nothing more is done.
/// - reminder: comment on the open issue (if there is none, it acts as firing).
/// - resolved: comment on the open issue, then close it (`state_reason: completed`); nothing if none is open.
/// - test: create a labelled `[TEST]` issue and close it at once (`state_reason: not_planned`).
///
/// Issues are found by listing the `fluxbrain` label (open ones; then closed ones by most recent update, stopping at
/// the reopen window) and scanning bodies, not through search, which is eventually consistent. Pull requests in the
/// list are skipped. Rate limits (403/429 with `retry-after`, or `x-ratelimit-remaining: 0` and
/// `x-ratelimit-reset`) are waited out when short. The token is never logged.
package struct GitHubIssuesNotifier: Notifier {
    package let channel: ChannelID
    private let owner: String
    private let repo: String
    private let token: String
    private let apiBase: String
    private let reopenWindow: Duration
    private let maxPages: Int
    private let renderer: GitHubIssueRenderer
    private let http: NotificationHTTP

    /// - Parameters:
    ///   - apiURL: `FLUXBRAIN_GITHUB_API_URL` (`https://api.github.com`, or `https://HOST/api/v3` for Enterprise).
    ///   - reopenWindow: `FLUXBRAIN_GITHUB_REOPEN_WINDOW` (default 24h).
    ///   - maxPages: list pages of 100 read at most per lookup.
    ///   - channel: the channel's name (`github` without a routes file).
    package init(
        owner: String,
        repo: String,
        token: String,
        apiURL: URL = URL(string: "https://api.github.com")!,
        reopenWindow: Duration = .seconds(24 * 3600),
        maxPages: Int = 10,
        channel: ChannelID = .github,
        http: NotificationHTTP
    ) {
        self.channel = channel
        self.owner = owner
        self.repo = repo
        self.token = token
        self.apiBase = apiURL.apiBase
        self.reopenWindow = reopenWindow
        self.maxPages = maxPages
        self.renderer = GitHubIssueRenderer()
        self.http = http
    }

    package func send(_ notification: IncidentNotification) async throws -> DeliveryReport {
        var attempts = 0
        let report = try await deliver(notification, attempts: &attempts)
        var result = report
        result.attempts = attempts
        return result
    }

    // MARK: Flow

    private func deliver(_ notification: IncidentNotification, attempts: inout Int) async throws -> DeliveryReport {
        switch notification.kind {
        case .test:
            let issue = try await create(notification, attempts: &attempts)
            _ = try await request(
                .PATCH,
                path: "/issues/\(issue.number)",
                json: ["state": "closed", "state_reason": "not_planned"],
                expect: 200,
                what: "close test issue",
                attempts: &attempts
            )
            return DeliveryReport(
                httpStatus: 200,
                detail: "test issue #\(issue.number) created and closed",
                url: issue.htmlURL
            )
        case .resolved:
            guard let open = try await findOpen(notification.incident.fingerprint, attempts: &attempts) else {
                return DeliveryReport(httpStatus: 200, detail: "no open issue to close")
            }
            _ = try await request(
                .POST,
                path: "/issues/\(open.number)/comments",
                json: ["body": renderer.comment(notification)],
                expect: 201,
                what: "comment",
                attempts: &attempts
            )
            _ = try await request(
                .PATCH,
                path: "/issues/\(open.number)",
                json: ["state": "closed", "state_reason": "completed"],
                expect: 200,
                what: "close issue",
                attempts: &attempts
            )
            return DeliveryReport(
                httpStatus: 200,
                detail: "issue #\(open.number) commented and closed",
                url: open.htmlURL
            )
        case .firing, .reminder:
            // One retry of the whole lookup-then-create when a create's response is lost: the lookup then finds the
            // issue the lost response created, by its notification marker.
            do {
                return try await fireOrRemind(notification, attempts: &attempts)
            } catch let error as NotificationError where error.code == .transport {
                http.logger.info(
                    "GitHub request failed without an answer; looking again before retrying",
                    metadata: ["fingerprint": "\(notification.incident.fingerprint.short)"]
                )
                return try await fireOrRemind(notification, attempts: &attempts)
            }
        }
    }

    private func fireOrRemind(_ notification: IncidentNotification, attempts: inout Int) async throws -> DeliveryReport
    {
        let fingerprint = notification.incident.fingerprint
        if let open = try await findOpen(fingerprint, attempts: &attempts) {
            if open.body?.contains(GitHubIssueRenderer.notificationMarker(notification.idempotencyKey)) == true {
                return DeliveryReport(
                    httpStatus: 200,
                    detail: "issue #\(open.number) was created by an earlier attempt",
                    url: open.htmlURL
                )
            }
            _ = try await request(
                .POST,
                path: "/issues/\(open.number)/comments",
                json: ["body": renderer.comment(notification)],
                expect: 201,
                what: "comment",
                attempts: &attempts
            )
            return DeliveryReport(httpStatus: 201, detail: "commented on issue #\(open.number)", url: open.htmlURL)
        }
        if let closed = try await findRecentlyClosed(fingerprint, attempts: &attempts) {
            _ = try await request(
                .PATCH,
                path: "/issues/\(closed.number)",
                json: ["state": "open"],
                expect: 200,
                what: "reopen issue",
                attempts: &attempts
            )
            _ = try await request(
                .POST,
                path: "/issues/\(closed.number)/comments",
                json: ["body": renderer.comment(notification, reopened: true)],
                expect: 201,
                what: "comment",
                attempts: &attempts
            )
            return DeliveryReport(httpStatus: 200, detail: "reopened issue #\(closed.number)", url: closed.htmlURL)
        }
        let issue = try await create(notification, attempts: &attempts)
        return DeliveryReport(httpStatus: 201, detail: "created issue #\(issue.number)", url: issue.htmlURL)
    }

    private func create(_ notification: IncidentNotification, attempts: inout Int) async throws -> GitHubIssue {
        let payload: [String: Any] = [
            "title": renderer.title(notification), "body": renderer.body(notification),
            "labels": renderer.labels(notification),
        ]
        let exchange = try await request(
            .POST,
            path: "/issues",
            json: payload,
            expect: 201,
            what: "create issue",
            attempts: &attempts,
            idempotent: false
        )
        return try decode(GitHubIssue.self, exchange, what: "created issue")
    }

    // MARK: Lookup

    /// The open issue carrying the fingerprint marker (the most recently created if several).
    package func findOpen(_ fingerprint: Fingerprint, attempts: inout Int) async throws -> GitHubIssue? {
        let marker = GitHubIssueRenderer.fingerprintMarker(fingerprint)
        var url: String? = listURL(state: "open", sort: "created")
        var found: GitHubIssue?
        var pages = 0
        while let next = url, pages < maxPages {
            pages += 1
            let (issues, link) = try await listPage(next, attempts: &attempts)
            for issue in issues where !issue.isPullRequest && issue.isOpen && issue.body?.contains(marker) == true {
                if found == nil || issue.number > found!.number { found = issue }
            }
            url = link
        }
        return found
    }

    /// The most recently closed issue carrying the marker, if it closed within the reopen window.
    package func findRecentlyClosed(_ fingerprint: Fingerprint, attempts: inout Int) async throws -> GitHubIssue? {
        let marker = GitHubIssueRenderer.fingerprintMarker(fingerprint)
        let cutoff = http.now().addingTimeInterval(-reopenWindow.timeInterval)
        var url: String? = listURL(state: "closed", sort: "updated")
        var pages = 0
        var best: GitHubIssue?
        while let next = url, pages < maxPages {
            pages += 1
            let (issues, link) = try await listPage(next, attempts: &attempts)
            for issue in issues where !issue.isPullRequest && !issue.isOpen && issue.body?.contains(marker) == true {
                guard let closedAt = issue.closedAt, closedAt >= cutoff else { continue }
                if best == nil || closedAt > best!.closedAt! { best = issue }
            }
            // Sorted by update, newest first: an issue updated before the cutoff also closed before it.
            if let last = issues.last?.updatedAt, last < cutoff { break }
            url = link
        }
        return best
    }

    private func listURL(state: String, sort: String) -> String {
        "\(repoBase)/issues?labels=\(GitHubIssueRenderer.label)&state=\(state)&sort=\(sort)&direction=desc&per_page=100"
    }

    private func listPage(_ url: String, attempts: inout Int) async throws -> ([GitHubIssue], String?) {
        let exchange = try await call(
            .GET,
            url: url,
            body: nil,
            what: "list issues",
            attempts: &attempts,
            idempotent: true
        )
        guard exchange.status == 200 else { throw failure(exchange, what: "list issues") }
        return (
            try decode([GitHubIssue].self, exchange, what: "issue list"),
            nextPageURL(linkHeader: exchange.headers.first(name: "link"))
        )
    }

    // MARK: HTTP

    private var repoBase: String {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._"))
        let o = owner.addingPercentEncoding(withAllowedCharacters: allowed) ?? owner
        let r = repo.addingPercentEncoding(withAllowedCharacters: allowed) ?? repo
        return "\(apiBase)/repos/\(o)/\(r)"
    }

    private func request(
        _ method: HTTPMethod,
        path: String,
        json: [String: Any],
        expect: Int,
        what: String,
        attempts: inout Int,
        idempotent: Bool = true
    ) async throws -> HTTPExchange {
        let body: Data
        do { body = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]) } catch {
            throw NotificationError(.invalidResponse, "could not encode the GitHub request", underlying: error)
        }
        let exchange = try await call(
            method,
            url: repoBase + path,
            body: ByteBuffer(bytes: body),
            what: what,
            attempts: &attempts,
            idempotent: idempotent
        )
        guard exchange.status == expect || (200..<300).contains(exchange.status) else {
            throw failure(exchange, what: what)
        }
        return exchange
    }

    private func call(
        _ method: HTTPMethod,
        url: String,
        body: ByteBuffer?,
        what: String,
        attempts: inout Int,
        idempotent: Bool
    ) async throws(NotificationError) -> HTTPExchange {
        var headers = HTTPHeaders()
        headers.add(name: "Accept", value: "application/vnd.github+json")
        headers.add(name: "Authorization", value: "Bearer \(token)")
        headers.add(name: "X-GitHub-Api-Version", value: "2022-11-28")
        headers.add(name: "User-Agent", value: BuildInfo.userAgent)
        if body != nil { headers.add(name: "Content-Type", value: "application/json") }
        var http = self.http
        if !idempotent { http.policy.retryServerErrors = false }
        do {
            let exchange = try await http.execute(
                method: method,
                url: url,
                headers: headers,
                body: body,
                what: "GitHub \(what)"
            )
            attempts += exchange.attempts
            return exchange
        } catch {
            attempts += 1
            throw error
        }
    }

    private func failure(_ exchange: HTTPExchange, what: String) -> NotificationError {
        var message = errorSnippet(exchange)
        if let data = message.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let text = object["message"] as? String
        {
            message = text
        }
        let code: NotificationError.Code = exchange.status >= 500 ? .serverError : .rejected
        let hint: String? =
            switch exchange.status {
            case 401: "check FLUXBRAIN_GITHUB_TOKEN"
            case 403: "check FLUXBRAIN_GITHUB_TOKEN (it needs Issues: read and write on the repository)"
            case 404: "check FLUXBRAIN_GITHUB_OWNER, FLUXBRAIN_GITHUB_REPO and the token's access to them"
            default: nil
            }
        return NotificationError(code, "GitHub \(what) failed: \(message)", httpStatus: exchange.status, hint: hint)
    }

    private func decode<T: Decodable>(_ type: T.Type, _ exchange: HTTPExchange, what: String) throws -> T {
        do {
            return try StableJSON.makeDecoder().decode(T.self, from: Data(exchange.body.readableBytesView))
        } catch {
            throw NotificationError(
                .invalidResponse,
                "could not read the GitHub \(what)",
                httpStatus: exchange.status,
                underlying: error
            )
        }
    }
}
