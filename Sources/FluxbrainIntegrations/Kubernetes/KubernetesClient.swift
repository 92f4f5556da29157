import AsyncHTTPClient
import FluxbrainCore
import Foundation
import Logging
import Metrics
import NIOCore
import NIOSSL
import Synchronization

/// The HTTP client type Kubernetes clients share (async-http-client's `HTTPClient`).
package typealias KubernetesHTTPClient = HTTPClient

/// A small, exact Kubernetes API client over async-http-client: GET with a deadline, a client-side rate limit,
/// capped bodies, credentials that refresh (token file, exec plugin) and `Status` errors turned into clear messages.
///
/// The `HTTPClient` is passed in: shared by every cluster, except those with a proxy or `tls-server-name`
/// (`HTTPClients.kubernetes()` hands out the right one). The client is a value: copies share the credential cache and the rate limiter.
package struct KubernetesClient: Sendable {
    /// Limits and timeouts.
    package struct Options: Sendable {
        /// Deadline of an ordinary request, body included (default 30 s).
        package var requestTimeout: Duration = .seconds(30)
        /// Client-side rate limit (default 20 requests/s, burst 50).
        package var qps: Double = 20
        package var burst: Int = 50
        /// Largest list page body (default 64 MiB).
        package var maxListBytes: Int = 64 << 20
        /// Largest body of other replies (default 8 MiB).
        package var maxBodyBytes: Int = 8 << 20
        /// Largest single watch event line (default 16 MiB).
        package var maxWatchLineBytes: Int = 16 << 20
        /// Largest pod log reply (default 4 MiB).
        package var maxLogBytes: Int = 4 << 20

        package init() {}
    }

    /// The cluster name this client speaks for (in messages and metrics).
    package let cluster: String
    package let config: KubernetesConnectionConfig
    package let options: Options
    private let httpClient: HTTPClient
    private let credentials: CredentialProvider
    private let rateLimiter: RateLimiter
    private let tls: TLSConfigurations
    /// Where requests are addressed: `server`, or with `tls-server-name` that name in place of its host (the HTTP
    /// client maps it back to the server's address, see `HTTPClients.client(for:)`).
    private let requestBase: String
    /// The `Host` header when `requestBase` is not `server`.
    private let hostHeader: String?
    private let logger: Logger

    /// Makes a client for `config`.
    ///
    /// - Throws: `KubernetesError.config` when the CA or client certificate PEM cannot be parsed.
    package init(
        cluster: String,
        config: KubernetesConnectionConfig,
        httpClient: HTTPClient,
        options: Options = Options(),
        clock: any Clock<Duration> = ContinuousClock(),
        logger: Logger
    ) throws(KubernetesError) {
        self.cluster = cluster
        self.config = config
        self.options = options
        self.httpClient = httpClient
        self.credentials = CredentialProvider(credentials: config.credentials, clock: clock)
        self.rateLimiter = RateLimiter(qps: options.qps, burst: options.burst, clock: clock)
        self.tls = try TLSConfigurations(config: config)
        var base = config.server.absoluteString
        if base.hasSuffix("/") { base.removeLast() }
        if let name = config.tlsServerName, config.server.scheme == "https",
            var components = URLComponents(url: config.server, resolvingAgainstBaseURL: false),
            let host = components.host
        {
            hostHeader = (host.contains(":") ? "[\(host)]" : host) + (components.port.map { ":\($0)" } ?? "")
            components.host = name
            base = components.url?.absoluteString ?? base
            if base.hasSuffix("/") { base.removeLast() }
        } else {
            hostHeader = nil
        }
        self.requestBase = base
        var logger = logger
        logger[metadataKey: "cluster"] = "\(cluster)"
        self.logger = logger
    }

    /// An `HTTPClient` fit for Kubernetes (``httpConfiguration``). Clusters with a proxy or `tls-server-name` need
    /// a client of their own: use `HTTPClients.kubernetes()` and its `client(for:)`.
    package static func makeHTTPClient() -> HTTPClient {
        HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: httpConfiguration)
    }

    /// No read timeout (watches are long), 10 s connect timeout, up to 64 HTTP/1 connections per host (one per watch
    /// when the server speaks no HTTP/2), no redirects, no decompression, and receive buffers a connection does not
    /// keep (``useTransientReceiveBuffers(_:)``).
    package static var httpConfiguration: HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(10), read: nil)
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        configuration.redirectConfiguration = .disallow
        configuration.decompression = .disabled
        configuration.tracing.tracer = nil
        // async-http-client has no setting for channel options; these hooks run once per new connection, before its
        // first request.
        configuration.http1_1ConnectionDebugInitializer = { useTransientReceiveBuffers($0) }
        configuration.http2ConnectionDebugInitializer = { useTransientReceiveBuffers($0) }
        return configuration
    }

    /// Makes `channel` read into buffers it does not keep: one read per wake-up, each into a new buffer of NIO's
    /// adaptive size (``TransientRecvByteBufferAllocator``).
    ///
    /// NIO's defaults suit a server answering many short requests: a receive buffer that grows to 64 KiB after large
    /// reads, and up to four of them pooled per connection for its whole life. A central installation holds one
    /// connection per watch (ten kinds per cluster over HTTP/1) for hours, mostly idle: after the first list, each
    /// kept 64–256 KiB it never needed again (≈ 270 KiB per cluster, measured with heaptrack). A fixed 4 KiB buffer
    /// kept that small too, but cost the first full pass 40–70 % more CPU (16 times the reads, each a hop through
    /// async-http-client's body stream).
    package static func useTransientReceiveBuffers(_ channel: any Channel) -> EventLoopFuture<Void> {
        channel.setOption(.recvAllocator, value: TransientRecvByteBufferAllocator())
            .flatMap { channel.setOption(.maxMessagesPerRead, value: 1) }
    }

    // MARK: Requests

    /// A reply with its body collected.
    package struct Reply: Sendable {
        package var status: Int
        package var contentType: String?
        package var body: ByteBuffer
    }

    /// GETs `path` with `query` and collects the body up to `maxBytes`; non-2xx replies throw the decoded error.
    package func get(
        path: String,
        query: [(String, String)] = [],
        request: RequestDescription,
        maxBytes: Int? = nil,
        timeout: Duration? = nil
    ) async throws -> Reply {
        let timeout = timeout ?? options.requestTimeout
        let response = try await execute(path: path, query: query, request: request, timeout: timeout)
        let limit = maxBytes ?? options.maxBodyBytes
        let body: ByteBuffer
        do {
            body = try await response.body.collect(upTo: limit)
        } catch let error as NIOTooManyBytesError {
            throw KubernetesError(
                .tooLarge,
                "cluster \(cluster): the reply to \(request.verb) \(request.resourceDescription) is larger than \(limit) bytes",
                underlying: error
            )
        } catch {
            throw mapTransport(error, request: request)
        }
        return Reply(
            status: Int(response.status.code),
            contentType: response.headers.first(name: "Content-Type"),
            body: body
        )
    }

    /// Sends a GET and returns the response with its body still streaming; error statuses are collected and
    /// thrown. A 401 forgets the cached token and retries once when a new one may exist (token file, exec plugin).
    package func execute(
        path: String,
        query: [(String, String)],
        request: RequestDescription,
        timeout: Duration
    ) async throws -> HTTPClientResponse {
        // Error replies are read up to 256 KiB; the second attempt is only ever the retry after a 401.
        var execution = HTTPExecution(client: httpClient, limit: .perAttempt(timeout), maxBodyBytes: 256 << 10)
        execution.maxAttempts = 2
        execution.logger = logger
        let target = url(path: path, query: query)
        return try await execution.execute(
            build: { _ in
                try await rateLimiter.acquire()
                let resolved = try await credentials.resolve()
                var httpRequest = HTTPClientRequest(url: target)
                httpRequest.method = .GET
                httpRequest.headers.add(name: "Accept", value: "application/json")
                httpRequest.headers.add(name: "User-Agent", value: BuildInfo.userAgent)
                if let hostHeader { httpRequest.headers.add(name: "Host", value: hostHeader) }
                if let token = resolved.bearerToken {
                    httpRequest.headers.add(name: "Authorization", value: "Bearer \(token)")
                }
                httpRequest.tlsConfiguration = try tls.configuration(for: resolved.clientCertificate)
                return httpRequest
            },
            decide: { outcome, attempt in
                let answer: HTTPExecution.Answer
                do {
                    answer = try outcome.get()
                } catch {
                    Self.countRequest(cluster: cluster, code: "error")
                    throw mapTransport(error, request: request)
                }
                let status = answer.status
                Self.countRequest(cluster: cluster, code: String(status))
                if (200..<300).contains(status) { return .finish(answer.response) }
                // Error replies are read for their `Status`; a body that cannot be read is left out.
                let body = (try? await answer.collect()).map { Array($0.readableBytesView) } ?? []
                let error = KubernetesError.fromResponse(
                    httpStatus: status,
                    body: body,
                    contentType: answer.headers.first(name: "Content-Type"),
                    request: request,
                    cluster: cluster
                )
                if status == 401, !attempt.isLast, await credentials.invalidate() {
                    logger.info("401 from the API server: reloading credentials and retrying once")
                    return .retry(after: .zero, otherwise: .failure(error))
                }
                throw error
            },
            interrupted: { $0 }
        )
    }

    private func url(path: String, query: [(String, String)]) -> String {
        var text = requestBase
        text += path
        if !query.isEmpty {
            text += "?" + query.map { "\(Self.percentEncode($0.0))=\(Self.percentEncode($0.1))" }.joined(separator: "&")
        }
        return text
    }

    private static let unreserved: CharacterSet = {
        var set = CharacterSet.alphanumerics
        set.insert(charactersIn: "-._~")
        return set
    }()

    /// Percent-encodes a query component (everything but RFC 3986 unreserved characters).
    package static func percentEncode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }

    private func mapTransport(_ error: any Error, request: RequestDescription) -> KubernetesError {
        if let error = error as? KubernetesError { return error }
        let via = config.proxy.map { " through proxy \($0)" } ?? ""
        let target = "\(config.server.absoluteString)\(via) (\(request.verb) \(request.resourceDescription))"
        let hint = "check \(config.setting)"
        if let error = error as? HTTPClientError {
            if error == .getConnectionFromPoolTimeout {
                // Queued behind this cluster's own connections: nothing was sent, the network was never tried.
                return KubernetesError(
                    .localLimit,
                    "cluster \(cluster): waited too long for a free connection to \(target): every connection of this "
                        + "cluster's local pool is busy (a local limit, not a network failure)",
                    hint: "fewer kinds or namespaces per cluster (FLUXBRAIN_NAMESPACES), or report it as a bug",
                    underlying: error
                )
            }
            if error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
                return KubernetesError(
                    .timeout,
                    "cluster \(cluster): timed out talking to \(target)",
                    hint: hint,
                    underlying: TransportFailure(error)
                )
            }
        }
        if error is NIOSSLError || error is NIOSSLExtraError || error is BoringSSLError {
            let name = config.tlsServerName.map { " (tls-server-name \($0))" } ?? ""
            return KubernetesError(
                .transport,
                "cluster \(cluster): TLS failed talking to \(target): check the CA and server name\(name)",
                underlying: error
            )
        }
        return KubernetesError(
            .transport,
            "cluster \(cluster): cannot reach \(target)",
            hint: hint,
            underlying: TransportFailure(error)
        )
    }

    private static func countRequest(cluster: String, code: String) {
        Counter(label: "fluxbrain_kube_requests_total", dimensions: [("cluster", cluster), ("code", code)]).increment()
    }

    // MARK: Flux objects

    /// `/apis/G/V[/namespaces/NS]/PLURAL`.
    package static func collectionPath(_ kind: FluxKind, namespace: String?) -> String {
        if let namespace {
            return "/apis/\(kind.group)/\(kind.version)/namespaces/\(percentEncode(namespace))/\(kind.plural)"
        }
        return "/apis/\(kind.group)/\(kind.version)/\(kind.plural)"
    }

    /// One page of a list.
    package func listPage(
        _ kind: FluxKind,
        namespace: String?,
        limit: Int,
        continueToken: String?
    ) async throws -> ObjectList {
        var query = [("limit", String(limit))]
        if let continueToken, !continueToken.isEmpty { query.append(("continue", continueToken)) }
        let request = RequestDescription(
            verb: "list",
            group: kind.group,
            version: kind.version,
            resource: kind.plural,
            namespace: namespace
        )
        let reply = try await get(
            path: Self.collectionPath(kind, namespace: namespace),
            query: query,
            request: request,
            maxBytes: options.maxListBytes
        )
        do {
            return try reply.body.withUnsafeReadableBytes { bytes in try ObjectList(json: bytes) }
        } catch {
            throw KubernetesError(
                .decoding,
                "cluster \(cluster): the \(kind.name) list is not a Kubernetes list: \(ObjectList.describe(error))",
                underlying: error
            )
        }
    }

    /// A complete list, page by page (`limit`/`continue`).
    package struct ListResult: Sendable {
        package var objects: [FluxObject]
        /// The list's resourceVersion: watch from here.
        package var resourceVersion: String
        /// Items that did not decode (skipped).
        package var malformed: [ObjectList.MalformedItem]
    }

    /// Lists every `kind` object (in `namespace`, or cluster-wide), following continue tokens.
    package func list(_ kind: FluxKind, namespace: String?, pageSize: Int = 500) async throws -> ListResult {
        var result = ListResult(objects: [], resourceVersion: "", malformed: [])
        var token: String?
        var pages = 0
        repeat {
            let page = try await listPage(kind, namespace: namespace, limit: pageSize, continueToken: token)
            if pages == 0 { result.resourceVersion = page.resourceVersion ?? "" }
            result.objects.append(contentsOf: page.items)
            result.malformed.append(contentsOf: page.malformed)
            token = page.continueToken
            pages += 1
        } while !(token ?? "").isEmpty
        return result
    }

    /// Watches `kind` from `resourceVersion` (bookmarks on) and calls `onEvent` for each event until the server
    /// ends the stream (returns normally; watch again from the last resourceVersion).
    ///
    /// - Throws: `KubernetesError.expired` for an `ERROR` event with a 410 `Expired`/`Gone` Status inside the 200
    ///   stream (list again), `.server` for another `ERROR` event, `.tooLarge` for a line over the cap.
    package func watch(
        _ kind: FluxKind,
        namespace: String?,
        resourceVersion: String,
        timeoutSeconds: Int,
        onEvent: (WatchEvent) async throws -> Void
    ) async throws {
        let query = [
            ("watch", "1"), ("resourceVersion", resourceVersion), ("allowWatchBookmarks", "true"),
            ("timeoutSeconds", String(timeoutSeconds)),
        ]
        let request = RequestDescription(
            verb: "watch",
            group: kind.group,
            version: kind.version,
            resource: kind.plural,
            namespace: namespace
        )
        let response = try await inChildTask { [self] in
            try await execute(
                path: Self.collectionPath(kind, namespace: namespace),
                query: query,
                request: request,
                timeout: .seconds(timeoutSeconds + 30)
            )
        }
        var splitter = LineSplitter(maxLineBytes: options.maxWatchLineBytes)
        do {
            for try await chunk in response.body {
                var chunk = chunk
                try splitter.append(&chunk)
                while let line = try splitter.nextLine() {
                    try await handle(line: line, kind: kind, onEvent: onEvent)
                }
            }
        } catch let error as KubernetesError {
            throw error
        } catch let error as LineSplitter.TooLong {
            throw KubernetesError(
                .tooLarge,
                "cluster \(cluster): a \(kind.name) watch event is larger than \(error.limit) bytes"
            )
        } catch {
            throw mapTransport(error, request: request)
        }
        if let last = splitter.remainder() {
            try await handle(line: last, kind: kind, onEvent: onEvent)
        }
    }

    private func handle(line: [UInt8], kind: FluxKind, onEvent: (WatchEvent) async throws -> Void) async throws {
        guard line.contains(where: { $0 != 0x20 && $0 != 0x0d && $0 != 0x09 }) else { return }
        let event = WatchEvent.decode(line: line)
        if case .error(let status) = event {
            if status.code == 410 || status.reason == "Expired" || status.reason == "Gone" {
                throw KubernetesError(
                    .expired,
                    "cluster \(cluster): \(kind.name) watch expired: \(status.message ?? "too old resource version")",
                    httpStatus: 410
                )
            }
            throw KubernetesError(
                .server,
                "cluster \(cluster): \(kind.name) watch error \(status.code.map(String.init) ?? "?") "
                    + "\(status.reason ?? ""): \(status.message ?? "")",
                httpStatus: status.code
            )
        }
        try await onEvent(event)
    }

    // MARK: Events, pods, logs

    /// The Warning events of `reference` (core/v1, field selector on involvedObject), newest first, at most `limit`.
    package func warningEvents(for reference: ObjectReference, limit: Int = 10) async throws -> [EventRecord] {
        let selector = [
            "involvedObject.kind=\(reference.kind.name)", "involvedObject.name=\(reference.name)",
            "involvedObject.namespace=\(reference.namespace)", "type=Warning",
        ].joined(separator: ",")
        let request = RequestDescription(
            verb: "list",
            group: "",
            version: "v1",
            resource: "events",
            namespace: reference.namespace
        )
        let reply = try await get(
            path: "/api/v1/namespaces/\(Self.percentEncode(reference.namespace))/events",
            query: [("fieldSelector", selector)],
            request: request
        )
        let list: CoreEventList
        do {
            list = try JSONDecoder().decode(CoreEventList.self, from: Data(reply.body.readableBytesView))
        } catch {
            throw KubernetesError(.decoding, "cluster \(cluster): the event list does not decode", underlying: error)
        }
        let annotationKey = "\(reference.kind.group)/revision"
        let records = list.items.compactMap { event -> EventRecord? in
            guard event.type == "Warning" else { return nil }
            return EventRecord(
                type: event.type ?? "Warning",
                reason: event.reason ?? "",
                message: event.message ?? "",
                count: event.count,
                firstTimestamp: event.firstTimestamp.flatMap(RFC3339.date(from:)),
                lastTimestamp: (event.lastTimestamp ?? event.eventTime ?? event.firstTimestamp).flatMap(
                    RFC3339.date(from:)
                ),
                reportingComponent: (event.reportingComponent?.isEmpty == false ? event.reportingComponent : nil)
                    ?? event.source?.component,
                revision: event.metadata?.annotations?[annotationKey]
            )
        }
        return Array(
            records.sorted { ($0.lastTimestamp ?? .distantPast) > ($1.lastTimestamp ?? .distantPast) }.prefix(limit)
        )
    }

    /// Names of the pods matching `labelSelector` in `namespace`.
    package func podNames(namespace: String, labelSelector: String) async throws -> [String] {
        let request = RequestDescription(verb: "list", group: "", version: "v1", resource: "pods", namespace: namespace)
        let reply = try await get(
            path: "/api/v1/namespaces/\(Self.percentEncode(namespace))/pods",
            query: [("labelSelector", labelSelector)],
            request: request
        )
        struct PodList: Decodable {
            struct Pod: Decodable {
                struct Meta: Decodable { var name: String }
                var metadata: Meta
            }
            var items: [Pod]?
        }
        do {
            return try JSONDecoder().decode(PodList.self, from: Data(reply.body.readableBytesView)).items?.map(
                \.metadata.name
            ) ?? []
        } catch {
            throw KubernetesError(.decoding, "cluster \(cluster): the pod list does not decode", underlying: error)
        }
    }

    /// The recent log of `container` in `pod` (text).
    package func podLog(
        namespace: String,
        pod: String,
        container: String,
        sinceSeconds: Int = 3600,
        tailLines: Int = 500
    ) async throws -> String {
        let request = RequestDescription(
            verb: "get",
            group: "",
            version: "v1",
            resource: "pods/log",
            namespace: namespace,
            name: pod
        )
        let reply = try await get(
            path: "/api/v1/namespaces/\(Self.percentEncode(namespace))/pods/\(Self.percentEncode(pod))/log",
            query: [
                ("container", container), ("sinceSeconds", String(sinceSeconds)), ("tailLines", String(tailLines)),
                ("timestamps", "false"),
            ],
            request: request,
            maxBytes: options.maxLogBytes
        )
        return String(decoding: reply.body.readableBytesView, as: UTF8.self)
    }
}

/// NIO's adaptive receive sizes (2 KiB at first, doubling up to 64 KiB while a large reply streams in, halving when
/// reads get small) in buffers the channel does not keep.
///
/// A channel keeps its receive buffers in a pool (`NIOPooledRecvBufferAllocator`, up to `maxMessagesPerRead` of
/// them) and reuses one when the allocator names the next size; they never shrink. Without a size, and saying every
/// read may grow, the pool reuses nothing: each read gets a new buffer, freed once the reply's bytes are consumed.
/// With `maxMessagesPerRead` 1 the pool holds at most its first, 2 KiB buffer.
package struct TransientRecvByteBufferAllocator: RecvByteBufferAllocator {
    private var sizes = AdaptiveRecvByteBufferAllocator()

    package init() {}

    package func buffer(allocator: ByteBufferAllocator) -> ByteBuffer {
        sizes.buffer(allocator: allocator)
    }

    /// `nil`: the pool may not reuse a kept buffer for the next read.
    package func nextBufferSize() -> Int? {
        nil
    }

    /// Always `true` ("the next buffer may be bigger"), so the pool does not reuse a kept buffer either.
    package mutating func record(actualReadBytes: Int) -> Bool {
        _ = sizes.record(actualReadBytes: actualReadBytes)
        return true
    }
}

/// Runs `operation` in a child task and returns what it returns.
///
/// For a deep call (an HTTP request through async-http-client: ≈ 13 KiB of async frames) made by a task that lives
/// for hours (a watch loop): a task keeps the memory of its deepest call stack for its whole life (the Swift task
/// allocator reuses its slabs rather than freeing them), a child task's is freed when the child ends.
package func inChildTask<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask(operation: operation)
        guard let value = try await group.next() else { throw CancellationError() }
        return value
    }
}

/// A core/v1 `EventList`, the fields Fluxbrain reads.
struct CoreEventList: Decodable {
    struct Event: Decodable {
        struct Meta: Decodable { var annotations: [String: String]? }
        struct Source: Decodable { var component: String? }
        var metadata: Meta?
        var type: String?
        var reason: String?
        var message: String?
        var count: Int64?
        var firstTimestamp: String?
        var lastTimestamp: String?
        var eventTime: String?
        var reportingComponent: String?
        var source: Source?
    }
    var items: [Event]
}

/// The TLS configurations of one API server: a base one (CA, verification) and one per client certificate.
final class TLSConfigurations: Sendable {
    private let base: TLSConfiguration?
    private let cache: Mutex<[ClientCertificate: TLSConfiguration]> = Mutex([:])

    init(config: KubernetesConnectionConfig) throws(KubernetesError) {
        guard config.server.scheme == "https" else {
            base = nil
            return
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        if let pem = config.certificateAuthorityPEM {
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(pem))
            } catch {
                throw KubernetesError(
                    .config,
                    "\(config.origin): the certificate authority is not valid PEM",
                    underlying: error
                )
            }
        }
        if config.insecureSkipTLSVerify {
            tls.certificateVerification = .none
        }
        base = tls
        if let certificate = config.credentials.clientCertificate {
            _ = try configuration(for: certificate)
        }
    }

    func configuration(for certificate: ClientCertificate?) throws(KubernetesError) -> TLSConfiguration? {
        guard var tls = base else { return nil }
        guard let certificate else { return tls }
        if let cached = cache.withLock({ $0[certificate] }) { return cached }
        do {
            tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(certificate.certificatePEM).map {
                .certificate($0)
            }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: certificate.keyPEM, format: .pem))
        } catch {
            throw KubernetesError(.config, "the client certificate or key is not valid PEM", underlying: error)
        }
        let configured = tls
        cache.withLock { $0[certificate] = configured }
        return configured
    }
}

extension HTTPClients {
    /// Clients fit for Kubernetes (``KubernetesClient/httpConfiguration``): one per cluster, see
    /// `client(for:cluster:connections:)`.
    package static func kubernetes() -> HTTPClients {
        HTTPClients(configuration: KubernetesClient.httpConfiguration, eventLoopGroup: HTTPClient.defaultEventLoopGroup)
    }

    /// The client of `cluster`: a connection pool of its own allowing `connections` HTTP/1 connections (default:
    /// the configuration's 64), through the cluster's proxy, and for `tls-server-name` with a DNS override that
    /// sends requests addressed to that name to the server's host.
    ///
    /// A pool per cluster, not per host: async-http-client counts connections per scheme, host and port, and a
    /// cluster holds one long-lived connection per watch (ten kinds, times the namespaces when scoped) plus its lists
    /// and evidence requests. Thirty clusters behind one proxy host (Rancher's `/k8s/clusters/<id>`, Teleport, an API
    /// gateway) sharing one budget of 64 left most watches queued in the pool until they timed out. Over HTTPS a
    /// server that offers HTTP/2 gets it (ALPN), and the cluster's requests share one multiplexed connection.
    package func client(for config: KubernetesConnectionConfig, cluster: String, connections: Int? = nil) -> HTTPClient
    {
        var dnsOverride: [String: String] = [:]
        if let name = config.tlsServerName, config.server.scheme == "https", let host = config.server.host {
            dnsOverride[name] = host
        }
        return client(proxy: config.proxy, dnsOverride: dnsOverride, pool: cluster, connectionsPerHost: connections)
    }
}
