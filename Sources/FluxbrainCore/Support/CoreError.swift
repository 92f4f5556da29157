/// The error of the core layer: a code, a message, the underlying error, and where it was thrown.
package struct CoreError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is.
    package struct Code: Hashable, Sendable, CustomStringConvertible {
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
        package static let invalidInput = Code(.invalidInput)
        /// A configuration value that is malformed or inconsistent.
        package static let invalidConfiguration = Code(.invalidConfiguration)
        /// Something that was looked for and is not there.
        package static let notFound = Code(.notFound)
        /// A dependency that is not reachable right now.
        package static let unavailable = Code(.unavailable)
        /// A broken invariant.
        package static let internalError = Code(.internalError)

        package var description: String { base.rawValue }
    }

    package var code: Code
    package var message: String
    package var underlying: (any Error)?
    package var file: String
    package var line: Int

    package init(_ code: Code, _ message: String, underlying: (any Error)? = nil, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.underlying = underlying
        self.file = file
        self.line = line
    }

    package var description: String {
        var text = message
        if let underlying { text += " (\(underlying))" }
        return text
    }

    /// The message with code and throw site, for debugging.
    package var debugDescription: String {
        "CoreError(\(code)): \(description) [\(file):\(line)]"
    }
}
