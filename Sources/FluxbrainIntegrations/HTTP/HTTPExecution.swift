import AsyncHTTPClient
import FluxbrainCore
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Sends one HTTP request through an `HTTPClient` with a time limit, a cap on the body read and retries: the one
/// request loop of the outbound clients (notifiers, Errorbrain, Kubernetes).
///
/// The loop is here; each caller keeps its own rule in `decide`, which sees every attempt's answer (or transport
/// error) and says whether to stop or try again: Slack and GitHub retry rate limits after `Retry-After`, Errorbrain
/// retries connection errors and 5xx, Kubernetes retries a 401 once after refreshing its credentials (its rate
/// limiter and credentials run in `build`, before each attempt).
///
/// A retry waits `after` (when `decide` names a wait) or the ``backoff`` for the attempts made so far, through the
/// injected `sleep`; a zero wait does not sleep. When no attempt is left (``maxAttempts``, or with an ``Limit/overall``
/// limit a wait that would end past it), the retry's `otherwise` is the result.
package struct HTTPExecution: Sendable {
    /// How long requests may take.
    package enum Limit: Sendable, Hashable {
        /// Each attempt gets this long (async-http-client's `timeout:`); waits between attempts are not counted.
        case perAttempt(Duration)
        /// Every attempt and every wait together, from the start of ``execute(build:decide:interrupted:)``: each
        /// request runs to the one deadline, and no retry starts whose wait would end after it.
        case overall(Duration)
    }

    /// One attempt: its number (1 for the first) and how many there may be.
    package struct Attempt: Sendable, Hashable {
        package var number: Int
        package var maxAttempts: Int

        /// `true` when no attempt follows this one, whatever `decide` says.
        package var isLast: Bool { number >= maxAttempts }
    }

    /// An answer whose head has arrived; the body is still streaming.
    package struct Answer: Sendable {
        package var response: HTTPClientResponse
        /// The most body bytes ``collect()`` reads.
        package var maxBodyBytes: Int

        package var status: Int { Int(response.status.code) }
        package var headers: HTTPHeaders { response.headers }

        /// Reads the whole body, at most ``maxBodyBytes`` (`NIOTooManyBytesError` past it).
        package func collect() async throws -> ByteBuffer {
            try await response.body.collect(upTo: maxBodyBytes)
        }
    }

    /// What to do after an attempt.
    package enum Decision<Success, Failure: Error> {
        /// Stop with this value.
        case finish(Success)
        /// Try again after `after` (the backoff's wait when `nil`); `otherwise` is the result when no attempt is left.
        case retry(after: Duration? = nil, otherwise: Result<Success, Failure>)
    }

    package var client: HTTPClient
    package var limit: Limit
    /// The most body bytes ``Answer/collect()`` reads.
    package var maxBodyBytes: Int
    /// Attempts in all, the first included (default 1; fewer counts as 1).
    package var maxAttempts = 1
    /// The wait after `n` failed attempts when `decide` names none (default: none).
    package var backoff = Backoff(base: .zero)
    /// Sleeps between attempts (default `Task.sleep`); tests inject one that records, or a manual clock's.
    package var sleep: @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    /// A number in 0...1 for the backoff's jitter (default `Double.random(in: 0...1)`).
    package var random: @Sendable () -> Double = { Double.random(in: 0...1) }
    /// Passed to async-http-client for its own request logging; `nil` (the default) for none (notifiers: their URLs
    /// are secrets).
    package var logger: Logger?

    /// A loop of one attempt; set the other properties for retries.
    package init(client: HTTPClient, limit: Limit, maxBodyBytes: Int) {
        self.client = client
        self.limit = limit
        self.maxBodyBytes = maxBodyBytes
    }

    /// Sends the request `build` makes for each attempt until `decide` finishes, throws, or no attempt is left.
    ///
    /// - Parameters:
    ///   - build: the request of an attempt (rate limiting and credentials go here; what it throws ends the loop).
    ///   - decide: the caller's rule, given the answer or the transport error of an attempt (`decide` maps that
    ///     error to its own); it reads the body with ``Answer/collect()`` when it needs it.
    ///   - interrupted: the error to throw when a wait between attempts is cancelled.
    package func execute<Success, Failure: Error>(
        build: (Attempt) async throws(Failure) -> HTTPClientRequest,
        decide: (Result<Answer, any Error>, Attempt) async throws(Failure) -> Decision<Success, Failure>,
        interrupted: (any Error) -> Failure
    ) async throws(Failure) -> Success {
        let start = ContinuousClock.now
        let nioDeadline: NIODeadline?
        if case .overall(let total) = limit {
            nioDeadline = .now() + .nanoseconds(total.nanoseconds)
        } else {
            nioDeadline = nil
        }
        var attempt = Attempt(number: 1, maxAttempts: maxAttempts)
        while true {
            let request = try await build(attempt)
            let outcome: Result<Answer, any Error>
            do {
                let response: HTTPClientResponse
                switch limit {
                case .perAttempt(let timeout):
                    response = try await client.execute(
                        request,
                        timeout: .nanoseconds(timeout.nanoseconds),
                        logger: logger
                    )
                case .overall:
                    response = try await client.execute(request, deadline: nioDeadline ?? .now(), logger: logger)
                }
                outcome = .success(Answer(response: response, maxBodyBytes: maxBodyBytes))
            } catch {
                outcome = .failure(error)
            }
            switch try await decide(outcome, attempt) {
            case .finish(let value):
                return value
            case .retry(let after, let otherwise):
                guard !attempt.isLast else { return try otherwise.get() }
                let wait = after ?? backoff.delay(afterFailures: attempt.number, random: random())
                if case .overall(let total) = limit, start.duration(to: .now) + wait >= total {
                    return try otherwise.get()
                }
                if wait > .zero {
                    do { try await sleep(wait) } catch { throw interrupted(error) }
                }
                attempt.number += 1
            }
        }
    }
}

extension URL {
    /// The URL as text without trailing slashes: an API base to append `/path` to (`https://api.github.com`,
    /// `https://slack.com/api`, Errorbrain's and Alertmanager's base URLs).
    package var apiBase: String {
        var base = absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        return base
    }
}
