@_exported import FluxbrainErrors

/// The one error type of `FluxbrainRedis`.
///
/// Every failure of the wrapper (configuration, connection, server reply, pool lifecycle) is a `RedisError`
/// carrying a ``RedisErrorCode`` to switch on, a human-readable message (never containing a password), an optional
/// underlying error and the place where it was thrown: the shared ``FluxbrainError`` shape.
package typealias RedisError = FluxbrainError<RedisErrorCode>

/// What went wrong in `FluxbrainRedis`, as a closed set of cases that can be compared with `==`.
package struct RedisErrorCode: FluxbrainErrorCode {
    fileprivate enum Base: String, Hashable, Sendable {
        case invalidURL
        case unsupportedScheme
        case invalidConfiguration
        case connectionRefused
        case connectFailed
        case authenticationFailed
        case timeout
        case io
        case server
        case noScript
        case `protocol`
        case misuse
        case poolClosed
        case cancelled
    }

    fileprivate let base: Base

    /// The Redis URL could not be parsed (the message names the part that is wrong).
    package static let invalidURL = RedisErrorCode(base: .invalidURL)
    /// The URL scheme is not `redis://` (for example `rediss://`, which hiredis 0.14 cannot speak).
    package static let unsupportedScheme = RedisErrorCode(base: .unsupportedScheme)
    /// A configuration value is out of range (for example a non-positive timeout or pool size).
    package static let invalidConfiguration = RedisErrorCode(base: .invalidConfiguration)
    /// Nothing listens on `host:port` (ECONNREFUSED); the message names `host:port`.
    package static let connectionRefused = RedisErrorCode(base: .connectionRefused)
    /// Connecting failed for another reason (DNS, unreachable, ...); the message names `host:port`.
    package static let connectFailed = RedisErrorCode(base: .connectFailed)
    /// `AUTH` was rejected (wrong password or user, or a password sent to a server that has none).
    package static let authenticationFailed = RedisErrorCode(base: .authenticationFailed)
    /// The connect timeout or the command (socket) timeout expired. The command may have been applied.
    package static let timeout = RedisErrorCode(base: .timeout)
    /// The connection was lost (EOF, reset, broken pipe). The command may have been applied.
    package static let io = RedisErrorCode(base: .io)
    /// Redis answered with an error reply; the message is the server's (for example `ERR unknown command`).
    package static let server = RedisErrorCode(base: .server)
    /// Redis answered `NOSCRIPT` to an `EVALSHA` sent by hand (``RedisConnection/evalSHA(_:keys:arguments:)``
    /// reloads and retries instead of throwing this).
    package static let noScript = RedisErrorCode(base: .noScript)
    /// hiredis reported a protocol or out-of-memory error, or a reply had an unexpected shape.
    package static let `protocol` = RedisErrorCode(base: .protocol)
    /// The API was used in a way it does not support (for example `send` with unread pipelined replies).
    package static let misuse = RedisErrorCode(base: .misuse)
    /// The client was shut down.
    package static let poolClosed = RedisErrorCode(base: .poolClosed)
    /// The task waiting for a connection was cancelled before it got one.
    package static let cancelled = RedisErrorCode(base: .cancelled)

    /// The code's name, used as the `kind` dimension of `fluxbrain_redis_errors_total`.
    package var description: String { base.rawValue }

    /// All codes, in declaration order.
    package static let allCases: [RedisErrorCode] = [
        .invalidURL, .unsupportedScheme, .invalidConfiguration, .connectionRefused, .connectFailed,
        .authenticationFailed, .timeout, .io, .server, .noScript, .protocol, .misuse, .poolClosed, .cancelled,
    ]

    package static var errorName: String { "RedisError" }

    /// Every way of not getting an answer from Redis points at the URL (host, port, password, database); a
    /// timeout also at the timeout.
    package var hint: String? {
        switch base {
        case .invalidURL, .unsupportedScheme, .connectionRefused, .connectFailed, .authenticationFailed, .io:
            "check FLUXBRAIN_REDIS_URL"
        case .timeout: "check FLUXBRAIN_REDIS_URL and FLUXBRAIN_REDIS_TIMEOUT"
        case .invalidConfiguration, .server, .noScript, .protocol, .misuse, .poolClosed, .cancelled: nil
        }
    }
}

extension FluxbrainError where ErrorCode == RedisErrorCode {
    /// `true` when the failure came from the transport (timeout or lost connection): the outcome of the command
    /// is unknown, and the connection will be rebuilt before its next command.
    package var isConnectionFailure: Bool { code == .timeout || code == .io }
}
