import FluxbrainCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// One request the sink received.
package struct WebhookSinkRecord: Sendable, Codable, Hashable {
    package var receivedAt: Date
    package var method: String
    /// Path and query.
    package var path: String
    /// Header names lowercased; `authorization` is never recorded. Repeated headers are joined with `, `.
    package var headers: [String: String]
    /// The body as JSON if it parses, else as a string.
    package var body: JSONValue
    /// The raw body, base64 (so signatures can be checked against the exact bytes).
    package var rawBody: String
    /// The status the sink answered with.
    package var status: Int?

    /// `Idempotency-Key`, if sent.
    package var idempotencyKey: String? { headers["idempotency-key"] }
    /// The payload's `fingerprint`, if it is a Fluxbrain webhook payload.
    package var fingerprint: String? { body["fingerprint"]?.stringValue }
    /// The exact bytes received.
    package var rawBytes: Data { Data(base64Encoded: rawBody) ?? Data() }
}

/// A small HTTP server that records every POST: the local testbed's webhook receiver
/// (`fluxbrain-testbed sink --listen HOST:PORT --record FILE`) and the tests' fake webhook.
///
/// - `POST <any path>`: recorded (in memory, and as one JSON line per request in the record file); answers
///   `200 {"ok":true}`, or what `failNext` queued.
/// - `GET /records`: every record as a JSON array.
/// - `GET /healthz`: `ok`.
package final class WebhookSink: Sendable {
    private struct State {
        var records: [WebhookSinkRecord] = []
        var queuedStatuses: [Int] = []
        var failingFingerprints: [String: Int] = [:]
    }

    private let state = Mutex(State())
    private let recordPath: String?
    /// The record file, opened once with `O_APPEND`; lines are written under `state`'s lock, so concurrent
    /// deliveries each get their whole line, in the order of `records`.
    private let recordFile: Int32
    private let logger: Logger
    private let now: @Sendable () -> Date

    /// - Parameter recordPath: a file to append JSON lines to (created if missing), or `nil` for memory only.
    package init(recordPath: String? = nil, logger: Logger, now: @escaping @Sendable () -> Date = { Date() }) {
        self.recordPath = recordPath
        self.logger = logger
        self.now = now
        if let recordPath {
            recordFile = open(recordPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            if recordFile < 0 {
                logger.error(
                    "could not open the record file",
                    metadata: ["path": "\(recordPath)", "error": "\(String(cString: strerror(errno)))"]
                )
            }
        } else {
            recordFile = -1
        }
    }

    deinit {
        if recordFile >= 0 { close(recordFile) }
    }

    /// Every record so far, oldest first.
    package var records: [WebhookSinkRecord] { state.withLock { $0.records } }

    /// Deliveries carrying `Idempotency-Key: key`.
    package func deliveries(idempotencyKey key: String) -> Int {
        records.filter { $0.idempotencyKey == key }.count
    }

    /// Deliveries whose payload's `fingerprint` is `fingerprint`.
    package func deliveries(fingerprint: String) -> Int {
        records.filter { $0.fingerprint == fingerprint }.count
    }

    /// Makes the next `count` POSTs answer `status` (still recorded): to test a failing receiver.
    package func failNext(status: Int, count: Int = 1) {
        state.withLock { $0.queuedStatuses.append(contentsOf: Array(repeating: status, count: count)) }
    }

    /// Makes every POST whose payload carries `fingerprint` answer `status`: a receiver that always rejects one
    /// incident (a poison item).
    package func failAlways(fingerprint: String, status: Int = 500) {
        state.withLock { $0.failingFingerprints[fingerprint] = status }
    }

    /// How many successful (2xx) deliveries of `kind` each payload `fingerprint` got, in one pass over the records.
    package func deliveredCounts(kind: String) -> [String: Int] {
        var counts: [String: Int] = [:]
        for record in records where (record.status ?? 200) < 300 && record.body["kind"]?.stringValue == kind {
            if let fingerprint = record.fingerprint { counts[fingerprint, default: 0] += 1 }
        }
        return counts
    }

    /// Successful (2xx) deliveries whose payload's `fingerprint` is `fingerprint` and `kind` is `kind`.
    package func delivered(fingerprint: String, kind: String) -> Int {
        deliveredCounts(kind: kind)[fingerprint, default: 0]
    }

    /// Runs the sink on `host:port` (0: any free port) until the task is cancelled; `onListening` gets the port.
    package func run(
        host: String = "127.0.0.1",
        port: Int = 0,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        try await runLoopbackServer(host: host, port: port, logger: logger, onListening: onListening) { request in
            try await self.respond(request)
        }
    }

    /// Runs the sink on a free loopback port for the duration of `body`, which gets the sink and its base URL.
    package static func withRunning<T: Sendable>(
        recordPath: String? = nil,
        logger: Logger,
        _ body: @Sendable (WebhookSink, URL) async throws -> T
    ) async throws -> T {
        let sink = WebhookSink(recordPath: recordPath, logger: logger)
        return try await withLoopbackServer(
            logger: logger,
            respond: { try await sink.respond($0) },
            body: { port in
                try await body(sink, URL(string: "http://127.0.0.1:\(port)")!)
            }
        )
    }

    /// `fluxbrain-testbed sink`: serves until cancelled, appending records to `recordPath`.
    package static func serve(host: String, port: Int, recordPath: String?, logger: Logger) async throws {
        let sink = WebhookSink(recordPath: recordPath, logger: logger)
        try await sink.run(host: host, port: port) { port in
            logger.info("webhook sink listening", metadata: ["host": "\(host)", "port": "\(port)"])
        }
    }

    private func respond(_ request: Request) async throws -> Response {
        var request = request
        switch (request.method, request.uri.path) {
        case (.get, "/healthz"):
            return Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: "ok\n")))
        case (.get, "/records"):
            let data = try StableJSON.encode(records)
            return Response(
                status: .ok,
                headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: data))
            )
        case (.post, _), (.put, _):
            let buffer = try await request.collectBody(upTo: 4 << 20)
            let bytes = Data(buffer.readableBytesView)
            var headers: [String: String] = [:]
            for field in request.headers where field.name.canonicalName != "authorization" {
                let name = field.name.canonicalName
                headers[name] = headers[name].map { $0 + ", " + field.value } ?? field.value
            }
            let body =
                (try? StableJSON.makeDecoder().decode(JSONValue.self, from: bytes))
                ?? .string(String(decoding: bytes, as: UTF8.self))
            var record = WebhookSinkRecord(
                receivedAt: now(),
                method: request.method.rawValue,
                path: request.uri.path + (request.uri.query.map { "?" + $0 } ?? ""),
                headers: headers,
                body: body,
                rawBody: bytes.base64EncodedString()
            )
            let status = state.withLock { state -> Int in
                let status: Int
                if let fingerprint = record.fingerprint, let failing = state.failingFingerprints[fingerprint] {
                    status = failing
                } else {
                    status = state.queuedStatuses.isEmpty ? 200 : state.queuedStatuses.removeFirst()
                }
                record.status = status
                state.records.append(record)
                appendToRecordFile(record)
                return status
            }
            logger.info(
                "webhook received",
                metadata: [
                    "path": "\(record.path)", "idempotencyKey": "\(record.idempotencyKey ?? "-")",
                    "status": "\(status)",
                ]
            )
            let answer = status < 300 ? #"{"ok":true}"# : #"{"ok":false,"error":"injected failure"}"#
            return Response(
                status: HTTPResponse.Status(code: status),
                headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: answer))
            )
        default:
            return Response(status: .notFound)
        }
    }

    /// Appends `record` as one JSON line; called under `state`'s lock.
    private func appendToRecordFile(_ record: WebhookSinkRecord) {
        guard recordFile >= 0 else { return }
        do {
            var line = try StableJSON.encode(record)
            line.append(UInt8(ascii: "\n"))
            try writeFully(line, to: recordFile)
        } catch {
            logger.error(
                "could not append to the record file",
                metadata: ["path": "\(recordPath ?? "-")", "error": "\(error)"]
            )
        }
    }
}

/// Runs a Hummingbird server answering with `respond` until the task is cancelled or a graceful shutdown (run it
/// as a service of the caller's `ServiceGroup`).
package func runLoopbackServer(
    host: String = "127.0.0.1",
    port: Int = 0,
    logger: Logger,
    onListening: @escaping @Sendable (Int) async -> Void = { _ in },
    respond: @escaping @Sendable (Request) async throws -> Response
) async throws {
    try await makeServer(host: host, port: port, logger: logger, onListening: onListening, respond: respond).run()
}

private func makeServer(
    host: String,
    port: Int,
    logger: Logger,
    onListening: @escaping @Sendable (Int) async -> Void,
    respond: @escaping @Sendable (Request) async throws -> Response
) -> some Service {
    Application(
        responder: CallbackResponder<BasicRequestContext> { request, _ in try await respond(request) },
        configuration: ApplicationConfiguration(address: .hostname(host, port: port)),
        onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) },
        logger: logger
    )
}

/// Runs a server answering with `respond` on a free loopback port for the duration of `body`, which gets the
/// port; the server shuts down gracefully when `body` returns or throws.
package func withLoopbackServer<T: Sendable>(
    logger: Logger,
    respond: @escaping @Sendable (Request) async throws -> Response,
    body: @Sendable (Int) async throws -> T
) async throws -> T {
    let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
    let server = makeServer(
        host: "127.0.0.1",
        port: 0,
        logger: logger,
        onListening: { continuation.yield($0) },
        respond: respond
    )
    let services = ServiceGroup(configuration: .init(services: [server], logger: logger))
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            defer { continuation.finish() }
            try await services.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            try await group.next()
            throw CoreError(.unavailable, "the loopback server did not start")
        }
        let result: Result<T, any Error>
        do { result = .success(try await body(port)) } catch { result = .failure(error) }
        await services.triggerGracefulShutdown()
        try await group.waitForAll()
        return try result.get()
    }
}
