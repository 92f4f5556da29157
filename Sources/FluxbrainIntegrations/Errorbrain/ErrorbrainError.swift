import FluxbrainCore

/// The error of Errorbrain's client: the shared ``FluxbrainError`` shape over ``ErrorbrainErrorCode``, with the
/// HTTP status and, for a 422, the fields Errorbrain complained about (``ErrorbrainErrorDetail``).
///
/// Messages never contain a response body: Errorbrain echoes the request (and so any evidence) in its 422 bodies.
package typealias ErrorbrainError = FluxbrainError<ErrorbrainErrorCode>

/// What kind of Errorbrain failure this is.
package struct ErrorbrainErrorCode: FluxbrainErrorCode {
    package typealias Detail = ErrorbrainErrorDetail

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
    package static let connectionFailed = ErrorbrainErrorCode(.connectionFailed)
    /// No answer within `FLUXBRAIN_ERRORBRAIN_TIMEOUT`.
    package static let timeout = ErrorbrainErrorCode(.timeout)
    /// Errorbrain answered 5xx (after the retries within one attempt).
    package static let serverError = ErrorbrainErrorCode(.serverError)
    /// Errorbrain refused the event (4xx, including 422 validation errors); not retried.
    package static let rejected = ErrorbrainErrorCode(.rejected)
    /// The answer is not a usable verdict (not JSON, missing fields, confidence outside 0…1, unknown enum value).
    package static let invalidVerdict = ErrorbrainErrorCode(.invalidVerdict)
    /// The event could not be built or encoded.
    package static let invalidRequest = ErrorbrainErrorCode(.invalidRequest)

    package var description: String { base.rawValue }

    package static var errorName: String { "ErrorbrainError" }
    package static var subject: String? { "Errorbrain" }

    /// Unreachable points at the URL, slow at the timeout too.
    package var hint: String? {
        switch base {
        case .connectionFailed: "check FLUXBRAIN_ERRORBRAIN_URL"
        case .timeout: "check FLUXBRAIN_ERRORBRAIN_URL and FLUXBRAIN_ERRORBRAIN_TIMEOUT"
        case .serverError, .rejected, .invalidVerdict, .invalidRequest: nil
        }
    }
}

/// What an Errorbrain error carries besides the common fields.
package struct ErrorbrainErrorDetail: FluxbrainErrorDetail {
    /// For a 422: the `detail[].loc` paths Errorbrain complained about, e.g. `body.source.namespace`.
    package var locations: [String]

    package init(locations: [String] = []) { self.locations = locations }

    package var summary: String? { locations.isEmpty ? nil : "fields " + locations.joined(separator: ", ") }
}

extension FluxbrainError where ErrorCode == ErrorbrainErrorCode {
    /// Creates an Errorbrain error; `status` is the HTTP status when Errorbrain answered.
    package init(
        _ code: Code,
        _ message: String,
        status: Int? = nil,
        locations: [String] = [],
        underlying: (any Error)? = nil,
        file: String = #fileID,
        line: UInt = #line
    ) {
        self.init(
            code,
            message,
            httpStatus: status,
            detail: ErrorbrainErrorDetail(locations: locations),
            underlying: underlying,
            file: file,
            line: line
        )
    }

    /// The HTTP status, when Errorbrain answered.
    package var status: Int? { httpStatus }

    /// For a 422: the `detail[].loc` paths Errorbrain complained about.
    package var locations: [String] { detail.locations }
}
