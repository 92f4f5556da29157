/// The error of Errorbrain's client: a code, a message, the underlying error, and where it was thrown.
///
/// Messages never contain a response body: Errorbrain echoes the request (and so any evidence) in its 422 bodies.
package struct ErrorbrainError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is.
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case connectionFailed
            case timeout
            case serverError
            case rejected
            case invalidVerdict
            case invalidRequest
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// Errorbrain could not be reached (after the retries within one attempt).
        package static let connectionFailed = Code(.connectionFailed)
        /// No answer within `FLUXBRAIN_ERRORBRAIN_TIMEOUT`.
        package static let timeout = Code(.timeout)
        /// Errorbrain answered 5xx (after the retries within one attempt).
        package static let serverError = Code(.serverError)
        /// Errorbrain refused the event (4xx, including 422 validation errors); not retried.
        package static let rejected = Code(.rejected)
        /// The answer is not a usable verdict (not JSON, missing fields, confidence outside 0…1, unknown enum value).
        package static let invalidVerdict = Code(.invalidVerdict)
        /// The event could not be built or encoded.
        package static let invalidRequest = Code(.invalidRequest)

        package var description: String { base.rawValue }
    }

    package var code: Code
    package var message: String
    /// The HTTP status, when Errorbrain answered.
    package var status: Int?
    /// For a 422: the `detail[].loc` paths Errorbrain complained about, e.g. `body.source.namespace`.
    package var locations: [String]
    package var underlying: (any Error)?
    package var file: String
    package var line: Int

    package init(
        _ code: Code, _ message: String, status: Int? = nil, locations: [String] = [], underlying: (any Error)? = nil,
        file: String = #fileID, line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.status = status
        self.locations = locations
        self.underlying = underlying
        self.file = file
        self.line = line
    }

    package var description: String {
        var text = "Errorbrain: \(message)"
        if let underlying { text += " (\(underlying))" }
        return text
    }

    /// The message with code and throw site, for debugging.
    package var debugDescription: String {
        "ErrorbrainError(\(code)): \(description) [\(file):\(line)]"
    }
}
