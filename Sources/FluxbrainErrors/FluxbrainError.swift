/// The one error shape of Fluxbrain: a per-layer ``FluxbrainErrorCode``, a message, the HTTP status when a server
/// answered, the layer's extra ``FluxbrainErrorCode/Detail``, which setting to look at, the underlying error, and
/// where it was thrown (valkey-swift's `ValkeyClientError`, written once for every layer).
///
/// Each layer names its instance: `typealias RedisError = FluxbrainError<RedisErrorCode>`, with the codes as static
/// members of the code type, so `throw RedisError(.timeout, "…")` and `catch let error as RedisError` read as before.
///
/// Two renderings:
/// - `description`, the line a person reads (command-line errors, log lines): what failed and why, taken from the
///   innermost Fluxbrain error of the chain (the layers above it only say where it surfaced), then the setting to
///   look at: `cannot reach Redis at 127.0.0.1:6399 (connection refused); check FLUXBRAIN_REDIS_URL`;
/// - `debugDescription`, everything: `CoordinationError(code: redis, message: "…", underlying: RedisError(code: …,
///   message: "…", at: FluxbrainRedis/RedisConnection.swift:374), at: FluxbrainCoordination/…:100)`.
package struct FluxbrainError<ErrorCode: FluxbrainErrorCode>: ChainedError, Sendable {
    /// The layer's code type (`RedisError.Code` is `RedisErrorCode`).
    package typealias Code = ErrorCode

    /// What went wrong, to switch on.
    package var code: Code
    /// What failed and why, in words an operator understands; never a secret.
    package var message: String
    /// The HTTP status, when a server answered.
    package var httpStatus: Int?
    /// What this layer's errors carry besides (``NoErrorDetail`` for most).
    package var detail: Code.Detail
    /// Which setting to look at (`check FLUXBRAIN_REDIS_URL`); the code's ``FluxbrainErrorCode/hint`` unless the
    /// thrower knows better.
    package var hint: String?
    /// The error this one wraps, if any.
    package var underlying: (any Error)?
    /// The file where the error was created.
    package var file: String
    /// The line where the error was created.
    package var line: UInt

    /// Creates an error with this layer's detail; `hint` defaults to the code's, `file` and `line` to the caller's
    /// position.
    package init(
        _ code: Code,
        _ message: String,
        httpStatus: Int? = nil,
        detail: Code.Detail,
        hint: String? = nil,
        underlying: (any Error)? = nil,
        file: String = #fileID,
        line: UInt = #line
    ) {
        self.code = code
        self.message = message
        self.httpStatus = httpStatus
        self.detail = detail
        self.hint = hint ?? code.hint
        self.underlying = underlying
        self.file = file
        self.line = line
    }

    /// The line a person reads: see the type's documentation.
    package var description: String {
        var innermost: any ChainedError = self
        while let next = innermost.underlying as? any ChainedError { innermost = next }
        return innermost.summary
    }

    /// What this error alone says: `[subject: ]message[ (HTTP n)][ (detail)][ (foreign underlying)][; hint]`.
    package var summary: String {
        var text = Code.subject.map { "\($0): " } ?? ""
        text += message
        if let httpStatus, !message.contains(String(httpStatus)) { text += " (HTTP \(httpStatus))" }
        if let detail = detail.summary { text += " (\(detail))" }
        if let underlying, !(underlying is any ChainedError) {
            let foreign = String(describing: underlying)
            if !message.contains(foreign) { text += " (\(foreign))" }
        }
        if let hint { text += "; \(hint)" }
        return text
    }

    /// Everything: the code, message, status, detail, the whole underlying chain and every throw site.
    package var debugDescription: String {
        var text = "\(Code.errorName)(code: \(code), message: \"\(message)\""
        if let httpStatus { text += ", httpStatus: \(httpStatus)" }
        if let detail = detail.summary { text += ", detail: \(detail)" }
        if let chained = underlying as? any ChainedError {
            text += ", underlying: \(chained.debugDescription)"
        } else if let underlying {
            text += ", underlying: \(String(reflecting: underlying))"
        }
        return text + ", at: \(file):\(line))"
    }
}

extension FluxbrainError where ErrorCode.Detail == NoErrorDetail {
    /// Creates an error of a layer without extra detail; `hint` defaults to the code's, `file` and `line` to the
    /// caller's position.
    package init(
        _ code: Code,
        _ message: String,
        httpStatus: Int? = nil,
        hint: String? = nil,
        underlying: (any Error)? = nil,
        file: String = #fileID,
        line: UInt = #line
    ) {
        self.init(
            code,
            message,
            httpStatus: httpStatus,
            detail: NoErrorDetail(),
            hint: hint,
            underlying: underlying,
            file: file,
            line: line
        )
    }
}

/// A layer's error code: a `Hashable` struct over a private enum, its cases as static members, its `description`
/// the case name (valkey's `ValkeyClientError.ErrorCode`).
package protocol FluxbrainErrorCode: Hashable, Sendable, CustomStringConvertible {
    /// What this layer's errors carry besides the common fields (``NoErrorDetail`` when nothing).
    associatedtype Detail: FluxbrainErrorDetail = NoErrorDetail
    /// The error's name in `debugDescription`: `RedisError`.
    static var errorName: String { get }
    /// Put before every message of the layer in `description` (`Errorbrain` → `Errorbrain: …`); `nil` by default.
    static var subject: String? { get }
    /// Which setting to look at for an error with this code (`check FLUXBRAIN_REDIS_URL`); `nil` by default.
    var hint: String? { get }
}

extension FluxbrainErrorCode {
    package static var subject: String? { nil }
    package var hint: String? { nil }
}

/// The fields one layer's errors carry besides the common ones.
package protocol FluxbrainErrorDetail: Sendable {
    /// Printed after the message in parentheses (`retry after 2m`), or `nil`.
    var summary: String? { get }
}

/// No extra fields.
package struct NoErrorDetail: FluxbrainErrorDetail, Hashable {
    package init() {}
    package var summary: String? { nil }
}

/// Any ``FluxbrainError``, whatever its code: what `description` needs to walk a chain of them.
package protocol ChainedError: Error, CustomStringConvertible, CustomDebugStringConvertible {
    /// The error this one wraps, if any.
    var underlying: (any Error)? { get }
    /// What this error alone says, with its hint.
    var summary: String { get }
}

/// An error as a log metadata value: its `description` (the readable line) at the usual levels; a log handler that
/// logs at debug level prints its `debugDescription` (the whole chain with throw sites) instead.
package struct ErrorMetadataValue: CustomStringConvertible, CustomDebugStringConvertible, Sendable {
    private let text: String
    private let debugText: String

    /// Captures `error`'s two renderings.
    package init(_ error: any Error) {
        text = String(describing: error)
        debugText = String(reflecting: error)
    }

    package var description: String { text }
    package var debugDescription: String { debugText }
}
