import AsyncHTTPClient
import FluxbrainCore
import FluxbrainIntegrations
import FluxbrainTestSupport
import FluxbrainTestbed
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

/// The one request loop, over real HTTP on loopback: a scripted server answers each request with the next status of
/// a list; the rule under test is the simplest one (5xx: retry with the backoff, 429: retry after `Retry-After`,
/// anything else: done), so what is checked is the loop's own part: attempts, waits, the deadline, the body cap. Each
/// test runs both forms: streamed answers (`execute(build:)`) and buffered requests (`execute(buffered:)`).
@Suite struct HTTPExecutionTests {
    /// The two ways of sending an attempt.
    enum Form: String, CaseIterable, Sendable {
        case streamed
        case buffered
    }

    /// `execution.execute` in `form`, a `GET` of `url` for each attempt.
    static func execute<Success>(
        _ execution: HTTPExecution,
        _ form: Form,
        url: @Sendable () -> String,
        decide: (Result<HTTPExecution.Answer, any Error>, HTTPExecution.Attempt) async throws ->
            HTTPExecution.Decision<
                Success, any Error
            >
    ) async throws -> Success {
        switch form {
        case .streamed:
            try await execution.execute(
                build: { _ in HTTPClientRequest(url: url()) },
                decide: decide,
                interrupted: { $0 }
            )
        case .buffered:
            try await execution.execute(
                buffered: { _ in HTTPExecution.BufferedRequest(method: .GET, url: url()) },
                decide: decide,
                interrupted: { $0 }
            )
        }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        /// The server's answers in order (the last one repeats).
        var answers: [Int]
        var maxAttempts: Int
        var limit: HTTPExecution.Limit = .perAttempt(.seconds(30))
        /// The wait decide names for a 429.
        var rateLimitWait: Duration = .seconds(7)
        /// Linear 1 s steps unless set.
        var backoff = Backoff(base: .seconds(1), maximum: .seconds(60))
        /// What `execute` returns: the final status, or the `otherwise` of the last retry (`-status`).
        var result: Int
        var requests: Int
        var sleeps: [Duration]

        var testDescription: String { name }
    }

    /// A time limit no answer of the scripted server comes near.
    static let roomy = HTTPExecution.Limit.perAttempt(.seconds(30))

    static let cases: [Case] = [
        Case(name: "a 2xx at once", answers: [200], maxAttempts: 3, result: 200, requests: 1, sleeps: []),
        Case(name: "a 4xx is not retried", answers: [404, 200], maxAttempts: 3, result: 404, requests: 1, sleeps: []),
        Case(
            name: "5xx retried with the backoff until a 2xx",
            answers: [503, 500, 200],
            maxAttempts: 3,
            result: 200,
            requests: 3,
            sleeps: [.seconds(1), .seconds(2)]
        ),
        Case(
            name: "out of attempts: the last retry's otherwise",
            answers: [503],
            maxAttempts: 3,
            result: -503,
            requests: 3,
            sleeps: [.seconds(1), .seconds(2)]
        ),
        Case(name: "one attempt never waits", answers: [503], maxAttempts: 1, result: -503, requests: 1, sleeps: []),
        Case(
            name: "the wait decide names wins over the backoff",
            answers: [429, 200],
            maxAttempts: 3,
            result: 200,
            requests: 2,
            sleeps: [.seconds(7)]
        ),
        Case(
            name: "exponential backoff",
            answers: [502, 502, 502, 200],
            maxAttempts: 4,
            backoff: Backoff(base: .milliseconds(500), maximum: .seconds(5), growth: .exponential(factor: 2)),
            result: 200,
            requests: 4,
            sleeps: [.milliseconds(500), .seconds(1), .seconds(2)]
        ),
        Case(
            name: "an overall limit: no retry whose wait ends past it",
            answers: [503, 200],
            maxAttempts: 3,
            limit: .overall(.seconds(30)),
            backoff: Backoff(base: .seconds(60), maximum: .seconds(60)),
            result: -503,
            requests: 1,
            sleeps: []
        ),
        Case(
            name: "an overall limit: waits that fit are taken",
            answers: [503, 200],
            maxAttempts: 3,
            limit: .overall(.seconds(30)),
            result: 200,
            requests: 2,
            sleeps: [.seconds(1)]
        ),
        Case(
            name: "a zero wait does not sleep",
            answers: [429, 200],
            maxAttempts: 2,
            rateLimitWait: .zero,
            result: 200,
            requests: 2,
            sleeps: []
        ),
    ]

    @Test(arguments: cases, Form.allCases)
    func retriesAsTheRuleSays(_ testCase: Case, _ form: Form) async throws {
        let server = ScriptedServer(answers: testCase.answers)
        let sleeps = Mutex<[Duration]>([])
        try await server.run { url in
            var execution = HTTPExecution(client: HTTPClient.shared, limit: testCase.limit, maxBodyBytes: 1024)
            execution.maxAttempts = testCase.maxAttempts
            execution.backoff = testCase.backoff
            execution.sleep = { duration in sleeps.withLock { $0.append(duration) } }
            execution.random = { 0 }
            let result = try await Self.execute(execution, form, url: { url }) {
                outcome,
                _ -> HTTPExecution.Decision<Int, any Error> in
                let answer = try outcome.get()
                _ = try await answer.collect()
                switch answer.status {
                case 429:
                    return .retry(after: testCase.rateLimitWait, otherwise: .success(-429))
                case 500..<600: return .retry(otherwise: .success(-answer.status))
                default: return .finish(answer.status)
                }
            }
            #expect(result == testCase.result)
        }
        #expect(server.requests == testCase.requests)
        #expect(sleeps.withLock { $0 } == testCase.sleeps)
    }

    @Test(arguments: Form.allCases)
    func theBodyIsCappedAtMaxBodyBytes(_ form: Form) async throws {
        let server = ScriptedServer(answers: [200], body: String(repeating: "x", count: 2048))
        try await server.run { url in
            for (cap, fits) in [(4096, true), (2048, true), (2047, false)] {
                let execution = HTTPExecution(client: HTTPClient.shared, limit: Self.roomy, maxBodyBytes: cap)
                let read = try await Self.execute(execution, form, url: { url }) {
                    outcome,
                    _ -> HTTPExecution.Decision<Bool, any Error> in
                    let answer = try outcome.get()
                    #expect(answer.status == 200)
                    do {
                        let body = try await answer.collect()
                        #expect(body.readableBytes == 2048)
                        return .finish(true)
                    } catch let error as NIOTooManyBytesError {
                        #expect(error.maxBytes == cap)
                        return .finish(false)
                    }
                }
                #expect(read == fits, "cap \(cap)")
            }
        }
        #expect(server.requests == 3)
    }

    @Test(arguments: Form.allCases)
    func aTransportErrorReachesDecideAndCanBeRetried(_ form: Form) async throws {
        // A port nothing listens on: bind one, note it, close it.
        let port = try await ScriptedServer(answers: [200]).run { url in URL(string: url)!.port! }
        let attempts = Mutex(0)
        // async-http-client keeps trying a refused connection until its connect timeout: a short limit ends that.
        let limit = HTTPExecution.Limit.perAttempt(.milliseconds(500))
        var execution = HTTPExecution(client: HTTPClient.shared, limit: limit, maxBodyBytes: 1024)
        execution.maxAttempts = 2
        execution.sleep = { _ in }
        let url: @Sendable () -> String = {
            attempts.withLock { $0 += 1 }
            return "http://127.0.0.1:\(port)/"
        }
        let failures = try await Self.execute(execution, form, url: url) {
            outcome,
            attempt -> HTTPExecution.Decision<Int, any Error> in
            guard case .failure = outcome else { return .finish(0) }
            return .retry(otherwise: .success(attempt.number))
        }
        #expect(failures == 2)
        #expect(attempts.withLock { $0 } == 2)
    }

    @Test func aCancelledWaitThrowsTheCallersError() async throws {
        struct Interrupted: Error {}
        let server = ScriptedServer(answers: [503])
        try await server.run { url in
            var execution = HTTPExecution(client: HTTPClient.shared, limit: Self.roomy, maxBodyBytes: 1024)
            execution.maxAttempts = 3
            execution.backoff = Backoff(base: .seconds(1))
            execution.sleep = { _ in throw CancellationError() }
            await #expect(throws: Interrupted.self) {
                try await execution.execute(
                    build: { _ in HTTPClientRequest(url: url) },
                    decide: { _, _ -> HTTPExecution.Decision<Int, any Error> in .retry(otherwise: .success(0)) },
                    interrupted: { _ in Interrupted() }
                )
            }
        }
        #expect(server.requests == 1)
    }

    @Test(arguments: Form.allCases)
    func aPerAttemptTimeoutEndsASlowAnswer(_ form: Form) async throws {
        let server = ScriptedServer(answers: [200], delay: .seconds(2))
        try await server.run { url in
            let limit = HTTPExecution.Limit.perAttempt(.milliseconds(100))
            let execution = HTTPExecution(client: HTTPClient.shared, limit: limit, maxBodyBytes: 1024)
            let outcome = try await Self.execute(execution, form, url: { url }) {
                outcome,
                _ -> HTTPExecution.Decision<String, any Error> in
                switch outcome {
                case .success(let answer): .finish("status \(answer.status)")
                case .failure(let error): .finish("\(error)")
                }
            }
            #expect(outcome.contains("deadlineExceeded"), "\(outcome)")
        }
    }

    @Test func aBufferedRequestSendsItsMethodHeadersAndBodyAndReadsTheAnswer() async throws {
        let server = ScriptedServer(answers: [201], body: "{\"ok\":true}")
        try await server.run { url in
            let execution = HTTPExecution(client: HTTPClient.shared, limit: Self.roomy, maxBodyBytes: 1024)
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "X-Signature", value: "sha256=abc")
            let request = HTTPExecution.BufferedRequest(
                method: .POST,
                url: url + "events",
                headers: headers,
                body: ByteBuffer(string: "{\"id\":1}")
            )
            let (status, body) = try await execution.execute(
                buffered: { _ in request },
                decide: { outcome, _ -> HTTPExecution.Decision<(Int, String), any Error> in
                    let answer = try outcome.get()
                    return .finish((answer.status, String(buffer: try await answer.collect())))
                },
                interrupted: { $0 }
            )
            #expect(status == 201)
            #expect(body == "{\"ok\":true}")
        }
        let received = try #require(server.received.first)
        #expect(received.method == "POST")
        #expect(received.path == "/events")
        #expect(received.headers["content-type"] == "application/json")
        #expect(received.headers["x-signature"] == "sha256=abc")
        #expect(received.headers["content-length"] == "8")
        #expect(received.text == "{\"id\":1}")
    }

    /// async-http-client logs only at debug and trace: a logger above that is not handed to it, so the client does not
    /// set its request and connection ids on it (each set is redacted by Fluxbrain's handler, and never written).
    @Test(arguments: Form.allCases, [Logger.Level.info, .debug])
    func theClientGetsTheLoggerOnlyWhenItWouldWrite(_ form: Form, _ level: Logger.Level) async throws {
        let server = ScriptedServer(answers: [200])
        let keys = MetadataKeys()
        try await server.run { url in
            var execution = HTTPExecution(client: HTTPClient.shared, limit: Self.roomy, maxBodyBytes: 1024)
            var logger = Logger(label: "test") { _ in MetadataKeys.Handler(keys: keys) }
            logger.logLevel = level
            execution.logger = logger
            let status = try await Self.execute(execution, form, url: { url }) { outcome, _ in
                HTTPExecution.Decision<Int, any Error>.finish(try outcome.get().status)
            }
            #expect(status == 200)
        }
        #expect(keys.all.contains { $0.hasPrefix("ahc-") } == (level == .debug), "keys set: \(keys.all)")
    }

    @Test func cancellingTheCallerCancelsABufferedRequest() async throws {
        let server = ScriptedServer(answers: [200], delay: .seconds(3))
        try await server.run { url in
            let execution = HTTPExecution(client: HTTPClient.shared, limit: Self.roomy, maxBodyBytes: 1024)
            let outcome = try await withThrowingTaskGroup(of: String.self) { group in
                group.addTask {
                    try await execution.execute(
                        buffered: { _ in HTTPExecution.BufferedRequest(method: .GET, url: url) },
                        decide: { outcome, _ -> HTTPExecution.Decision<String, any Error> in
                            switch outcome {
                            case .success(let answer): .finish("status \(answer.status)")
                            case .failure(let error): .finish("\(error)")
                            }
                        },
                        interrupted: { $0 }
                    )
                }
                while server.requests == 0 { try await Task.sleep(for: .milliseconds(5)) }
                group.cancelAll()
                return try await group.next()!
            }
            #expect(outcome.contains("cancelled"), "\(outcome)")
        }
    }
}

extension HTTPExecutionTests {
    @Test func outboundClientsShareOneEventLoopAndKubernetesClientsTheGroup() async throws {
        let outbound = HTTPClients()
        let kubernetes = HTTPClients.kubernetes()
        let webhook = outbound.client(for: URL(string: "http://127.0.0.1:1/hook")!)
        let errorbrain = outbound.client(for: URL(string: "http://127.0.0.1:2/")!)
        let cluster = kubernetes.client(proxy: nil, pool: "prod")
        let loops = { (group: any EventLoopGroup) in Array(group.makeIterator()).count }
        #expect(loops(webhook.eventLoopGroup) == 1)
        #expect(webhook.eventLoopGroup === errorbrain.eventLoopGroup)
        #expect(webhook.tracer == nil)
        #expect(loops(cluster.eventLoopGroup) == loops(HTTPClient.defaultEventLoopGroup))
        await outbound.shutdown()
        await kubernetes.shutdown()
    }
}

/// A loopback server that answers the n-th request with the n-th status of `answers` (the last repeats).
final class ScriptedServer: Sendable {
    private let answers: [Int]
    private let body: String
    private let delay: Duration
    private let count = Mutex(0)
    private let requestsReceived = Mutex<[RecordedRequest]>([])

    init(answers: [Int], body: String = "answer", delay: Duration = .zero) {
        self.answers = answers
        self.body = body
        self.delay = delay
    }

    var requests: Int { count.withLock { $0 } }
    var received: [RecordedRequest] { requestsReceived.withLock { $0 } }

    func run<T: Sendable>(_ body: @Sendable (String) async throws -> T) async throws -> T {
        var logger = Logger(label: "scripted")
        logger.logLevel = .critical
        return try await withLoopbackServer(
            logger: logger,
            respond: { [self] request in
                let recorded = try await RecordedRequest.read(request)
                requestsReceived.withLock { $0.append(recorded) }
                let index = count.withLock { count in
                    defer { count += 1 }
                    return count
                }
                if delay > .zero { try? await Task.sleep(for: delay) }
                let status = answers[min(index, answers.count - 1)]
                return fakeResponse(status: status, body: self.body)
            },
            body: { port in try await body("http://127.0.0.1:\(port)/") }
        )
    }
}

/// The metadata keys a logger was given, by any copy of it.
final class MetadataKeys: Sendable {
    private let keys = Mutex<[String]>([])

    var all: [String] { keys.withLock { $0 } }

    struct Handler: LogHandler {
        let keys: MetadataKeys
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .info

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set {
                keys.keys.withLock { $0.append(key) }
                metadata[key] = newValue
            }
        }

        func log(event: LogEvent) {}
    }
}
