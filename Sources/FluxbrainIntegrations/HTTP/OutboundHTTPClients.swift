import AsyncHTTPClient
import Foundation
import Synchronization

/// The HTTP clients of outbound calls to Errorbrain, Slack, webhooks and GitHub: one direct client, plus one per
/// proxy the environment names (async-http-client sets proxies per client, not per request). Each caller gets the
/// client for its URL once (``client(for:)``); the owner calls ``shutdown()`` once, at the end.
package final class OutboundHTTPClients: Sendable {
    private let proxies: ProxyEnvironment
    private let direct: HTTPClient
    private let proxied: Mutex<[HTTPProxy: HTTPClient]> = Mutex([:])

    package init(proxies: ProxyEnvironment) {
        self.proxies = proxies
        direct = HTTPClient(eventLoopGroupProvider: .singleton)
    }

    /// The client for requests to `url`: through the proxy the environment names for it, else direct.
    package func client(for url: URL) -> HTTPClient {
        guard let proxy = proxies.proxy(for: url) else { return direct }
        return proxied.withLock { clients in
            if let client = clients[proxy] { return client }
            var configuration = HTTPClient.Configuration()
            configuration.proxy = .init(proxy)
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            clients[proxy] = client
            return client
        }
    }

    /// Shuts every client down.
    package func shutdown() async {
        let clients = proxied.withLock { clients in
            defer { clients.removeAll() }
            return Array(clients.values)
        }
        for client in clients + [direct] {
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
