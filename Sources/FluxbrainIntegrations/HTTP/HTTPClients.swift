import AsyncHTTPClient
import Foundation
import NIOCore
import Synchronization

/// HTTP clients that share one configuration and differ only in what async-http-client sets per client, not per
/// request: the proxy, DNS overrides (for kubeconfig `tls-server-name`) and the connection pool. The client of each
/// such combination is made on first use and shared after; the owner calls ``shutdown()`` once, at the end.
///
/// Outbound calls (Errorbrain, Slack, webhook, GitHub) take ``client(for:)``, which applies the environment's proxy
/// (``ProxyEnvironment``) and share one pool. Each Kubernetes cluster takes `client(for:cluster:connections:)`
/// (KubernetesClient.swift): a pool of its own, because async-http-client limits connections per scheme, host and
/// port, and clusters behind one proxy host (Rancher's `/k8s/clusters/<id>`) would otherwise share one budget.
package final class HTTPClients: Sendable {
    private struct Key: Hashable {
        var proxy: HTTPProxy?
        var dnsOverride: [String: String]
        /// Whose connection pool this is (a Kubernetes cluster), `nil` for the shared one.
        var pool: String?
        /// HTTP/1 connections per host in this pool, `nil` for the configuration's.
        var connectionsPerHost: Int?
    }

    private let configuration: HTTPClient.Configuration
    private let proxies: ProxyEnvironment
    private let eventLoopGroup: any EventLoopGroup
    private let clients: Mutex<[Key: HTTPClient]> = Mutex([:])
    /// The executor workers prefer: the loop of the outbound connections (see ``EventLoopTaskExecutor``).
    package let workerExecutor: EventLoopTaskExecutor

    /// Clients with `configuration` (a default one when omitted) on `eventLoopGroup`; ``client(for:)`` asks
    /// `proxies`.
    ///
    /// The outbound clients' default group is one event loop of NIO's shared group: their connections, timers and
    /// answers then all live on one thread, which ``HTTPExecution/execute(buffered:decide:interrupted:)`` reaches
    /// with a single hop per request (on a group of several loops, async-http-client's pool may hand a request a
    /// connection of another loop, or open a connection per loop). Kubernetes clients (``kubernetes()``) take the
    /// whole group.
    package init(
        configuration: HTTPClient.Configuration = HTTPClients.outboundConfiguration,
        proxies: ProxyEnvironment = .none,
        eventLoopGroup: any EventLoopGroup = HTTPClient.defaultEventLoopGroup.next()
    ) {
        self.configuration = configuration
        self.proxies = proxies
        self.eventLoopGroup = eventLoopGroup
        self.workerExecutor = EventLoopTaskExecutor(eventLoopGroup.next())
    }

    /// async-http-client's defaults without tracing: Fluxbrain bootstraps no tracer, and the no-op one the client
    /// would take still costs a span and its attributes per request.
    package static var outboundConfiguration: HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        configuration.tracing.tracer = nil
        return configuration
    }

    /// The client for requests to `url`: through the proxy the environment names for it, else direct.
    package func client(for url: URL) -> HTTPClient {
        client(proxy: proxies.proxy(for: url))
    }

    /// The client that connects through `proxy` (directly when `nil`) with `dnsOverride`; with a `pool` name, a
    /// client (and so a connection pool) of that name's own, allowing `connectionsPerHost` HTTP/1 connections per
    /// host when given.
    package func client(
        proxy: HTTPProxy?,
        dnsOverride: [String: String] = [:],
        pool: String? = nil,
        connectionsPerHost: Int? = nil
    ) -> HTTPClient {
        let key = Key(proxy: proxy, dnsOverride: dnsOverride, pool: pool, connectionsPerHost: connectionsPerHost)
        return clients.withLock { clients in
            if let client = clients[key] { return client }
            var configuration = configuration
            configuration.proxy = proxy.map { HTTPClient.Configuration.Proxy($0) }
            configuration.dnsOverride = dnsOverride
            if let connectionsPerHost {
                configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = connectionsPerHost
            }
            let client = HTTPClient(eventLoopGroup: eventLoopGroup, configuration: configuration)
            clients[key] = client
            return client
        }
    }

    /// Shuts every client down.
    package func shutdown() async {
        let all = clients.withLock { clients in
            defer { clients.removeAll() }
            return Array(clients.values)
        }
        for client in all {
            try? await client.shutdown()
        }
    }
}

extension HTTPClient.Configuration.Proxy {
    /// async-http-client's form of `proxy`: `CONNECT` through an HTTP proxy (basic authentication when it has a user),
    /// or SOCKS5.
    package init(_ proxy: HTTPProxy) {
        switch proxy.kind {
        case .http:
            let authorization = proxy.username.map {
                HTTPClient.Authorization.basic(username: $0, password: proxy.password ?? "")
            }
            self = .server(host: proxy.host, port: proxy.port, authorization: authorization)
        case .socks5:
            self = .socksServer(host: proxy.host, port: proxy.port)
        }
    }
}

/// Why an HTTP request got no answer, in a few words (`connection refused`), keeping the client's own error for
/// debugging: the `underlying` of a "cannot reach" error, so its one readable line ends `(connection refused)`
/// rather than with async-http-client's or NIO's dump, which `debugDescription` still shows.
package struct TransportFailure: Error, CustomStringConvertible, CustomDebugStringConvertible, Sendable {
    /// `connection refused`, `timed out`, `the name does not resolve`, … or the error's own text.
    package let reason: String
    /// The client's error as text (with secrets removed when the thrower asked).
    package let detail: String

    /// Describes `error`, removing each of `secrets` (for example a webhook URL) from its text.
    package init(_ error: any Error, removing secrets: [String] = []) {
        var text = String(describing: error)
        for secret in secrets where secret.count > 1 {
            text = text.replacingOccurrences(of: secret, with: "<redacted>")
        }
        detail = "\(type(of: error)): \(text)"
        reason = Self.reason(text) ?? text
    }

    private static func reason(_ text: String) -> String? {
        let lower = text.lowercased()
        if lower.contains("refused") { return "connection refused" }
        if lower.contains("connecttimeout") || lower.contains("connect timeout") { return "no connection in time" }
        if lower.contains("timed out") || lower.contains("deadlineexceeded") || lower.contains("readtimeout") {
            return "timed out"
        }
        if lower.contains("dns") || lower.contains("not known") || lower.contains("resolve") {
            return "the name does not resolve"
        }
        if lower.contains("reset") { return "connection reset" }
        if lower.contains("remoteconnectionclosed") || lower.contains("eof") {
            return "the server closed the connection"
        }
        if lower.contains("unreachable") { return "network unreachable" }
        return nil
    }

    package var description: String { reason }
    package var debugDescription: String { detail }
}
