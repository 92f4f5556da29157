import FluxbrainCore
import FluxbrainIntegrations
import FluxbrainTestSupport
import Foundation
import Logging
import Testing

/// `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` read the way Go programs (kubectl, Flux) read them.
@Suite struct ProxyEnvironmentTests {
    static let environment = [
        "HTTPS_PROXY": "http://ops:s3cret@proxy.corp:3128",
        "NO_PROXY": "example.com, .corp.internal,10.0.0.0/8,192.168.1.5,*.svc,api.github.com:8443,[fd00::1],FD01::/16",
    ]

    @Test(arguments: [
        ("https://example.com/x", false), ("https://sub.example.com", false), ("https://notexample.com", true),
        ("https://corp.internal", true), ("https://a.corp.internal", false), ("https://10.1.2.3:6443", false),
        ("https://11.0.0.1", true), ("https://192.168.1.5", false), ("https://192.168.1.6", true),
        ("https://kubernetes.default.svc", false), ("https://api.github.com/repos", true),
        ("https://api.github.com:8443", false), ("https://[fd00::1]:6443", false), ("https://[fd01::5]", false),
        ("https://[fd02::5]", true), ("https://localhost:6443", false), ("https://127.0.0.2", false),
        ("https://[::1]:443", false), ("https://EXAMPLE.com", false), ("http://hooks.example.org", false),
    ])
    func decidesPerTarget(url: String, proxied: Bool) throws {
        let proxies = try ProxyEnvironment(environment: Self.environment)
        let proxy = proxies.proxy(for: URL(string: url)!)
        #expect((proxy != nil) == proxied, "\(url)")
        if proxied { #expect(proxy?.description == "http://ops:***@proxy.corp:3128") }
    }

    @Test func lowerCaseFormsAndStarAndSchemeLessValues() throws {
        let lower = try ProxyEnvironment(environment: [
            "https_proxy": "proxy.corp:8080", "http_proxy": "socks5://gw:1080",
        ])
        #expect(
            lower.proxy(for: URL(string: "https://hooks.slack.com/services/x")!)?.description
                == "http://proxy.corp:8080"
        )
        #expect(lower.proxy(for: URL(string: "http://errorbrain.internal:8000")!)?.description == "socks5://gw:1080")
        let both = try ProxyEnvironment(environment: ["HTTPS_PROXY": "http://upper:1", "https_proxy": "http://lower:2"])
        #expect(both.https?.host == "upper")
        let star = try ProxyEnvironment(environment: ["HTTPS_PROXY": "http://p:1", "no_proxy": "*"])
        #expect(star.proxy(for: URL(string: "https://anything.example")!) == nil)
        #expect(try ProxyEnvironment(environment: [:]).proxy(for: URL(string: "https://example.com")!) == nil)
    }

    @Test func anUnusableProxyNamesItsVariableWithoutThePassword() {
        #expect {
            _ = try ProxyEnvironment(environment: ["HTTP_PROXY": "https://ops:hunter2@proxy.corp:443"])
        } throws: { error in
            guard let error = error as? ProxyEnvironment.Invalid else { return false }
            return error.variable == "HTTP_PROXY" && error.message.contains("over TLS")
                && !"\(error)".contains("hunter2")
        }
    }

    @Test func outboundRequestsGoThroughTheProxyTheEnvironmentNames() async throws {
        try await FakeErrorbrain.with { errorbrain in
            // The proxy sends every tunnel to 127.0.0.1: a name that does not resolve proves the request went through it.
            try await ConnectProxy.with(connectTo: "127.0.0.1") { proxy in
                let proxies = try ProxyEnvironment(environment: ["HTTP_PROXY": "http://127.0.0.1:\(proxy.port)"])
                let clients = HTTPClients(proxies: proxies)
                let url = URL(string: "http://errorbrain.fluxbrain.test:\(errorbrain.baseURL.port!)")!
                let client = ErrorbrainClient(
                    configuration: ErrorbrainClientConfiguration(baseURL: url, timeout: .seconds(10)),
                    httpClient: clients.client(for: url),
                    logger: Logger(label: "test")
                )
                let healthy = await client.healthy()
                await clients.shutdown()
                #expect(healthy)
                #expect(try proxy.requests().map(\.target) == ["errorbrain.fluxbrain.test:\(errorbrain.baseURL.port!)"])
            }
        }
    }
}
