import Foundation

/// The proxy variables Go programs honour (kubectl, Flux, client-go's `ProxyFromEnvironment`), read the same way:
///
/// - `HTTPS_PROXY` (else `https_proxy`) for `https` targets, `HTTP_PROXY` (else `http_proxy`) for `http` ones; a
///   value without a scheme means `http://`;
/// - `NO_PROXY` (else `no_proxy`): comma-separated; `*` turns proxying off; an IP address or a CIDR range; a host
///   name matches itself and its subdomains (`example.com`, `*.example.com`), one with a leading dot only the
///   subdomains (`.example.com`); an entry may end with `:port` to match that port only;
/// - `localhost` and loopback addresses are never proxied.
package struct ProxyEnvironment: Sendable {
    package var https: HTTPProxy?
    package var http: HTTPProxy?
    /// The `NO_PROXY` entries, lower-cased.
    package var noProxy: [String]

    /// No proxy at all.
    package static let none = ProxyEnvironment(https: nil, http: nil, noProxy: [])

    package init(https: HTTPProxy?, http: HTTPProxy?, noProxy: [String]) {
        self.https = https
        self.http = http
        self.noProxy = noProxy
    }

    /// A proxy variable that cannot be used; `variable` names it.
    package struct Invalid: Error, Sendable, CustomStringConvertible {
        package var variable: String
        package var message: String
        package var description: String { "\(variable): \(message)" }
    }

    /// Reads the variables from `environment`.
    ///
    /// - Throws: ``Invalid`` naming the variable when a proxy URL cannot be used (never showing its password).
    package init(environment: [String: String]) throws(Invalid) {
        /// The first of `names` set to a non-empty value.
        func value(_ names: String...) -> (name: String, value: String)? {
            for name in names {
                if let value = environment[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty {
                    return (name, value)
                }
            }
            return nil
        }
        func proxy(_ found: (name: String, value: String)?) throws(Invalid) -> HTTPProxy? {
            guard let found else { return nil }
            do {
                return try HTTPProxy(url: found.value, origin: "proxy")
            } catch {
                throw Invalid(variable: found.name, message: error.message)
            }
        }
        https = try proxy(value("HTTPS_PROXY", "https_proxy"))
        http = try proxy(value("HTTP_PROXY", "http_proxy"))
        noProxy = (value("NO_PROXY", "no_proxy")?.value ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
    }

    /// The proxy for requests to `url`, or `nil` to connect directly.
    package func proxy(for url: URL) -> HTTPProxy? {
        guard let scheme = url.scheme?.lowercased(), var host = url.host?.lowercased(), !host.isEmpty else {
            return nil
        }
        let candidate: HTTPProxy?
        switch scheme {
        case "https": candidate = https
        case "http": candidate = http
        default: candidate = nil
        }
        guard let candidate else { return nil }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let port = url.port ?? (scheme == "https" ? 443 : 80)
        if host == "localhost" || IPAddress(host)?.isLoopback == true { return nil }
        return bypasses(host: host, port: port) ? nil : candidate
    }

    /// Whether a `NO_PROXY` entry matches `host:port`.
    func bypasses(host: String, port: Int) -> Bool {
        let address = IPAddress(host)
        for entry in noProxy {
            if entry == "*" { return true }
            if entry.contains("/") {
                if let address, let range = CIDRRange(entry), range.contains(address) { return true }
                continue
            }
            var name = entry
            var entryPort: Int?
            // `host:port`, `[v6]:port` or a bare IPv6 address.
            if name.hasPrefix("[") {
                guard let close = name.firstIndex(of: "]") else { continue }
                let rest = name[name.index(after: close)...]
                if rest.hasPrefix(":") { entryPort = Int(rest.dropFirst()) }
                name = String(name[name.index(after: name.startIndex)..<close])
            } else if name.filter({ $0 == ":" }).count == 1, let colon = name.lastIndex(of: ":") {
                entryPort = Int(name[name.index(after: colon)...])
                name = String(name[..<colon])
            }
            if let entryPort, entryPort != port { continue }
            if let entryAddress = IPAddress(name) {
                if entryAddress == address { return true }
                continue
            }
            if name.hasPrefix("*.") { name.removeFirst() }
            if name.hasPrefix(".") {
                if host.hasSuffix(name) { return true }
            } else if host == name || host.hasSuffix("." + name) {
                return true
            }
        }
        return false
    }
}

/// An IPv4 or IPv6 address as bytes.
struct IPAddress: Hashable {
    var bytes: [UInt8]

    init?(_ text: String) {
        var v4 = in_addr()
        var v6 = in6_addr()
        if text.withCString({ inet_pton(AF_INET, $0, &v4) }) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
        } else if text.withCString({ inet_pton(AF_INET6, $0, &v6) }) == 1 {
            bytes = withUnsafeBytes(of: &v6) { Array($0) }
        } else {
            return nil
        }
    }

    var isLoopback: Bool {
        if bytes.count == 4 { return bytes[0] == 127 }
        return bytes == Array(repeating: 0, count: 15) + [1]
    }
}

/// A `NO_PROXY` CIDR range (`10.0.0.0/8`, `fd00::/8`).
struct CIDRRange {
    var network: IPAddress
    var prefix: Int

    init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1)
        guard parts.count == 2, let network = IPAddress(String(parts[0])), let prefix = Int(parts[1]),
            prefix >= 0, prefix <= network.bytes.count * 8
        else { return nil }
        self.network = network
        self.prefix = prefix
    }

    func contains(_ address: IPAddress) -> Bool {
        guard address.bytes.count == network.bytes.count else { return false }
        var remaining = prefix
        for index in 0..<network.bytes.count where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if address.bytes[index] & mask != network.bytes[index] & mask { return false }
            remaining -= bits
        }
        return true
    }
}
