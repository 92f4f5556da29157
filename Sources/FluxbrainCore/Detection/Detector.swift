import Foundation

/// What an object's conditions say about it.
package enum ObjectHealth: Sendable, Hashable {
    /// `Ready=True` for the current generation.
    case healthy
    /// Reconciling, `Ready=Unknown`, or a new generation not yet observed: not a failure.
    case progressing
    /// `spec.suspend: true`: Fluxbrain leaves it alone whatever its status says.
    case suspended
    /// A failure Fluxbrain reports.
    case failing(FailureState)
    /// No conditions yet.
    case unknown
}

/// Decides from an object's own status whether it fails, and builds the incident.
///
/// The rules (docs/detection.md, from fluxcd/pkg runtime conditions):
/// - suspended (`spec.suspend`) objects are never failing;
/// - `Stalled=True` is failing (`stalled`): the controller stopped retrying;
/// - `Ready=False` is failing (`retrying`) unless `Reconciling=True` with reason `Progressing` says a new attempt is
///   under way; a HelmRelease whose Ready reason is `RollbackSucceeded`/`UninstallSucceeded` is failing;
/// - `Reconciling=True` for longer than `stuckAfter` is failing (`stuck`);
/// - `Ready=Unknown` or `Reconciling=True` is progressing; `Ready=True` with `observedGeneration == generation` is
///   healthy.
package struct Detector: Sendable {
    /// How long `Reconciling=True` may last before the object counts as stuck (`FLUXBRAIN_STUCK_AFTER`).
    package var stuckAfter: Duration

    package init(stuckAfter: Duration = .seconds(15 * 60)) {
        self.stuckAfter = stuckAfter
    }

    /// The health of `object` at `now`.
    package func health(of object: FluxObject, now: Date) -> ObjectHealth {
        if object.spec?.suspend == true { return .suspended }
        if let stalled = object.condition("Stalled"), stalled.status == "True" { return .failing(.stalled) }
        let ready = object.condition("Ready")
        let reconciling = object.condition("Reconciling")
        if let reconciling, reconciling.status == "True", isOlder(reconciling.lastTransitionTime, than: stuckAfter, now: now) {
            return .failing(.stuck)
        }
        guard let ready else { return reconciling?.status == "True" ? .progressing : .unknown }
        switch ready.status {
        case "False":
            if let reconciling, reconciling.status == "True", reconciling.reason == "Progressing" {
                return .progressing
            }
            return .failing(.retrying)
        case "True":
            if let generation = object.metadata.generation, let observed = object.status?.observedGeneration,
                observed != generation
            {
                return .progressing
            }
            return reconciling?.status == "True" ? .progressing : .healthy
        default:
            return .progressing
        }
    }

    /// The incident for `object` in `cluster`, or `nil` when it is not failing or not a Flux kind.
    package func incident(for object: FluxObject, cluster: String, now: Date) -> Incident? {
        guard case .failing(let state) = health(of: object, now: now), let reference = object.reference(cluster: cluster)
        else { return nil }
        let ready = object.condition("Ready")
        let stalled = object.condition("Stalled")
        let reconciling = object.condition("Reconciling")
        let cause: FluxObject.Condition?
        switch state {
        case .stuck: cause = reconciling
        case .stalled: cause = ready?.status == "False" ? ready : stalled
        case .retrying: cause = ready
        }
        let status = object.status
        let revision = status?.lastAttemptedRevision ?? status?.artifact?.revision ?? status?.lastAppliedRevision
        return Incident(
            object: reference,
            state: state,
            reason: cause?.reason ?? (state == .stuck ? "Stuck" : "Failed"),
            message: state == .stuck
                ? "Reconciling for longer than \(stuckAfter.formattedShort): \(cause?.message ?? "")"
                : (cause?.message ?? ""),
            revision: revision,
            lastAppliedRevision: status?.lastAppliedRevision,
            lastAttemptedRevision: status?.lastAttemptedRevision,
            artifactRevision: status?.artifact?.revision,
            source: object.upstreamSource(cluster: cluster),
            dependsOn: object.dependencies(cluster: cluster),
            controller: reference.kind.controller,
            retryInterval: state == .retrying ? (object.spec?.retryInterval ?? object.spec?.interval) : nil,
            generation: object.metadata.generation,
            observedGeneration: status?.observedGeneration,
            since: cause?.lastTransitionTime.flatMap(RFC3339.date(from:)),
            helmHistory: status?.helmHistory ?? [],
            status: object.rawStatus,
            detectedAt: now
        )
    }

    private func isOlder(_ timestamp: String?, than age: Duration, now: Date) -> Bool {
        guard let timestamp, let date = RFC3339.date(from: timestamp) else { return false }
        return now.timeIntervalSince(date) > age.timeInterval
    }
}

extension Duration {
    /// The duration in seconds as a `TimeInterval`.
    package var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }

    /// `1h30m`, `5m`, `30s`, `250ms`: the form Fluxbrain's configuration and Flux's specs use.
    package var formattedShort: String { DurationParser.format(self) }
}
