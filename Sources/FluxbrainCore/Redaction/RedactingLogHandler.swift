import Logging

/// A `LogHandler` that redacts every message, metadata value and attached error before passing the entry on.
///
/// Install it in the executable's bootstrap around the real handler:
///
/// ```swift
/// LoggingSystem.bootstrap { label in
///     RedactingLogHandler(wrapping: StreamLogHandler.standardError(label: label))
/// }
/// ```
///
/// Metadata providers are evaluated here (and the wrapped handler's provider is cleared), so provider metadata is
/// redacted too. Metadata keys are not redacted, only values.
package struct RedactingLogHandler: LogHandler {
    private var wrapped: any LogHandler
    private let redactor: Redactor
    private var storedMetadataProvider: Logger.MetadataProvider?

    /// Wraps `handler`; any metadata provider it had moves to this handler.
    package init(wrapping handler: any LogHandler, redactor: Redactor = Redactor()) {
        var handler = handler
        self.storedMetadataProvider = handler.metadataProvider
        handler.metadataProvider = nil
        self.wrapped = handler
        self.redactor = redactor
    }

    package var metadataProvider: Logger.MetadataProvider? {
        get { storedMetadataProvider }
        set { storedMetadataProvider = newValue }
    }

    package var logLevel: Logger.Level {
        get { wrapped.logLevel }
        set { wrapped.logLevel = newValue }
    }

    package var metadata: Logger.Metadata {
        get { wrapped.metadata }
        set { wrapped.metadata = newValue.mapValues(redact) }
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { wrapped[metadataKey: key] }
        set { wrapped[metadataKey: key] = newValue.map(redact) }
    }

    package func log(event: LogEvent) {
        var event = event
        event.message = Logger.Message(stringLiteral: redactor.redact(event.message.description))
        var metadata = storedMetadataProvider?.get() ?? [:]
        if let explicit = event.metadata {
            metadata.merge(explicit) { _, new in new }
        }
        event.metadata = metadata.isEmpty ? nil : metadata.mapValues(redact)
        if let error = event.error {
            let text = logLevel <= .debug ? String(reflecting: error) : String(describing: error)
            event.error = RedactedError(description: redactor.redact(text))
        }
        wrapped.log(event: event)
    }

    private func redact(_ value: Logger.Metadata.Value) -> Logger.Metadata.Value {
        switch value {
        case .string(let text): return .string(redactor.redact(text))
        case .stringConvertible(let error as ErrorMetadataValue) where logLevel <= .debug:
            // At debug level an error shows its whole chain with throw sites; otherwise its one readable line.
            return .string(redactor.redact(error.debugDescription))
        case .stringConvertible(let convertible): return .string(redactor.redact(convertible.description))
        case .array(let items): return .array(items.map(redact))
        case .dictionary(let members): return .dictionary(members.mapValues(redact))
        }
    }
}

extension Logger.MetadataValue {
    /// `error` as a metadata value: its one readable line (`cannot reach Redis at …; check FLUXBRAIN_REDIS_URL`),
    /// or, under a ``RedactingLogHandler`` at debug level (`FLUXBRAIN_LOG_LEVEL=debug`), the whole chain with the
    /// place each error was thrown.
    package static func error(_ error: any Error) -> Logger.MetadataValue {
        .stringConvertible(ErrorMetadataValue(error))
    }
}

/// An error replaced by its redacted description.
package struct RedactedError: Error, CustomStringConvertible, Sendable {
    package let description: String
}
