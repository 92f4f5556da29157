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
/// The rules (docs/detection.md, from fluxcd/pkg runtime conditions), in this order:
/// - suspended (`spec.suspend`) objects are never failing;
/// - `Stalled=True` is failing (`stalled`): the controller stopped retrying;
/// - a HelmRelease whose `Ready=False` reason is `RollbackSucceeded`/`UninstallSucceeded` is failing (`retrying`):
///   the release was remediated, the upgrade or install itself failed;
/// - `Ready=False` is failing (`retrying`) unless `Reconciling=True` with reason `Progressing` says a new attempt is
///   under way (then it is progressing, or `stuck` once that attempt lasts longer than `stuckAfter`);
/// - `Reconciling=True` (not `ProgressingWithRetry`) for longer than `stuckAfter` is failing (`stuck`);
/// - `Ready=Unknown` or `Reconciling=True` is progressing; `Ready=True` with `observedGeneration == generation` is
///   healthy, `Ready=True` for an older generation is progressing.
package struct Detector: Sendable {
    /// How long `Reconciling=True` may last before the object counts as stuck (`FLUXBRAIN_STUCK_AFTER`).
    package var stuckAfter: Duration
    /// The Git hosts whose web links Fluxbrain builds (`FLUXBRAIN_GIT_HOSTS` plus the built-in ones).
    package var gitHosts: GitHosts

    package init(stuckAfter: Duration = .seconds(15 * 60), gitHosts: GitHosts = .builtIn) {
        self.stuckAfter = stuckAfter
        self.gitHosts = gitHosts
    }

    /// HelmRelease `Ready=False` reasons that mean a failed release was remediated.
    package static let remediatedReasons: Set<String> = ["RollbackSucceeded", "UninstallSucceeded"]

    /// The health of `object` at `now`.
    package func health(of object: FluxObject, now: Date) -> ObjectHealth {
        if object.spec?.suspend == true { return .suspended }
        let conditions = object.status?.conditions ?? []
        var ready: FluxObject.Condition?
        var reconciling: FluxObject.Condition?
        for condition in conditions {
            switch condition.type {
            case "Stalled" where condition.status == "True": return .failing(.stalled)
            case "Ready" where ready == nil: ready = condition
            case "Reconciling" where reconciling == nil: reconciling = condition
            default: break
            }
        }
        let isReconciling = reconciling?.status == "True"
        if let ready, ready.status == "False" {
            if object.kind == FluxKind.helmRelease.name, let reason = ready.reason,
                Self.remediatedReasons.contains(reason)
            {
                return .failing(.retrying)
            }
            if isReconciling, reconciling?.reason == "Progressing" {
                return isOlder(reconciling?.lastTransitionTime, than: stuckAfter, now: now)
                    ? .failing(.stuck) : .progressing
            }
            return .failing(.retrying)
        }
        if isReconciling {
            if reconciling?.reason != "ProgressingWithRetry",
                isOlder(reconciling?.lastTransitionTime, than: stuckAfter, now: now)
            {
                return .failing(.stuck)
            }
            return .progressing
        }
        guard let ready else { return .unknown }
        switch ready.status {
        case "True":
            if let generation = object.metadata.generation, let observed = object.status?.observedGeneration,
                observed != generation
            {
                return .progressing
            }
            return .healthy
        default:
            return .progressing
        }
    }

    /// The incident for `object` in `cluster`, or `nil` when it is not failing or not a Flux kind.
    package func incident(for object: FluxObject, cluster: String, now: Date) -> Incident? {
        guard case .failing(let state) = health(of: object, now: now),
            let reference = object.reference(cluster: cluster)
        else { return nil }
        return makeIncident(for: object, reference: reference, state: state, cluster: cluster, now: now)
    }

    /// HelmRelease conditions of an action that can fail, in the order the failure is looked for: the release
    /// itself (install/upgrade), its tests, then the remediation.
    package static let helmActionConditions = ["Released", "TestSuccess", "Remediated"]

    /// For a HelmRelease whose `Ready` condition reports a remediation result (`RollbackSucceeded`,
    /// `UninstallSucceeded`) or only summarises without a message of its own, the condition of the action that
    /// failed: the first of `Released`, `TestSuccess`, `Remediated` that is `False`.
    package static func failedHelmAction(of object: FluxObject, ready: FluxObject.Condition) -> FluxObject.Condition? {
        guard object.kind == FluxKind.helmRelease.name, ready.status == "False" else { return nil }
        let summarises = ready.reason.map(remediatedReasons.contains) == true || (ready.message ?? "").isEmpty
        guard summarises else { return nil }
        for type in helmActionConditions {
            if let condition = object.condition(type), condition.status == "False" { return condition }
        }
        return nil
    }

    /// Builds the incident of a failing object whose state is already known; `source` is the object it takes its
    /// artifact from, when the caller has it (for what changed).
    func makeIncident(
        for object: FluxObject,
        reference: ObjectReference,
        state: FailureState,
        cluster: String,
        now: Date,
        source: FluxObject? = nil
    ) -> Incident {
        let ready = object.condition("Ready")
        let stalled = object.condition("Stalled")
        let reconciling = object.condition("Reconciling")
        var cause: FluxObject.Condition?
        switch state {
        case .stuck: cause = reconciling
        case .stalled: cause = ready?.status == "False" ? ready : stalled
        case .retrying: cause = ready
        }
        // A remediated HelmRelease: the headline is the failed action, the remediation its own line, and the
        // fingerprint keeps Ready's reason (what it always was, so open incidents keep their identity).
        var remediation: Remediation?
        var fingerprintReason: String?
        if state != .stuck, let ready, cause == ready, let failed = Self.failedHelmAction(of: object, ready: ready) {
            if let reason = ready.reason, Self.remediatedReasons.contains(reason) {
                let remediated = object.condition("Remediated")
                remediation = Remediation(
                    reason: reason,
                    message: ready.message ?? remediated?.message ?? ""
                )
            }
            fingerprintReason = ready.reason ?? "Failed"
            cause = failed
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
            since: cause?.lastTransitionTime.flatMap(Self.date(from:)),
            helmHistory: status?.helmHistory ?? [],
            status: object.rawStatus,
            detectedAt: now,
            remediation: remediation,
            changes: IncidentChanges.of(object, source: source, hosts: gitHosts),
            fingerprintReason: fingerprintReason,
            labels: object.metadata.labels.flatMap { $0.isEmpty ? nil : $0 },
            annotations: RoutingAnnotations.carried(object.metadata.annotations)
        )
    }

    /// Parses a condition time: the `2026-11-28T19:41:03Z` form Kubernetes writes directly (this runs for every
    /// failing object of a large list), anything else through `RFC3339.date(from:)`.
    package static func date(from text: String) -> Date? {
        let utf8 = text.utf8
        guard utf8.count == 20 else { return RFC3339.date(from: text) }
        let fast = utf8.withContiguousStorageIfAvailable { bytes -> Date? in
            func number(_ start: Int, _ count: Int) -> Int? {
                var value = 0
                for index in start..<(start + count) {
                    let digit = Int(bytes[index]) - 48
                    guard (0...9).contains(digit) else { return nil }
                    value = value * 10 + digit
                }
                return value
            }
            guard bytes[4] == 45, bytes[7] == 45, bytes[10] == 84, bytes[13] == 58, bytes[16] == 58, bytes[19] == 90,
                let year = number(0, 4), let month = number(5, 2), let day = number(8, 2), let hour = number(11, 2),
                let minute = number(14, 2), let second = number(17, 2), (1...12).contains(month),
                (1...31).contains(day),
                hour < 24, minute < 60, second < 61
            else { return nil }
            // Days from civil (Howard Hinnant's algorithm).
            let y = month <= 2 ? year - 1 : year
            let era = (y >= 0 ? y : y - 399) / 400
            let yearOfEra = y - era * 400
            let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
            let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
            let days = era * 146_097 + dayOfEra - 719_468
            return Date(timeIntervalSince1970: TimeInterval(days * 86_400 + hour * 3_600 + minute * 60 + second))
        }
        if let fast, let date = fast { return date }
        return RFC3339.date(from: text)
    }

    private func isOlder(_ timestamp: String?, than age: Duration, now: Date) -> Bool {
        guard let timestamp, let date = Self.date(from: timestamp) else { return false }
        return now.timeIntervalSince(date) > age.timeInterval
    }
}

extension Duration {
    /// `1h30m`, `5m`, `30s`, `250ms`: the form Fluxbrain's configuration and Flux's specs use.
    package var formattedShort: String { DurationParser.format(self) }
}
