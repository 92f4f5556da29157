/// How to reach Redis and how the client behaves.
///
/// Keys (all have defaults except the URL parts):
/// - `url` (`String`): `redis://[[user]:password@]host[:port][/db]`. Port defaults to `6379`, db to `0`. The user
///   name and password are percent-decoded. With a password and no user the client sends `AUTH password`, with
///   both `AUTH user password` (Redis ≥ 6 ACL). `rediss://` is refused: hiredis 0.14.1 has no TLS.
/// - `connectTimeout` (`Duration`, default 2 s): bound on TCP connect (`redisConnectWithTimeout`).
/// - `commandTimeout` (`Duration`, default 5 s): the socket send/receive timeout (`redisSetTimeout`), i.e. the
///   bound on each command's round trip. Blocking commands get their server-side timeout added for that call.
/// - `poolSize` (`Int`, default 4): connections shared by ``RedisClient/withConnection(_:)`` and the
///   convenience methods. Each one has its own OS thread.
/// - `maxDedicatedConnections` (`Int`, default 64): upper bound on connections leased exclusively for blocking
///   commands (``RedisClient/withDedicatedConnection(_:)``); further callers wait.
/// - `idleDedicatedConnections` (`Int`, default 2): dedicated connections kept open when idle; more are closed.
/// - `clientName` (`String?`, default `nil`): sent as `CLIENT SETNAME` after every (re)connect.
///
/// `description`, `debugDescription` and the reflection mirror never contain the password: use
/// ``redactedURL`` in logs.
package struct RedisConfiguration: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// Host name or IP address (IPv6 without brackets).
    package var host: String
    /// TCP port, 1...65535.
    package var port: Int
    /// ACL user name for `AUTH user password`; `nil` sends `AUTH password`.
    package var username: String?
    /// Password for `AUTH`; `nil` skips `AUTH`.
    package var password: String?
    /// Database index sent with `SELECT` after every (re)connect when not 0.
    package var database: Int
    /// Bound on the TCP connect.
    package var connectTimeout: Duration
    /// The bound on each command round trip (a thread connection's socket send/receive timeout, an event-loop
    /// connection's timer per request).
    package var commandTimeout: Duration
    /// Number of shared thread connections, each with its own thread: they serve `withConnection` and commands that
    /// change a connection's session (`send`, `pipeline` and `evalSHA` use event-loop connections instead).
    package var poolSize: Int
    /// Upper bound on connections leased exclusively for blocking commands.
    package var maxDedicatedConnections: Int
    /// Dedicated connections kept open while idle.
    package var idleDedicatedConnections: Int
    /// Optional `CLIENT SETNAME` value.
    package var clientName: String?

    /// Default connect timeout: 2 s.
    package static let defaultConnectTimeout: Duration = .seconds(2)
    /// Default command timeout: 5 s.
    package static let defaultCommandTimeout: Duration = .seconds(5)

    /// Creates a configuration from explicit parts.
    package init(
        host: String,
        port: Int = 6379,
        username: String? = nil,
        password: String? = nil,
        database: Int = 0,
        connectTimeout: Duration = RedisConfiguration.defaultConnectTimeout,
        commandTimeout: Duration = RedisConfiguration.defaultCommandTimeout,
        poolSize: Int = 4,
        maxDedicatedConnections: Int = 64,
        idleDedicatedConnections: Int = 2,
        clientName: String? = nil
    ) throws(RedisError) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.poolSize = poolSize
        self.maxDedicatedConnections = maxDedicatedConnections
        self.idleDedicatedConnections = idleDedicatedConnections
        self.clientName = clientName
        try validate()
    }

    /// Parses `redis://[[user]:password@]host[:port][/db]`; errors name the part that is wrong, never the password.
    package init(
        url: String,
        connectTimeout: Duration = RedisConfiguration.defaultConnectTimeout,
        commandTimeout: Duration = RedisConfiguration.defaultCommandTimeout,
        poolSize: Int = 4,
        maxDedicatedConnections: Int = 64,
        idleDedicatedConnections: Int = 2,
        clientName: String? = nil
    ) throws(RedisError) {
        let parsed = try RedisURLParser.parse(url)
        try self.init(
            host: parsed.host,
            port: parsed.port,
            username: parsed.username,
            password: parsed.password,
            database: parsed.database,
            connectTimeout: connectTimeout,
            commandTimeout: commandTimeout,
            poolSize: poolSize,
            maxDedicatedConnections: maxDedicatedConnections,
            idleDedicatedConnections: idleDedicatedConnections,
            clientName: clientName
        )
    }

    /// Checks the ranges of every value.
    package func validate() throws(RedisError) {
        func fail(_ message: String) -> RedisError { RedisError(.invalidConfiguration, message) }
        if host.isEmpty { throw fail("Redis host is empty") }
        if !(1...65535).contains(port) { throw fail("Redis port \(port) is not in 1...65535") }
        if database < 0 || database > Int(Int32.max) { throw fail("Redis database \(database) is negative") }
        if connectTimeout <= .zero { throw fail("Redis connectTimeout must be positive, got \(connectTimeout)") }
        if commandTimeout <= .zero { throw fail("Redis commandTimeout must be positive, got \(commandTimeout)") }
        if poolSize < 1 { throw fail("Redis poolSize must be at least 1, got \(poolSize)") }
        if maxDedicatedConnections < 1 {
            throw fail("Redis maxDedicatedConnections must be at least 1, got \(maxDedicatedConnections)")
        }
        if idleDedicatedConnections < 0 {
            throw fail("Redis idleDedicatedConnections must not be negative, got \(idleDedicatedConnections)")
        }
        if username != nil && password == nil { throw fail("Redis user name given without a password") }
    }

    /// `host:port`, as used in error messages (IPv6 in brackets).
    package var endpoint: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// The URL with the password replaced by `***`: `redis://user:***@host:port/db`.
    package var redactedURL: String {
        var text = "redis://"
        if password != nil {
            text += "\(username.map(RedisURLParser.percentEncode) ?? ""):***@"
        }
        return text + "\(endpoint)/\(database)"
    }

    /// ``redactedURL`` plus the timeouts and pool size; never the password.
    package var description: String {
        "RedisConfiguration(\(redactedURL), connectTimeout: \(connectTimeout), commandTimeout: \(commandTimeout), "
            + "poolSize: \(poolSize), maxDedicatedConnections: \(maxDedicatedConnections))"
    }

    /// Same as ``description``.
    package var debugDescription: String { description }

    /// A mirror without the password, so `dump(configuration)` is safe too.
    package var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "url": redactedURL, "connectTimeout": connectTimeout, "commandTimeout": commandTimeout,
                "poolSize": poolSize, "maxDedicatedConnections": maxDedicatedConnections,
                "idleDedicatedConnections": idleDedicatedConnections, "clientName": clientName as Any,
            ]
        )
    }
}

/// Parser for `redis://` URLs, kept apart so it can be tested as a pure function.
enum RedisURLParser {
    struct Parts: Equatable {
        var username: String?
        var password: String?
        var host: String
        var port: Int
        var database: Int
    }

    static func parse(_ url: String) throws(RedisError) -> Parts {
        func invalid(_ reason: String) -> RedisError {
            RedisError(.invalidURL, "invalid Redis URL: \(reason); expected redis://[[user]:password@]host[:port][/db]")
        }
        guard let schemeEnd = url.range(of: "://") else {
            throw invalid("missing scheme (no '://')")
        }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        switch scheme {
        case "redis":
            break
        case "rediss":
            throw RedisError(
                .unsupportedScheme,
                "rediss:// (Redis over TLS) is not supported: hiredis 0.14.1 has no TLS; use redis:// "
                    + "on a trusted network or a TLS-terminating sidecar"
            )
        case "unix", "redis+unix", "redis-socket":
            throw RedisError(
                .unsupportedScheme,
                "Unix socket Redis URLs (\(scheme)://) are not supported; use redis://"
            )
        default:
            throw RedisError(
                .unsupportedScheme,
                "unsupported Redis URL scheme '\(scheme.prefix(20))://'; expected redis://"
            )
        }
        var rest = url[schemeEnd.upperBound...]
        if let index = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) {
            throw invalid(rest[index] == "?" ? "query parameters are not supported" : "fragments are not supported")
        }
        // Authority ends at the first '/' after the last '@' (a password may contain '/' only percent-encoded).
        var userInfo: Substring?
        if let at = rest.lastIndex(of: "@") {
            userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
        }
        let authority: Substring
        let path: Substring
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            path = rest[rest.index(after: slash)...]
        } else {
            authority = rest
            path = ""
        }

        var parts = Parts(username: nil, password: nil, host: "", port: 6379, database: 0)

        if let userInfo {
            if let colon = userInfo.firstIndex(of: ":") {
                let user = userInfo[..<colon]
                let password = userInfo[userInfo.index(after: colon)...]
                if !user.isEmpty {
                    guard let decoded = percentDecode(user) else {
                        throw invalid("the user name contains an invalid percent escape")
                    }
                    parts.username = decoded
                }
                guard let decoded = percentDecode(password) else {
                    throw invalid("the password contains an invalid percent escape")
                }
                if decoded.isEmpty {
                    throw invalid("the password is empty")
                }
                parts.password = decoded
            } else {
                throw invalid("user info has no ':' (write redis://:password@host or redis://user:password@host)")
            }
        }

        var hostPart = authority
        var portPart: Substring?
        if hostPart.hasPrefix("[") {
            guard let close = hostPart.firstIndex(of: "]") else { throw invalid("unterminated IPv6 address '['") }
            let afterClose = hostPart.index(after: close)
            let remainder = hostPart[afterClose...]
            hostPart = hostPart[hostPart.index(after: hostPart.startIndex)..<close]
            if !remainder.isEmpty {
                guard remainder.hasPrefix(":") else { throw invalid("unexpected text after IPv6 address") }
                portPart = remainder.dropFirst()
            }
        } else if let colon = hostPart.lastIndex(of: ":") {
            portPart = hostPart[hostPart.index(after: colon)...]
            hostPart = hostPart[..<colon]
        }
        if hostPart.isEmpty { throw invalid("missing host") }
        parts.host = String(hostPart)
        if let portPart {
            guard let port = Int(portPart), (1...65535).contains(port), portPart.allSatisfy(\.isASCII) else {
                throw invalid("port '\(portPart.prefix(20))' is not a number in 1...65535")
            }
            parts.port = port
        }
        if !path.isEmpty {
            guard path.allSatisfy({ $0.isASCII && $0.isNumber }), let db = Int(path), db <= Int(Int32.max) else {
                throw invalid("database '\(path.prefix(20))' is not a non-negative integer")
            }
            parts.database = db
        }
        return parts
    }

    /// Decodes `%XX` escapes as UTF-8; returns `nil` for a malformed escape or invalid UTF-8.
    static func percentDecode(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    return nil
                }
                bytes.append(high << 4 | low)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// Percent-encodes everything but unreserved characters (for the user name in
    /// ``RedisConfiguration/redactedURL``).
    static func percentEncode(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                result += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return result
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
