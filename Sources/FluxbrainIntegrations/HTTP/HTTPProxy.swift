import Foundation

/// An HTTP proxy: an HTTP proxy (requests tunnel through `CONNECT`, with basic authentication when the URL carries
/// a user) or a SOCKS5 proxy without authentication. From a kubeconfig `proxy-url` or the `HTTPS_PROXY` family of
/// variables (``ProxyEnvironment``). Its password never appears in `description`.
package struct HTTPProxy: Sendable, Hashable, CustomStringConvertible {
    package enum Kind: String, Sendable, Hashable {
        case http
        case socks5
    }

    /// Why a proxy URL cannot be used; `message` names where it came from, never the password.
    package struct Invalid: Error, Sendable, CustomStringConvertible {
        package var unsupported: Bool
        package var message: String
        package var description: String { message }
    }

    package var kind: Kind
    package var host: String
    package var port: Int
    package var username: String?
    package var password: String?

    package init(kind: Kind, host: String, port: Int, username: String? = nil, password: String? = nil) {
        self.kind = kind
        self.host = host
        self.port = port
        self.username = username
        self.password = password
    }

    /// Parses a proxy URL (`http://[user:password@]host[:port]`, `socks5://host[:port]`; without a scheme, `http://`
    /// as Go programs assume). `origin` says where it came from in messages (`kubeconfig cluster "prod": proxy-url`,
    /// `HTTPS_PROXY`).
    ///
    /// - Throws: ``Invalid`` for a URL that is not one, and (`unsupported`) for `https://` proxies and SOCKS5 with
    ///   credentials, which async-http-client cannot speak.
    package init(url text: String, origin: String) throws(Invalid) {
        let withScheme = text.contains("://") ? text : "http://" + text
        guard let components = URLComponents(string: withScheme), let scheme = components.scheme?.lowercased(),
            let host = components.host, !host.isEmpty
        else {
            throw Invalid(unsupported: false, message: "\(origin) is not a URL with a scheme and a host")
        }
        let shown = "\(scheme)://\(host)\(components.port.map { ":\($0)" } ?? "")"
        switch scheme {
        case "http":
            kind = .http
            port = components.port ?? 80
        case "socks5", "socks5h":
            kind = .socks5
            port = components.port ?? 1080
            if components.user != nil {
                throw Invalid(
                    unsupported: true,
                    message: "\(origin) \(shown) has credentials; SOCKS5 authentication is not supported"
                )
            }
        case "https":
            throw Invalid(
                unsupported: true,
                message:
                    "\(origin) \(shown): proxies reached over TLS are not supported; use an http:// or socks5:// proxy"
            )
        default:
            throw Invalid(
                unsupported: false,
                message: "\(origin) \(shown) has scheme \(scheme); expected http or socks5"
            )
        }
        self.host = host
        username = components.user?.removingPercentEncoding ?? components.user
        password = components.password?.removingPercentEncoding ?? components.password
    }

    package var description: String {
        "\(kind.rawValue)://\(username.map { "\($0):***@" } ?? "")\(host):\(port)"
    }
}
