/// The one error type of `FluxbrainRedis`.
///
/// Every failure of the wrapper (configuration, connection, server reply, pool lifecycle) is a `RedisError`
/// carrying a ``Code`` to switch on, a human-readable message (never containing a password), an optional
/// underlying error and the place where it was thrown. Its `description` prints all of that.
package struct RedisError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, as a closed set of cases that can be compared with `==`.
    package struct Code: Hashable, Sendable, CustomStringConvertible {
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
        package static let invalidURL = Code(base: .invalidURL)
        /// The URL scheme is not `redis://` (for example `rediss://`, which hiredis 0.14 cannot speak).
        package static let unsupportedScheme = Code(base: .unsupportedScheme)
        /// A configuration value is out of range (for example a non-positive timeout or pool size).
        package static let invalidConfiguration = Code(base: .invalidConfiguration)
        /// Nothing listens on `host:port` (ECONNREFUSED); the message names `host:port`.
        package static let connectionRefused = Code(base: .connectionRefused)
        /// Connecting failed for another reason (DNS, unreachable, ...); the message names `host:port`.
        package static let connectFailed = Code(base: .connectFailed)
        /// `AUTH` was rejected (wrong password or user, or a password sent to a server that has none).
        package static let authenticationFailed = Code(base: .authenticationFailed)
        /// The connect timeout or the command (socket) timeout expired. The command may have been applied.
        package static let timeout = Code(base: .timeout)
        /// The connection was lost (EOF, reset, broken pipe). The command may have been applied.
        package static let io = Code(base: .io)
        /// Redis answered with an error reply; the message is the server's (for example `ERR unknown command`).
        package static let server = Code(base: .server)
        /// Redis answered `NOSCRIPT` to an `EVALSHA` sent by hand (``RedisConnection/evalSHA(_:keys:arguments:)``
        /// reloads and retries instead of throwing this).
        package static let noScript = Code(base: .noScript)
        /// hiredis reported a protocol or out-of-memory error, or a reply had an unexpected shape.
        package static let `protocol` = Code(base: .protocol)
        /// The API was used in a way it does not support (for example `send` with unread pipelined replies).
        package static let misuse = Code(base: .misuse)
        /// The client was shut down.
        package static let poolClosed = Code(base: .poolClosed)
        /// The task waiting for a connection was cancelled before it got one.
        package static let cancelled = Code(base: .cancelled)

        /// The code's name, used as the `kind` dimension of `fluxbrain_redis_errors_total`.
        package var description: String { base.rawValue }

        /// All codes, in declaration order.
        package static let allCases: [Code] = [
            .invalidURL, .unsupportedScheme, .invalidConfiguration, .connectionRefused, .connectFailed,
            .authenticationFailed, .timeout, .io, .server, .noScript, .protocol, .misuse, .poolClosed, .cancelled,
        ]
    }

    /// What went wrong.
    package var code: Code
    /// A human-readable explanation; for ``Code/server`` and ``Code/noScript`` it is the server's own message.
    package var message: String
    /// The error this one wraps, if any.
    package var underlying: (any Error)?
    /// The file where the error was created.
    package var file: String
    /// The line where the error was created.
    package var line: UInt

    /// Creates an error; `file` and `line` default to the caller's position.
    package init(
        _ code: Code,
        _ message: String,
        underlying: (any Error)? = nil,
        file: String = #fileID,
        line: UInt = #line
    ) {
        self.code = code
        self.message = message
        self.underlying = underlying
        self.file = file
        self.line = line
    }

    /// `true` when the failure came from the transport (timeout or lost connection): the outcome of the command
    /// is unknown, and the connection will be rebuilt before its next command.
    package var isConnectionFailure: Bool { code == .timeout || code == .io }

    /// `RedisError(code: …, message: "…", underlying: …, at: File.swift:12)`.
    package var description: String {
        var text = "RedisError(code: \(code), message: \"\(message)\""
        if let underlying {
            text += ", underlying: \(String(describing: underlying))"
        }
        text += ", at: \(file):\(line))"
        return text
    }
}
