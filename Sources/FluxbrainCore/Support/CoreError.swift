@_exported import FluxbrainErrors

/// The error of the core layer: the shared ``FluxbrainError`` shape over ``CoreErrorCode``.
package typealias CoreError = FluxbrainError<CoreErrorCode>

/// What went wrong in the core layer.
package struct CoreErrorCode: FluxbrainErrorCode {
    private enum Base: String, Hashable, Sendable {
        case invalidInput
        case invalidConfiguration
        case notFound
        case unavailable
        case internalError
    }

    private let base: Base
    private init(_ base: Base) { self.base = base }

    /// A document, object or reply that could not be read.
    package static let invalidInput = CoreErrorCode(.invalidInput)
    /// A configuration value that is malformed or inconsistent.
    package static let invalidConfiguration = CoreErrorCode(.invalidConfiguration)
    /// Something that was looked for and is not there.
    package static let notFound = CoreErrorCode(.notFound)
    /// A dependency that is not reachable right now.
    package static let unavailable = CoreErrorCode(.unavailable)
    /// A broken invariant.
    package static let internalError = CoreErrorCode(.internalError)

    package var description: String { base.rawValue }

    package static var errorName: String { "CoreError" }
}
