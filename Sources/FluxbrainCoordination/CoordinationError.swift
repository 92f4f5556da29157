import FluxbrainRedis

/// The error of the coordination layer: the shared ``FluxbrainError`` shape over ``CoordinationErrorCode``.
///
/// A stale leader's fenced write is not a `CoordinationError`: it throws `FluxbrainCore.FencedError`, which the
/// scheduler handles by stepping down.
package typealias CoordinationError = FluxbrainError<CoordinationErrorCode>

/// What went wrong in the coordination layer.
package struct CoordinationErrorCode: FluxbrainErrorCode {
    private enum Base: String, Hashable, Sendable {
        case redis
        case unexpectedReply
        case encoding
    }

    private let base: Base
    private init(_ base: Base) { self.base = base }

    /// Redis failed or could not be reached; `underlying` is the `RedisError`. After a timeout or a lost
    /// connection the operation may or may not have been applied (every operation is safe to repeat).
    package static let redis = CoordinationErrorCode(.redis)
    /// A script answered with a reply of an unexpected shape (a different script version, or foreign data).
    package static let unexpectedReply = CoordinationErrorCode(.unexpectedReply)
    /// A value could not be encoded for storage.
    package static let encoding = CoordinationErrorCode(.encoding)

    package var description: String { base.rawValue }

    package static var errorName: String { "CoordinationError" }
}

extension FluxbrainError where ErrorCode == CoordinationErrorCode {
    /// `true` when Redis timed out or the connection was lost: the outcome is unknown.
    package var isConnectionFailure: Bool {
        (underlying as? RedisError)?.isConnectionFailure ?? false
    }
}
