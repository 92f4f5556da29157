import AsyncHTTPClient
import FluxbrainCore
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// How Errorbrain is reached; built by the service from `FLUXBRAIN_ERRORBRAIN_*`.
package struct ErrorbrainClientConfiguration: Sendable {
    /// `FLUXBRAIN_ERRORBRAIN_URL`: the base URL (`http://errorbrain:8000`); `/events` and `/healthz` are appended.
    package var baseURL: URL
    /// `FLUXBRAIN_ERRORBRAIN_TIMEOUT` (default 30s): the whole of one attempt, retries included.
    package var timeout: Duration
    /// `FLUXBRAIN_ENVIRONMENT`: `source.environment`, omitted when `nil`.
    package var environment: ErrorEvent.Environment?
    /// Tries within one attempt, on connection errors and 5xx (default 3).
    package var maxTries: Int
    /// The jittered exponential backoff between those tries.
    package var retry: Backoff
    /// Largest response body read (default 1 MiB).
    package var maxResponseBytes: Int
    /// Size caps for the event.
    package var limits: ErrorEventLimits

    package init(
        baseURL: URL,
        timeout: Duration = .seconds(30),
        environment: ErrorEvent.Environment? = nil,
        maxTries: Int = 3,
        retry: Backoff = .errorbrainRetry,
        maxResponseBytes: Int = 1024 * 1024,
        limits: ErrorEventLimits = ErrorEventLimits()
    ) {
        self.baseURL = baseURL
        self.timeout = timeout
        self.environment = environment
        self.maxTries = max(1, maxTries)
        self.retry = retry
        self.maxResponseBytes = maxResponseBytes
        self.limits = limits
    }
}

extension Backoff {
    /// Errorbrain tries inside one attempt: `500ms × 2^(retry-1)`, capped at 5s, scaled by a jitter in 50…100 %.
    package static let errorbrainRetry = Backoff(
        base: .milliseconds(500),
        maximum: .seconds(5),
        growth: .exponential(factor: 2),
        jitter: .scaling(from: 0.5)
    )
}

/// Errorbrain's HTTP client: `POST /events` (an `ErrorEvent` in, a `Verdict` out) and `GET /healthz`.
///
/// One attempt is bounded by `timeout`. Inside it, connection errors and 5xx answers are retried with jittered
/// exponential backoff, up to `maxTries`. A 4xx (422 included) is not retried: it is logged with the status and, for
/// a 422, the `detail[].loc` paths only — never the body, which echoes the request. Garbage and invalid verdicts are
/// not retried either. Everything sent is redacted and capped by `ErrorEventBuilder`.
package struct ErrorbrainClient: AnalysisService {
    private let configuration: ErrorbrainClientConfiguration
    private let httpClient: HTTPClient
    private let logger: Logger
    private let builder: ErrorEventBuilder
    private let redactor: Redactor
    private let sleep: @Sendable (Duration) async throws -> Void

    /// - Parameters:
    ///   - httpClient: a client owned (and shut down) by the caller.
    ///   - clock: sleeps between retries (the deadline itself is real time, as the HTTP client's is).
    package init<C: Clock<Duration>>(
        configuration: ErrorbrainClientConfiguration,
        httpClient: HTTPClient,
        logger: Logger,
        redactor: Redactor = Redactor(),
        clock: C = ContinuousClock()
    ) {
        self.configuration = configuration
        self.httpClient = httpClient
        self.logger = logger
        self.redactor = redactor
        self.builder = ErrorEventBuilder(
            environment: configuration.environment,
            redactor: redactor,
            limits: configuration.limits
        )
        self.sleep = { try await clock.sleep(for: $0) }
    }

    /// The event that `analyze` sends for `incident`.
    package func event(for incident: Incident) -> ErrorEvent {
        builder.event(for: incident)
    }

    /// Sends the incident to Errorbrain and returns its verdict in Fluxbrain's terms.
    package func analyze(_ incident: Incident) async throws -> AnalysisResult {
        let verdict = try await send(builder.event(for: incident))
        return verdict.analysisResult(for: incident, redactor: redactor)
    }

    /// `analyze(_:)` for an incident already redacted: its texts go into the event without a second pass.
    package func analyze(_ incident: RedactedIncident) async throws -> AnalysisResult {
        let (event, body) = builder.eventAndBody(for: incident)
        let verdict = try await send(event, body: body)
        return verdict.analysisResult(for: incident.incident, redactor: redactor)
    }

    /// `POST /events` with `event`; the verdict, validated.
    package func send(_ event: ErrorEvent) async throws(ErrorbrainError) -> Verdict {
        try await send(event, body: nil)
    }

    /// `send(_:)` with the event already encoded as `body` (`nil`: encode it here).
    private func send(_ event: ErrorEvent, body encoded: Data?) async throws(ErrorbrainError) -> Verdict {
        let body: Data
        do {
            body = try encoded ?? StableJSON.encode(event)
        } catch {
            throw ErrorbrainError(.invalidRequest, "the event could not be encoded", underlying: error)
        }
        var logger = self.logger
        logger[metadataKey: "event_id"] = "\(event.id)"
        let (status, responseBody) = try await post(path: "/events", body: body, logger: logger)
        let verdict = try Verdict.decode(responseBody.readableBytesView)
        guard verdict.eventID == event.id.lowercased() else {
            throw ErrorbrainError(
                .invalidVerdict,
                "the verdict is for event \(verdict.eventID.prefix(36)), not \(event.id)",
                status: status
            )
        }
        return verdict
    }

    /// `GET /healthz` answers 200 within the timeout (at most 5s): Errorbrain is ready.
    package func checkHealth() async throws(ErrorbrainError) {
        var request = HTTPClientRequest(url: url("/healthz"))
        request.method = .GET
        let timeout = min(configuration.timeout, .seconds(5))
        do {
            let response = try await httpClient.execute(request, deadline: .now() + timeAmount(timeout), logger: logger)
            _ = try? await response.body.collect(upTo: 64 * 1024)
            guard response.status.code == 200 else {
                throw ErrorbrainError(
                    .serverError,
                    "GET /healthz answered \(response.status.code)",
                    status: Int(response.status.code)
                )
            }
        } catch let error as ErrorbrainError {
            throw error
        } catch {
            throw Self.transportError(error, path: url("/healthz"))
        }
    }

    /// `true` when `checkHealth()` succeeds.
    package func healthy() async -> Bool {
        do {
            try await checkHealth()
            return true
        } catch {
            return false
        }
    }

    // MARK: Private

    private func url(_ path: String) -> String {
        configuration.baseURL.apiBase + path
    }

    private func timeAmount(_ duration: Duration) -> TimeAmount {
        .nanoseconds(duration.nanoseconds)
    }

    /// What `post` makes of one attempt: the status and body of a 2xx answer, or a retry.
    private typealias PostDecision = HTTPExecution.Decision<(Int, ByteBuffer), ErrorbrainError>

    /// POSTs with retries on connection errors and 5xx until `maxTries` or the deadline; returns a 2xx answer.
    private func post(path: String, body: Data, logger: Logger) async throws(ErrorbrainError) -> (Int, ByteBuffer) {
        let limit = HTTPExecution.Limit.overall(configuration.timeout)
        var execution = HTTPExecution(client: httpClient, limit: limit, maxBodyBytes: configuration.maxResponseBytes)
        execution.maxAttempts = configuration.maxTries
        execution.backoff = configuration.retry
        execution.sleep = sleep
        execution.logger = logger
        let maxTries = configuration.maxTries
        let maxResponseBytes = configuration.maxResponseBytes
        let target = url(path)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Accept", value: "application/json")
        headers.add(name: "User-Agent", value: BuildInfo.userAgent)
        let request = HTTPExecution.BufferedRequest(
            method: .POST,
            url: target,
            headers: headers,
            body: ByteBuffer(bytes: body)
        )
        return try await execution.execute(
            buffered: { _ throws(ErrorbrainError) in request },
            decide: { outcome, attempt throws(ErrorbrainError) in
                /// Connection errors are tried again; timeouts and cancellation end the attempt.
                func unreachable(_ error: any Error) throws(ErrorbrainError) -> PostDecision {
                    let classified = Self.transportError(error, path: target)
                    if classified.code == .timeout || error is CancellationError { throw classified }
                    logger.notice(
                        "Errorbrain could not be reached",
                        metadata: ["error": .error(error), "try": "\(attempt.number)", "max_tries": "\(maxTries)"]
                    )
                    return .retry(otherwise: .failure(classified))
                }
                let answer: HTTPExecution.Answer
                switch outcome {
                case .success(let value): answer = value
                case .failure(let error): return try unreachable(error)
                }
                let status = answer.status
                let responseBody: ByteBuffer
                do {
                    responseBody = try await answer.collect()
                } catch let error as NIOTooManyBytesError {
                    throw ErrorbrainError(
                        .invalidVerdict,
                        "the answer is larger than \(maxResponseBytes) bytes",
                        status: status,
                        underlying: error
                    )
                } catch {
                    return try unreachable(error)
                }
                switch status {
                case 200..<300:
                    return .finish((status, responseBody))
                case 500..<600:
                    logger.notice(
                        "Errorbrain answered a server error",
                        metadata: ["status": "\(status)", "try": "\(attempt.number)", "max_tries": "\(maxTries)"]
                    )
                    return .retry(
                        otherwise: .failure(ErrorbrainError(.serverError, "\(path) answered \(status)", status: status))
                    )
                default:
                    let locations = status == 422 ? Self.locations(in: responseBody) : []
                    var metadata: Logger.Metadata = ["status": "\(status)"]
                    if !locations.isEmpty { metadata["locations"] = "\(locations.joined(separator: ", "))" }
                    logger.error("Errorbrain rejected the event", metadata: metadata)
                    let at = locations.isEmpty ? "" : " at \(locations.joined(separator: ", "))"
                    throw ErrorbrainError(
                        .rejected,
                        "\(path) answered \(status)\(at)",
                        status: status,
                        locations: locations
                    )
                }
            },
            interrupted: { error in
                ErrorbrainError(.timeout, "cancelled while waiting to retry", underlying: error)
            }
        )
    }

    private static func transportError(_ error: any Error, path: String) -> ErrorbrainError {
        if let error = error as? HTTPClientError,
            error == .deadlineExceeded || error == .readTimeout || error == .cancelled
        {
            return ErrorbrainError(.timeout, "\(path): no answer in time", underlying: error)
        }
        if error is CancellationError {
            return ErrorbrainError(.timeout, "\(path): cancelled", underlying: error)
        }
        return ErrorbrainError(.connectionFailed, "cannot reach \(path)", underlying: TransportFailure(error))
    }

    /// The `detail[].loc` paths of a FastAPI 422 body, joined with dots (`body.source.namespace`); nothing else
    /// of the body is read.
    static func locations(in body: ByteBuffer) -> [String] {
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(body.readableBytesView)),
            let details = value["detail"]?.arrayValue
        else { return [] }
        return details.prefix(20).compactMap { detail -> String? in
            guard let loc = detail["loc"]?.arrayValue else { return nil }
            let parts = loc.prefix(10).map { part -> String in
                switch part {
                case .string(let text): return String(text.prefix(64))
                case .int(let number): return String(number)
                default: return "?"
                }
            }
            return parts.joined(separator: ".")
        }
    }
}
