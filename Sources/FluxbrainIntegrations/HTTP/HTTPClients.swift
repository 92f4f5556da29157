import AsyncHTTPClient
import Foundation
import Synchronization

/// HTTP clients that share one configuration and differ only in what async-http-client sets per client, not per
/// request: the proxy and DNS overrides (the latter for kubeconfig `tls-server-name`). The client of each such pair
/// is made on first use and shared after; the owner calls ``shutdown()`` once, at the end.
///
/// Outbound calls (Errorbrain, Slack, webhook, GitHub) take ``client(for:)``, which applies the environment's proxy
/// (``ProxyEnvironment``); Kubernetes clusters take `client(for:)` with their connection (KubernetesClient.swift).
package final class HTTPClients: Sendable {
    private struct Key: Hashable {
        var proxy: HTTPProxy?
        var dnsOverride: [String: String]
    }

    private let configuration: HTTPClient.Configuration
    private let proxies: ProxyEnvironment
    private let clients: Mutex<[Key: HTTPClient]> = Mutex([:])

    /// Clients with `configuration` (a default one when omitted); ``client(for:)`` asks `proxies`.
    package init(configuration: HTTPClient.Configuration = HTTPClient.Configuration(), proxies: ProxyEnvironment = .none) {
        self.configuration = configuration
        self.proxies = proxies
    }

    /// The client for requests to `url`: through the proxy the environment names for it, else direct.
    package func client(for url: URL) -> HTTPClient {
        client(proxy: proxies.proxy(for: url))
    }

    /// The client that connects through `proxy` (directly when `nil`) with `dnsOverride`.
    package func client(proxy: HTTPProxy?, dnsOverride: [String: String] = [:]) -> HTTPClient {
        let key = Key(proxy: proxy, dnsOverride: dnsOverride)
        return clients.withLock { clients in
            if let client = clients[key] { return client }
            var configuration = configuration
            configuration.proxy = proxy.map { HTTPClient.Configuration.Proxy($0) }
            configuration.dnsOverride = dnsOverride
            let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
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
            let authorization = proxy.username.map { HTTPClient.Authorization.basic(username: $0, password: proxy.password ?? "") }
            self = .server(host: proxy.host, port: proxy.port, authorization: authorization)
        case .socks5:
            self = .socksServer(host: proxy.host, port: proxy.port)
        }
    }
}
