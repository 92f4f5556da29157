import FluxbrainCore
import Foundation
import Hummingbird
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle

/// A fake Kubernetes API server speaking the real wire format over HTTP or HTTPS (Hummingbird 2): legacy discovery
/// (`/version`, `/api`, `/apis`, `/api/v1`, `/apis/GROUP/VERSION`, enough for `kubectl get`), paginated lists
/// with continue tokens, watch streams of JSON lines (ADDED/MODIFIED/DELETED/BOOKMARK, and a 410 `ERROR` inside a
/// 200 stream for an expired resourceVersion), the plain-text `404 page not found` of a missing CRD, 401 and 403
/// `Status` replies, core/v1 events with field selectors, pods with label selectors and `pods/{name}/log`.
///
/// The state is programmed through ``state``; the server only reads it.
package struct FakeKubernetesServer: Sendable {
    package let state: FakeKubernetesState
    /// The user named in 403 messages.
    package var user: String = "system:serviceaccount:flux-system:fluxbrain"

    package init(state: FakeKubernetesState = FakeKubernetesState()) {
        self.state = state
    }

    /// Serves on `host:port` (port 0: any free port) until the task is cancelled, or until the enclosing
    /// `ServiceGroup` shuts down gracefully; `onRunning` gets the bound port. With `tls`, serves HTTPS.
    ///
    /// Cancelling a running server makes HummingbirdCore log two errors ("Waiting on child channel:
    /// CancellationError()", "Server shutdown error: Already closed"); ``withRunning(host:port:tls:logger:_:)``
    /// stops it gracefully instead.
    package func run(
        host: String = "127.0.0.1",
        port: Int = 0,
        tls: TLSConfiguration? = nil,
        logger: Logger,
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        try await application(host: host, port: port, tls: tls, logger: logger, onRunning: onRunning).run()
    }

    /// Serves on `host:port` (port 0: any free port) while `body` runs with the bound port, then shuts down
    /// gracefully: open watch streams end (as when an API server goes away), connections close, and nothing is
    /// logged. With `tls`, serves HTTPS. Throws what `body` throws, or why the server did not start.
    package func withRunning<T: Sendable>(
        host: String = "127.0.0.1",
        port: Int = 0,
        tls: TLSConfiguration? = nil,
        logger: Logger,
        _ body: (Int) async throws -> T
    ) async throws -> T {
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = try application(host: host, port: port, tls: tls, logger: logger) { bound in
            portContinuation.yield(bound)
            portContinuation.finish()
        }
        var configuration = ServiceGroupConfiguration(services: [app], logger: logger)
        // A client holding some other request open cannot stall the caller: cancelled after this.
        configuration.maximumGracefulShutdownDuration = .seconds(10)
        let services = ServiceGroup(configuration: configuration)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                defer { portContinuation.finish() }
                try await services.run()
            }
            var iterator = ports.makeAsyncIterator()
            guard let bound = await iterator.next() else {
                try await group.waitForAll()
                throw CoreError(.unavailable, "the fake Kubernetes API server did not start on \(host):\(port)")
            }
            let result: Result<T, any Error>
            do {
                result = .success(try await body(bound))
            } catch {
                result = .failure(error)
            }
            await services.triggerGracefulShutdown()
            try await group.waitForAll()
            return try result.get()
        }
    }

    private func application(
        host: String,
        port: Int,
        tls: TLSConfiguration?,
        logger: Logger,
        onRunning: @escaping @Sendable (Int) async -> Void
    ) throws -> Application<RouterResponder<BasicRequestContext>> {
        let router = Router(context: BasicRequestContext.self)
        let handler = self
        router.get("**") { request, _ in
            await handler.respond(to: request)
        }
        return Application(
            router: router,
            server: try tls.map { try .tls(.http1(), tlsConfiguration: $0) } ?? .http1(),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
            logger: logger
        )
    }

    // MARK: Routing

    private static func query(_ text: String?) -> [String: String] {
        var result: [String: String] = [:]
        for pair in (text ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            let key = parts[0].replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? parts[0]
            let value =
                parts.count > 1
                ? (parts[1].replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? parts[1]) : ""
            result[key] = value
        }
        return result
    }

    package func respond(to request: Request) async -> Response {
        let path = request.uri.path
        let query = Self.query(request.uri.query)
        let authorization = request.headers[.authorization]
        await state.record(.init(path: path, query: query, authorization: authorization))
        if let token = await state.requiredToken, authorization != "Bearer \(token)" {
            return Self.status(code: 401, reason: "Unauthorized", message: "Unauthorized")
        }
        let segments = path.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }
        do {
            switch (segments.first, segments.count) {
            case ("version", 1): return Self.json(Self.versionInfo)
            case ("api", 1): return Self.json(Self.coreVersions)
            case ("api", 2) where segments[1] == "v1": return Self.json(Self.coreResources)
            case ("apis", 1): return Self.json(await groupList())
            case ("apis", 3):
                guard let list = await resources(group: segments[1], version: segments[2]) else {
                    return Self.pageNotFound()
                }
                return Self.json(list)
            case ("apis", _): return try await respondFlux(segments: Array(segments.dropFirst()), query: query)
            case ("api", _): return try await respondCore(segments: Array(segments.dropFirst()), query: query)
            default: return Self.pageNotFound()
            }
        } catch FakeAPIError.badRequest(let message) {
            return Self.status(code: 400, reason: "BadRequest", message: message)
        } catch FakeAPIError.expired(let message) {
            return Self.status(code: 410, reason: "Expired", message: message)
        } catch {
            return Self.status(code: 500, reason: "InternalError", message: "\(error)")
        }
    }

    /// `/apis/G/V/P`, `/apis/G/V/namespaces/NS/P`, `/apis/G/V/namespaces/NS/P/NAME`.
    private func respondFlux(segments: [String], query: [String: String]) async throws -> Response {
        guard segments.count >= 3 else { return Self.pageNotFound() }
        let group = segments[0]
        let version = segments[1]
        var rest = Array(segments.dropFirst(2))
        var namespace: String?
        if rest.first == "namespaces", rest.count >= 3 {
            namespace = rest[1]
            rest.removeFirst(2)
        }
        guard let plural = rest.first,
            let kind = FluxKind.all.first(where: { $0.group == group && $0.version == version && $0.plural == plural })
        else { return Self.pageNotFound() }
        if await state.missingKinds.contains(kind.plural) { return Self.pageNotFound() }
        let isWatch = query["watch"] == "1" || query["watch"] == "true"
        let verb = rest.count > 1 ? "get" : (isWatch ? "watch" : "list")
        if await state.forbiddenKinds.contains(kind.plural) {
            let scope = namespace.map { "in the namespace \"\($0)\"" } ?? "at the cluster scope"
            return Self.status(
                code: 403,
                reason: "Forbidden",
                message:
                    "\(kind.plural).\(kind.group) is forbidden: User \"\(user)\" cannot \(verb) resource \"\(kind.plural)\" in API group \"\(kind.group)\" \(scope)",
                details: ["group": .string(kind.group), "kind": .string(kind.plural)]
            )
        }
        if await state.failing {
            return Self.status(code: 500, reason: "InternalError", message: "etcdserver: request timed out")
        }
        if rest.count == 2, let namespace {
            guard let object = await state.object(kind, namespace: namespace, name: rest[1]) else {
                return Self.status(
                    code: 404,
                    reason: "NotFound",
                    message: "\(kind.plural).\(kind.group) \"\(rest[1])\" not found",
                    details: ["name": .string(rest[1]), "group": .string(kind.group), "kind": .string(kind.plural)]
                )
            }
            return Self.json(object)
        }
        guard rest.count == 1 else { return Self.pageNotFound() }
        if isWatch {
            return await watch(
                kind: kind,
                namespace: namespace,
                resourceVersion: query["resourceVersion"] ?? "",
                timeoutSeconds: Int(query["timeoutSeconds"] ?? "") ?? 1800,
                bookmarks: query["allowWatchBookmarks"] == "true"
            )
        }
        let list = try await state.list(
            kind: kind,
            namespace: namespace,
            limit: Int(query["limit"] ?? ""),
            continueToken: query["continue"]
        )
        return Self.json(list)
    }

    private func watch(
        kind: FluxKind,
        namespace: String?,
        resourceVersion: String,
        timeoutSeconds: Int,
        bookmarks: Bool
    ) async -> Response {
        let subscription = await state.subscribe(
            kind: kind,
            namespace: namespace,
            resourceVersion: resourceVersion,
            bookmarks: bookmarks
        )
        let state = self.state
        let body = ResponseBody { writer in
            if let expired = subscription.expired {
                try await writer.write(expired)
                try await writer.finish(nil)
                return
            }
            do {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        try await Task.sleep(for: .seconds(timeoutSeconds))
                        await state.unsubscribe(subscription.id)
                    }
                    // The server is shutting down gracefully: end the stream so the connection can close.
                    group.addTask {
                        try await gracefulShutdown()
                        await state.unsubscribe(subscription.id)
                    }
                    for line in subscription.backlog { try await writer.write(line) }
                    for await line in subscription.stream { try await writer.write(line) }
                    group.cancelAll()
                }
            } catch {
                await state.unsubscribe(subscription.id)
                throw error
            }
            await state.unsubscribe(subscription.id)
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: body)
    }

    /// `/api/v1/namespaces/NS/events`, `/api/v1/events`, `/api/v1/namespaces/NS/pods[/NAME/log]`.
    private func respondCore(segments: [String], query: [String: String]) async throws -> Response {
        guard segments.first == "v1" else { return Self.pageNotFound() }
        let rest = Array(segments.dropFirst())
        switch rest.count {
        case 1 where rest[0] == "events":
            return Self.json(try await state.events(namespace: nil, fieldSelector: query["fieldSelector"]))
        case 3 where rest[0] == "namespaces" && rest[2] == "events":
            return Self.json(try await state.events(namespace: rest[1], fieldSelector: query["fieldSelector"]))
        case 3 where rest[0] == "namespaces" && rest[2] == "pods":
            return Self.json(try await state.pods(namespace: rest[1], labelSelector: query["labelSelector"]))
        case 5 where rest[0] == "namespaces" && rest[2] == "pods" && rest[4] == "log":
            if let container = query["container"], container != "manager" {
                return Self.status(
                    code: 400,
                    reason: "BadRequest",
                    message: "container \(container) is not valid for pod \(rest[3])"
                )
            }
            guard let log = await state.log(namespace: rest[1], pod: rest[3], tailLines: Int(query["tailLines"] ?? ""))
            else {
                return Self.status(
                    code: 404,
                    reason: "NotFound",
                    message: "pods \"\(rest[3])\" not found",
                    details: ["name": .string(rest[3]), "kind": .string("pods")]
                )
            }
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain"],
                body: .init(byteBuffer: ByteBuffer(string: log))
            )
        default:
            return Self.pageNotFound()
        }
    }

    // MARK: Replies

    static func json(_ value: JSONValue) -> Response {
        let data = (try? JSONEncoder().encode(value)) ?? Data("{}".utf8)
        return Response(
            status: .ok,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data))
        )
    }

    /// The apiserver's final not-found handler: plain text, not a Status.
    static func pageNotFound() -> Response {
        Response(
            status: .notFound,
            headers: [.contentType: "text/plain; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: "404 page not found\n"))
        )
    }

    static func status(code: Int, reason: String, message: String, details: [String: JSONValue]? = nil) -> Response {
        var members: [String: JSONValue] = [
            "kind": .string("Status"), "apiVersion": .string("v1"), "metadata": .object([:]),
            "status": .string("Failure"), "message": .string(message), "reason": .string(reason),
            "code": .int(Int64(code)),
        ]
        if let details { members["details"] = .object(details) }
        let data = (try? JSONEncoder().encode(JSONValue.object(members))) ?? Data()
        return Response(
            status: .init(code: code),
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data))
        )
    }
}
