/// The error of the notification layer: a code, a message, the HTTP status if any, the underlying error, and
/// where it was thrown.
///
/// Notifiers in every channel throw it, so the dispatcher and `fluxbrain notify-test` can report the HTTP status
/// and retry hints the same way for all of them. Messages never contain webhook URLs or tokens.
package struct NotificationError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is.
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case rejected
            case rateLimited
            case serverError
            case transport
            case invalidResponse
            case invalidConfiguration
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The receiver refused the request (4xx other than rate limits): retrying the same request will not help.
        package static let rejected = Code(.rejected)
        /// 429, or GitHub's 403 with an exhausted rate limit, longer than the notifier waits for.
        package static let rateLimited = Code(.rateLimited)
        /// 5xx after the notifier's own retries.
        package static let serverError = Code(.serverError)
        /// Connection failure or timeout: the request may or may not have been received.
        package static let transport = Code(.transport)
        /// A response Fluxbrain could not read.
        package static let invalidResponse = Code(.invalidResponse)
        /// A notifier configured with unusable values.
        package static let invalidConfiguration = Code(.invalidConfiguration)

        package var description: String { base.rawValue }
    }

    package var code: Code
    package var message: String
    /// The final HTTP status, when the receiver answered.
    package var httpStatus: Int?
    /// How long the receiver asked to wait, when it said so.
    package var retryAfter: Duration?
    package var underlying: (any Error)?
    package var file: String
    package var line: Int

    package init(
        _ code: Code, _ message: String, httpStatus: Int? = nil, retryAfter: Duration? = nil,
        underlying: (any Error)? = nil, file: String = #fileID, line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.httpStatus = httpStatus
        self.retryAfter = retryAfter
        self.underlying = underlying
        self.file = file
        self.line = line
    }

    package var description: String {
        var text = message
        if let httpStatus { text += " (HTTP \(httpStatus))" }
        if let retryAfter { text += " (retry after \(DurationParser.format(retryAfter)))" }
        if let underlying { text += " (\(underlying))" }
        return text
    }

    /// The message with code and throw site, for debugging.
    package var debugDescription: String {
        "NotificationError(\(code)): \(description) [\(file):\(line)]"
    }
}
