import FluxbrainRedis

/// The error of the coordination layer: a code, a message, the underlying error and where it was thrown.
///
/// A stale leader's fenced write is not a `CoordinationError`: it throws `FluxbrainCore.FencedError`, which the
/// scheduler handles by stepping down.
package struct CoordinationError: Error, CustomStringConvertible, Sendable {
    /// What went wrong.
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case redis
            case unexpectedReply
            case encoding
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// Redis failed or could not be reached; `underlying` is the `RedisError`. After a timeout or a lost
        /// connection the operation may or may not have been applied (every operation is safe to repeat).
        package static let redis = Code(.redis)
        /// A script answered with a reply of an unexpected shape (a different script version, or foreign data).
        package static let unexpectedReply = Code(.unexpectedReply)
        /// A value could not be encoded for storage.
        package static let encoding = Code(.encoding)

        package var description: String { base.rawValue }
    }

    /// What went wrong.
    package var code: Code
    /// What was being done, and what failed.
    package var message: String
    /// The error this one wraps (a `RedisError` for ``Code/redis``).
    package var underlying: (any Error)?
    /// Where the error was created.
    package var file: String
    /// Where the error was created.
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

    /// `true` when Redis timed out or the connection was lost: the outcome is unknown.
    package var isConnectionFailure: Bool {
        (underlying as? RedisError)?.isConnectionFailure ?? false
    }

    /// `CoordinationError(code: …, message: "…", underlying: …, at: File.swift:12)`.
    package var description: String {
        var text = "CoordinationError(code: \(code), message: \"\(message)\""
        if let underlying { text += ", underlying: \(underlying)" }
        return text + ", at: \(file):\(line))"
    }
}
