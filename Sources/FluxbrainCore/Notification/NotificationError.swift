/// The error of the notification layer: the shared ``FluxbrainError`` shape over ``NotificationErrorCode``, with
/// the HTTP status if any and how long the receiver asked to wait (``NotificationErrorDetail``).
///
/// Notifiers in every channel throw it, so the dispatcher and `fluxbrain notify-test` can report the HTTP status
/// and retry hints the same way for all of them. Messages never contain webhook URLs or tokens.
package typealias NotificationError = FluxbrainError<NotificationErrorCode>

/// What kind of notification failure this is.
package struct NotificationErrorCode: FluxbrainErrorCode {
    package typealias Detail = NotificationErrorDetail

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
    package static let rejected = NotificationErrorCode(.rejected)
    /// 429, or GitHub's 403 with an exhausted rate limit, longer than the notifier waits for.
    package static let rateLimited = NotificationErrorCode(.rateLimited)
    /// 5xx after the notifier's own retries.
    package static let serverError = NotificationErrorCode(.serverError)
    /// Connection failure or timeout: the request may or may not have been received.
    package static let transport = NotificationErrorCode(.transport)
    /// A response Fluxbrain could not read.
    package static let invalidResponse = NotificationErrorCode(.invalidResponse)
    /// A notifier configured with unusable values.
    package static let invalidConfiguration = NotificationErrorCode(.invalidConfiguration)

    package var description: String { base.rawValue }

    package static var errorName: String { "NotificationError" }
}

/// What a notification error carries besides the common fields.
package struct NotificationErrorDetail: FluxbrainErrorDetail {
    /// How long the receiver asked to wait, when it said so.
    package var retryAfter: Duration?

    package init(retryAfter: Duration? = nil) { self.retryAfter = retryAfter }

    package var summary: String? { retryAfter.map { "retry after \(DurationParser.format($0))" } }
}

extension FluxbrainError where ErrorCode == NotificationErrorCode {
    /// Creates a notification error; `hint` names the channel's setting (`check FLUXBRAIN_SLACK_WEBHOOK_URL`).
    package init(
        _ code: Code,
        _ message: String,
        httpStatus: Int? = nil,
        retryAfter: Duration? = nil,
        hint: String? = nil,
        underlying: (any Error)? = nil,
        file: String = #fileID,
        line: UInt = #line
    ) {
        self.init(
            code,
            message,
            httpStatus: httpStatus,
            detail: NotificationErrorDetail(retryAfter: retryAfter),
            hint: hint,
            underlying: underlying,
            file: file,
            line: line
        )
    }

    /// How long the receiver asked to wait, when it said so.
    package var retryAfter: Duration? {
        get { detail.retryAfter }
        set { detail.retryAfter = newValue }
    }
}
