import FluxbrainCore

/// The request body of `POST /events`: spec/v1 `error_event.schema.json`, field for field.
///
/// Every object is closed on the wire (`additionalProperties: false`): only `metadata` and each evidence item's
/// `data` are free-form. Optional fields are omitted when `nil` (never sent as `null`).
package struct ErrorEvent: Sendable, Codable, Hashable {
    /// Lowercase UUID.
    package var id: String
    /// RFC 3339 with a zone.
    package var timestamp: String
    package var source: Source
    package var message: String
    package var stackTrace: String?
    package var errorType: String?
    package var severity: Severity?
    package var metadata: [String: JSONValue]?
    package var evidence: [Evidence]?

    enum CodingKeys: String, CodingKey {
        case id, timestamp, source, message, severity, metadata, evidence
        case stackTrace = "stack_trace"
        case errorType = "error_type"
    }

    package init(
        id: String,
        timestamp: String,
        source: Source,
        message: String,
        stackTrace: String? = nil,
        errorType: String? = nil,
        severity: Severity? = nil,
        metadata: [String: JSONValue]? = nil,
        evidence: [Evidence]? = nil
    ) {
        self.id = id
        self.timestamp = timestamp
        self.source = source
        self.message = message
        self.stackTrace = stackTrace
        self.errorType = errorType
        self.severity = severity
        self.metadata = metadata
        self.evidence = evidence
    }

    /// `severity`: the schema's enum.
    package enum Severity: String, Sendable, Codable, Hashable, CaseIterable {
        case debug, info, warning, error, critical
    }

    /// `source`: who raised the error.
    package struct Source: Sendable, Codable, Hashable {
        /// Always `other` for Flux.
        package var language: String
        /// The Flux controller, e.g. `kustomize-controller`.
        package var name: String
        package var version: String?
        package var environment: Environment?
        /// The controller pod, when a log line names it.
        package var hostname: String?
        package var tags: [String]?

        package init(
            language: String = "other",
            name: String,
            version: String? = nil,
            environment: Environment? = nil,
            hostname: String? = nil,
            tags: [String]? = nil
        ) {
            self.language = language
            self.name = name
            self.version = version
            self.environment = environment
            self.hostname = hostname
            self.tags = tags
        }
    }

    /// `source.environment` (`FLUXBRAIN_ENVIRONMENT`): the schema's enum.
    package enum Environment: String, Sendable, Codable, Hashable, CaseIterable {
        case local, development, staging, production
    }

    /// One `evidence[]` item.
    package struct Evidence: Sendable, Codable, Hashable {
        package var type: EvidenceType
        package var data: [String: JSONValue]
        package var timestamp: String?

        package init(type: EvidenceType, data: [String: JSONValue], timestamp: String? = nil) {
            self.type = type
            self.data = data
            self.timestamp = timestamp
        }
    }

    /// `evidence[].type`: the schema's enum.
    package enum EvidenceType: String, Sendable, Codable, Hashable, CaseIterable {
        case logLine = "log_line"
        case metric
        case httpRequest = "http_request"
        case httpResponse = "http_response"
        case databaseQuery = "database_query"
        case event
        case custom
    }
}
