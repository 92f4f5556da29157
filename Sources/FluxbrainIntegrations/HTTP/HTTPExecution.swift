import AsyncHTTPClient
import FluxbrainCore
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

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

    /// An answer whose head has arrived; the body is still streaming (or, for a ``BufferedRequest``, already read).
    package struct Answer: Sendable {
        package var response: HTTPClientResponse
        /// The most body bytes ``collect()`` reads.
        package var maxBodyBytes: Int
        /// A ``BufferedRequest``'s answer whose body was longer than ``maxBodyBytes`` (reading stopped there).
        var bodyTooLarge = false

        package var status: Int { Int(response.status.code) }
        package var headers: HTTPHeaders { response.headers }

        /// Reads the whole body, at most ``maxBodyBytes`` (`NIOTooManyBytesError` past it).
        package func collect() async throws -> ByteBuffer {
            if bodyTooLarge { throw NIOTooManyBytesError(maxBytes: maxBodyBytes) }
            return try await response.body.collect(upTo: maxBodyBytes)
        }
    }

    /// A request whose body is one buffer in memory and whose answer is read whole before `decide` sees it: what
    /// Errorbrain and the notifiers send (``execute(buffered:decide:interrupted:)``).
    package struct BufferedRequest: Sendable {
        package var method: HTTPMethod
        package var url: String
        package var headers: HTTPHeaders
        package var body: ByteBuffer?

        package init(method: HTTPMethod, url: String, headers: HTTPHeaders = HTTPHeaders(), body: ByteBuffer? = nil) {
            self.method = method
            self.url = url
            self.headers = headers
            self.body = body
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
    /// are secrets). async-http-client logs only at debug and trace, so a logger above debug is not passed: the
    /// client would still set its request and connection ids on it for every request, each one redacted by
    /// Fluxbrain's log handler and never written.
    package var logger: Logger?

    /// ``logger`` when it would write what async-http-client logs.
    private var clientLogger: Logger? {
        guard let logger, logger.logLevel <= .debug else { return nil }
        return logger
    }

    /// A loop of one attempt; set the other properties for retries.
    package init(client: HTTPClient, limit: Limit, maxBodyBytes: Int) {
        self.client = client
        self.limit = limit
        self.maxBodyBytes = maxBodyBytes
    }

    /// Sends the request `build` makes for each attempt until `decide` finishes, throws, or no attempt is left; the
    /// answer's body streams (``Answer/collect()`` reads it). For answers read whole, see
    /// ``execute(buffered:decide:interrupted:)``.
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
        try await loop(
            build: build,
            send: { request, deadline in
                do {
                    let response = try await client.execute(request, deadline: deadline, logger: clientLogger)
                    return .success(Answer(response: response, maxBodyBytes: maxBodyBytes))
                } catch {
                    return .failure(error)
                }
            },
            decide: decide,
            interrupted: interrupted
        )
    }

    /// ``execute(build:decide:interrupted:)`` for requests whose body is in memory, reading each answer whole (at
    /// most ``maxBodyBytes``; ``Answer/collect()`` then throws `NIOTooManyBytesError`) before `decide` sees it.
    ///
    /// The same limits, retries and errors, at a lower cost per request: each attempt runs on one event loop of the
    /// client's group, from the hop there to the answer's end (async-http-client's future-based API with that loop
    /// for the task and the connection), so the connection pool, the deadline and the answer need no further thread
    /// switches, and the body is gathered there rather than streamed to this task part by part. Cancelling the
    /// calling task cancels the request.
    package func execute<Success, Failure: Error>(
        buffered build: (Attempt) async throws(Failure) -> BufferedRequest,
        decide: (Result<Answer, any Error>, Attempt) async throws(Failure) -> Decision<Success, Failure>,
        interrupted: (any Error) -> Failure
    ) async throws(Failure) -> Success {
        try await loop(
            build: build,
            send: { request, deadline in await send(request, deadline: deadline) },
            decide: decide,
            interrupted: interrupted
        )
    }

    /// The loop both forms share: `send` makes one attempt, given its deadline.
    private func loop<Request, Success, Failure: Error>(
        build: (Attempt) async throws(Failure) -> Request,
        send: (Request, NIODeadline) async -> Result<Answer, any Error>,
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
            let deadline: NIODeadline
            switch limit {
            case .perAttempt(let timeout): deadline = .now() + .nanoseconds(timeout.nanoseconds)
            case .overall: deadline = nioDeadline ?? .now()
            }
            let outcome = await send(request, deadline)
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

    /// One attempt of a ``BufferedRequest``: everything from the request's start to its answer's end on one event
    /// loop, reached with one hop.
    private func send(_ request: BufferedRequest, deadline: NIODeadline) async -> Result<Answer, any Error> {
        let client = client
        let logger = clientLogger
        let eventLoop = client.eventLoopGroup.next()
        let collector = BodyCollector(maxBodyBytes: maxBodyBytes, eventLoop: eventLoop)
        let running = RunningTask()
        do {
            let collected = try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Collected, any Error>) in
                    eventLoop.execute {
                        let task: HTTPClient.Task<Collected>
                        do {
                            let prepared = try HTTPClient.Request(
                                url: request.url,
                                method: request.method,
                                headers: request.headers,
                                body: request.body.map { .byteBuffer($0) }
                            )
                            task = client.execute(
                                request: prepared,
                                delegate: collector,
                                eventLoop: .delegate(on: eventLoop),
                                deadline: deadline,
                                logger: logger
                            )
                        } catch {
                            continuation.resume(throwing: error)
                            return
                        }
                        running.started(task)
                        task.futureResult.whenComplete { continuation.resume(with: $0) }
                    }
                }
            } onCancel: {
                running.cancel()
            }
            return .success(answer(collected.head, body: collected.body))
        } catch let error as BodyTooLarge {
            var answer = answer(error.head, body: ByteBuffer())
            answer.bodyTooLarge = true
            return .success(answer)
        } catch {
            return .failure(error)
        }
    }

    private func answer(_ head: HTTPResponseHead, body: ByteBuffer) -> Answer {
        let response = HTTPClientResponse(
            version: head.version,
            status: head.status,
            headers: head.headers,
            body: .bytes(body)
        )
        return Answer(response: response, maxBodyBytes: maxBodyBytes)
    }
}

/// What ``BodyCollector`` gathered: the head and the body.
private struct Collected: Sendable {
    var head: HTTPResponseHead
    var body: ByteBuffer
}

/// The body went past the cap: the request ends there (as when a streamed body's `collect(upTo:)` gives up), and
/// ``HTTPExecution/Answer/collect()`` throws `NIOTooManyBytesError`.
private struct BodyTooLarge: Error {
    var head: HTTPResponseHead
}

/// Gathers an answer's body on its task's event loop, up to `maxBodyBytes`; a longer body fails the request with
/// ``BodyTooLarge``.
///
/// async-http-client calls a delegate only on its task's event loop, one call at a time: the state needs no lock.
private final class BodyCollector: HTTPClientResponseDelegate, @unchecked Sendable {
    typealias Response = Collected

    private let maxBodyBytes: Int
    private let eventLoop: any EventLoop
    private var head: HTTPResponseHead?
    private var body: ByteBuffer?

    init(maxBodyBytes: Int, eventLoop: any EventLoop) {
        self.maxBodyBytes = maxBodyBytes
        self.eventLoop = eventLoop
    }

    func didReceiveHead(task: HTTPClient.Task<Collected>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        self.head = head
        return eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Collected>, _ part: ByteBuffer) -> EventLoopFuture<Void> {
        guard let head else { return eventLoop.makeSucceededVoidFuture() }
        if (body?.readableBytes ?? 0) + part.readableBytes > maxBodyBytes {
            body = nil
            return eventLoop.makeFailedFuture(BodyTooLarge(head: head))
        }
        if body == nil {
            body = part
        } else {
            var part = part
            body!.writeBuffer(&part)
        }
        return eventLoop.makeSucceededVoidFuture()
    }

    func didFinishRequest(task: HTTPClient.Task<Collected>) throws -> Collected {
        guard let head else { throw HTTPClientError.remoteConnectionClosed }
        return Collected(head: head, body: body ?? ByteBuffer())
    }
}

/// The task of a request in flight, so that cancelling the calling Swift task cancels it (also when the
/// cancellation comes before the request started).
private final class RunningTask: Sendable {
    private enum State {
        case waiting
        case running(HTTPClient.Task<Collected>)
        case cancelled
    }

    private let state = Mutex(State.waiting)

    func started(_ task: HTTPClient.Task<Collected>) {
        let cancelled = state.withLock { state in
            if case .cancelled = state { return true }
            state = .running(task)
            return false
        }
        if cancelled { task.cancel() }
    }

    func cancel() {
        let task = state.withLock { state -> HTTPClient.Task<Collected>? in
            defer { state = .cancelled }
            if case .running(let task) = state { return task }
            return nil
        }
        task?.cancel()
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
