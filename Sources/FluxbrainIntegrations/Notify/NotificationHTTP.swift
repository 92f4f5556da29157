import AsyncHTTPClient
import FluxbrainCore
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// How a notifier retries one HTTP request inside a single send.
package struct HTTPRetryPolicy: Sendable, Hashable {
    /// Timeout of one request, including reading the body.
    package var timeout: Duration
    /// Attempts in all, first included (a 429 or a 5xx is retried until this many attempts were made).
    package var maxAttempts: Int
    /// The longest `Retry-After` (or GitHub rate-limit reset) the notifier sleeps through; longer waits fail the
    /// send with `.rateLimited` and the dispatcher's backoff takes over.
    package var maxRetryAfter: Duration
    /// Wait before retrying a 5xx after `attempt` attempts (default: linear, `1s × attempt`, no cap).
    package var serverErrorBackoff: Backoff
    /// Retry 5xx answers (off for requests that are not idempotent, such as creating a GitHub issue).
    package var retryServerErrors: Bool
    /// The most response body bytes read.
    package var maxResponseBytes: Int

    package init(
        timeout: Duration = .seconds(10),
        maxAttempts: Int = 3,
        maxRetryAfter: Duration = .seconds(30),
        serverErrorBackoff: Backoff = Backoff(base: .seconds(1), maximum: Backoff.unbounded),
        retryServerErrors: Bool = true,
        maxResponseBytes: Int = 1 << 20
    ) {
        self.timeout = timeout
        self.maxAttempts = maxAttempts
        self.maxRetryAfter = maxRetryAfter
        self.serverErrorBackoff = serverErrorBackoff
        self.retryServerErrors = retryServerErrors
        self.maxResponseBytes = maxResponseBytes
    }
}

extension HTTPRetryPolicy {
    /// The request loop of this policy: its timeout per attempt, body cap, attempts and 5xx backoff.
    func execution(client: HTTPClient, sleep: @escaping @Sendable (Duration) async throws -> Void) -> HTTPExecution {
        var execution = HTTPExecution(client: client, limit: .perAttempt(timeout), maxBodyBytes: maxResponseBytes)
        execution.maxAttempts = maxAttempts
        execution.backoff = serverErrorBackoff
        execution.sleep = sleep
        return execution
    }
}

/// One HTTP answer as notifiers read it.
package struct HTTPExchange: Sendable {
    package var status: Int
    package var headers: HTTPHeaders
    package var body: ByteBuffer
    /// Attempts made, first included.
    package var attempts: Int

    /// The body as UTF-8 text.
    package var text: String { String(buffer: body) }
}

/// Sends notifier HTTP requests through one shared `HTTPClient` (an ``HTTPExecution``), with timeouts, capped bodies
/// and the retries of an `HTTPRetryPolicy` (429 `Retry-After`, GitHub's rate-limit headers, 5xx backoff), sleeping
/// through an injected sleeper.
///
/// The URL is never logged or put in an error: webhook URLs are secrets.
package struct NotificationHTTP: Sendable {
    package var client: HTTPClient
    package var policy: HTTPRetryPolicy
    /// Sleeps between retries; tests inject one that records and returns at once.
    package var sleep: @Sendable (Duration) async throws -> Void
    /// Wall-clock time, to turn `x-ratelimit-reset` epoch seconds into a wait.
    package var now: @Sendable () -> Date
    package var logger: Logger

    package init(
        client: HTTPClient,
        policy: HTTPRetryPolicy = HTTPRetryPolicy(),
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
        now: @escaping @Sendable () -> Date = { Date() },
        logger: Logger
    ) {
        self.client = client
        self.policy = policy
        self.sleep = sleep
        self.now = now
        self.logger = logger
    }

    /// How long the answer asks to wait before retrying, if it is a rate limit: `Retry-After` seconds on 429 or
    /// 403, or `x-ratelimit-reset` when `x-ratelimit-remaining` is 0. `nil` if it is not a rate limit.
    package static func rateLimitWait(status: Int, headers: HTTPHeaders, now: Date) -> Duration? {
        guard status == 429 || status == 403 else { return nil }
        if let value = headers.first(name: "retry-after")?.trimmingCharacters(in: .whitespaces) {
            if let seconds = Int(value) { return .seconds(max(seconds, 0)) }
            // HTTP-date form.
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
            if let date = formatter.date(from: value) {
                return .seconds(max(Int(date.timeIntervalSince(now).rounded(.up)), 0))
            }
        }
        if headers.first(name: "x-ratelimit-remaining") == "0",
            let reset = headers.first(name: "x-ratelimit-reset").flatMap(Double.init)
        {
            return .seconds(max(Int((reset - now.timeIntervalSince1970).rounded(.up)), 0))
        }
        return status == 429 ? .seconds(1) : nil
    }

    /// Sends the request, retrying rate limits and (if the policy says so) 5xx; returns the final answer whatever
    /// its status. Throws `.transport` on connection failures and timeouts, `.rateLimited` when asked to wait
    /// longer than the policy allows or out of attempts on a rate limit.
    package func execute(
        method: HTTPMethod,
        url: String,
        headers: HTTPHeaders,
        body: ByteBuffer?,
        what: String
    ) async throws(NotificationError) -> HTTPExchange {
        let request = HTTPExecution.BufferedRequest(method: method, url: url, headers: headers, body: body)
        return try await policy.execution(client: client, sleep: sleep).execute(
            buffered: { _ throws(NotificationError) in request },
            decide: { outcome, attempt throws(NotificationError) in
                let exchange: HTTPExchange
                do {
                    let answer = try outcome.get()
                    exchange = HTTPExchange(
                        status: answer.status,
                        headers: answer.headers,
                        body: try await answer.collect(),
                        attempts: attempt.number
                    )
                } catch {
                    throw NotificationError(
                        .transport,
                        "\(what): cannot reach the receiver",
                        underlying: Self.redacted(error, url: url)
                    )
                }
                let status = exchange.status
                if let wait = Self.rateLimitWait(status: status, headers: exchange.headers, now: now()) {
                    let limited = NotificationError(
                        .rateLimited,
                        "\(what): rate limited",
                        httpStatus: status,
                        retryAfter: wait
                    )
                    guard wait <= policy.maxRetryAfter, !attempt.isLast else { throw limited }
                    logger.info(
                        "rate limited; waiting",
                        metadata: ["what": "\(what)", "status": "\(status)", "wait": "\(wait)"]
                    )
                    return .retry(after: wait, otherwise: .failure(limited))
                }
                if status >= 500, policy.retryServerErrors, !attempt.isLast {
                    logger.info("server error; retrying", metadata: ["what": "\(what)", "status": "\(status)"])
                    return .retry(otherwise: .success(exchange))
                }
                return .finish(exchange)
            },
            interrupted: { error in
                NotificationError(.transport, "\(what): cancelled while waiting to retry", underlying: error)
            }
        )
    }

    /// The error as a ``TransportFailure`` with the URL, and its path and query (where webhook secrets live), removed.
    private static func redacted(_ error: any Error, url: String) -> any Error {
        var secrets = [url]
        if let parsed = URL(string: url) {
            secrets.append(parsed.path)
            if let query = parsed.query { secrets.append(query) }
        }
        return TransportFailure(error, removing: secrets)
    }
}

/// The exact text of an error answer, for reports: at most 300 characters.
package func errorSnippet(_ exchange: HTTPExchange) -> String {
    let text = exchange.text.trimmingCharacters(in: .whitespacesAndNewlines)
    return text.count > 300 ? String(text.prefix(300)) + "…" : text
}
