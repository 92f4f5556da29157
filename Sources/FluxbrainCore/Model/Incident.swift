import Foundation

/// How a failing object fails.
package enum FailureState: String, Sendable, Codable, Hashable, CaseIterable {
    /// `Ready=False` and the controller retries on its own.
    case retrying
    /// `Stalled=True`: the controller has stopped retrying until the spec or source changes.
    case stalled
    /// `Reconciling=True` for longer than `FLUXBRAIN_STUCK_AFTER`.
    case stuck
}

/// A Kubernetes event recorded for the failing object (core/v1 `Event`, the fields Fluxbrain reads).
package struct EventRecord: Sendable, Codable, Hashable {
    package var type: String
    package var reason: String
    package var message: String
    package var count: Int64?
    package var firstTimestamp: Date?
    package var lastTimestamp: Date?
    /// The controller that wrote it (`reportingComponent`, else `source.component`).
    package var reportingComponent: String?
    /// The revision from the Flux group-prefixed annotation (`kustomize.toolkit.fluxcd.io/revision`, …), if any.
    package var revision: String?

    package init(
        type: String,
        reason: String,
        message: String,
        count: Int64? = nil,
        firstTimestamp: Date? = nil,
        lastTimestamp: Date? = nil,
        reportingComponent: String? = nil,
        revision: String? = nil
    ) {
        self.type = type
        self.reason = reason
        self.message = message
        self.count = count
        self.firstTimestamp = firstTimestamp
        self.lastTimestamp = lastTimestamp
        self.reportingComponent = reportingComponent
        self.revision = revision
    }
}

/// One controller log line about the failing object (the Flux controllers log zap JSON).
package struct LogLine: Sendable, Codable, Hashable {
    package var timestamp: Date?
    package var level: String
    package var message: String
    package var error: String?
    package var pod: String?
    package var reconcileID: String?

    package init(
        timestamp: Date? = nil,
        level: String,
        message: String,
        error: String? = nil,
        pod: String? = nil,
        reconcileID: String? = nil
    ) {
        self.timestamp = timestamp
        self.level = level
        self.message = message
        self.error = error
        self.pod = pod
        self.reconcileID = reconcileID
    }
}

/// A Helm release snapshot from a HelmRelease's `status.history`.
package typealias HelmReleaseSnapshot = FluxObject.HelmSnapshot

/// How helm-controller remediated a failed release: its `Ready` (and `Remediated`) reason and message, and a short
/// summary such as `rolled back to v7, chart 10.0.2`.
package struct Remediation: Sendable, Codable, Hashable {
    /// `RollbackSucceeded` or `UninstallSucceeded`.
    package var reason: String
    /// The condition message, e.g. "Helm rollback to previous release monitoring/grafana.v7 with chart
    /// grafana@10.0.2 succeeded".
    package var message: String
    /// For people: `rolled back to v7, chart 10.0.2`, `uninstalled v1, chart 6.9.2`.
    package var summary: String

    package init(reason: String, message: String, summary: String) {
        self.reason = reason
        self.message = message
        self.summary = summary
    }

    /// The remediation `Ready` reports, read from its message with plain string scanning:
    /// "Helm rollback to previous release ns/name.v7 with chart c@10.0.2 succeeded" → `rolled back to v7, chart
    /// 10.0.2`.
    package init(reason: String, message: String) {
        var parts: [String] = []
        if let release = message.firstRange(of: "release ") {
            let name = message[release.upperBound...].prefix { $0 != " " }
            if let dot = name.ranges(of: ".v").last {
                let version = name[dot.upperBound...]
                if !version.isEmpty, version.allSatisfy(\.isNumber) { parts.append("v\(version)") }
            }
        }
        if let chart = message.firstRange(of: "with chart ") {
            let name = message[chart.upperBound...].prefix { $0 != " " }
            if let at = name.lastIndex(of: "@") { parts.append("chart \(name[name.index(after: at)...])") }
        }
        var summary = reason == "UninstallSucceeded" ? "uninstalled" : parts.isEmpty ? "rolled back" : "rolled back to"
        if !parts.isEmpty { summary += " " + parts.joined(separator: ", ") }
        self.init(reason: reason, message: message, summary: summary)
    }
}

/// One failing Flux object and everything Fluxbrain knows about it: the error context.
///
/// An incident is identified by its `fingerprint`; the same failure seen again (same reason and revision) is the
/// same incident. A new revision failing, or a new reason, is a new incident.
///
/// For a remediated HelmRelease, `reason` and `message` are the failed action's (`Released`, `TestSuccess` or
/// `Remediated=False`), `remediation` says what helm-controller did about it, and the fingerprint keeps the `Ready`
/// reason it always had (docs/fingerprint.md).
package struct Incident: Sendable, Codable, Hashable, Identifiable {
    package var fingerprint: Fingerprint
    package var object: ObjectReference
    package var state: FailureState
    /// The failing condition's reason (`BuildFailed`, `UpgradeFailed`, `RetriesExceeded`, …).
    package var reason: String
    /// The failing condition's message, in full.
    package var message: String
    /// The innermost error of `message` (``ErrorCause/innermost(of:)``), when it says more in fewer words.
    package var cause: String?
    /// How a failed HelmRelease was remediated (rolled back, uninstalled), if it was.
    package var remediation: Remediation?
    /// What changed: commits and links, chart versions, a source serving an old artifact.
    package var changes: IncidentChanges?
    /// The revision the incident is about: the last attempted one, else the artifact's.
    package var revision: String?
    package var lastAppliedRevision: String?
    package var lastAttemptedRevision: String?
    /// The artifact revision, for sources.
    package var artifactRevision: String?
    /// The object this one takes its artifact from.
    package var source: ObjectReference?
    package var dependsOn: [ObjectReference]
    /// Objects that fail because this one fails (folded into this incident).
    package var affected: [ObjectReference]
    /// The Flux controller that reconciles the object.
    package var controller: String
    /// `spec.retryInterval` or `spec.interval`, as written (`5m`), when the controller retries on its own.
    package var retryInterval: String?
    package var generation: Int64?
    package var observedGeneration: Int64?
    /// When the failing condition last changed, as the cluster says.
    package var since: Date?
    package var helmHistory: [HelmReleaseSnapshot]
    /// Warning events, newest first.
    package var events: [EventRecord]
    /// Controller log lines, newest first.
    package var logLines: [LogLine]
    /// The object's `status` as served.
    package var status: JSONValue?
    /// When Fluxbrain saw it.
    package var detectedAt: Date
    /// The Flux object's `metadata.labels` (what routes match on); `nil` when it has none.
    package var labels: [String: String]?
    /// The object's `fluxbrain.io/*` annotations (``RoutingAnnotations``), each falling back to its owning
    /// Kustomization's or HelmRelease's; `nil` when there are none. No other annotation is carried.
    package var annotations: [String: String]?

    package var id: Fingerprint { fingerprint }

    package init(
        object: ObjectReference,
        state: FailureState,
        reason: String,
        message: String,
        revision: String?,
        lastAppliedRevision: String? = nil,
        lastAttemptedRevision: String? = nil,
        artifactRevision: String? = nil,
        source: ObjectReference? = nil,
        dependsOn: [ObjectReference] = [],
        affected: [ObjectReference] = [],
        controller: String? = nil,
        retryInterval: String? = nil,
        generation: Int64? = nil,
        observedGeneration: Int64? = nil,
        since: Date? = nil,
        helmHistory: [HelmReleaseSnapshot] = [],
        events: [EventRecord] = [],
        logLines: [LogLine] = [],
        status: JSONValue? = nil,
        detectedAt: Date,
        remediation: Remediation? = nil,
        changes: IncidentChanges? = nil,
        fingerprintReason: String? = nil,
        labels: [String: String]? = nil,
        annotations: [String: String]? = nil
    ) {
        self.fingerprint = Fingerprint(
            cluster: object.cluster,
            kind: object.kind.name,
            namespace: object.namespace,
            name: object.name,
            reason: fingerprintReason ?? reason,
            revision: revision
        )
        self.object = object
        self.state = state
        self.reason = reason
        self.message = message
        self.cause = ErrorCause.innermost(of: message)
        self.remediation = remediation
        self.changes = changes
        self.revision = revision
        self.lastAppliedRevision = lastAppliedRevision
        self.lastAttemptedRevision = lastAttemptedRevision
        self.artifactRevision = artifactRevision
        self.source = source
        self.dependsOn = dependsOn
        self.affected = affected
        self.controller = controller ?? object.kind.controller
        self.retryInterval = retryInterval
        self.generation = generation
        self.observedGeneration = observedGeneration
        self.since = since
        self.helmHistory = helmHistory
        self.events = events
        self.logLines = logLines
        self.status = status
        self.detectedAt = detectedAt
        self.labels = labels
        self.annotations = annotations
    }

    /// The events and log lines with repeated text collapsed (``EvidenceDigest``).
    package var evidence: EvidenceDigest { EvidenceDigest(message: message, events: events, logLines: logLines) }

    /// Deterministic JSON of the incident (sorted keys, no HTML escaping).
    package func stableJSON(pretty: Bool = false) throws -> String {
        try StableJSON.string(self, pretty: pretty)
    }
}
