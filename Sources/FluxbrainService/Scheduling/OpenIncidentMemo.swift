import FluxbrainCore
import Synchronization

/// The open incidents of each cluster as the leader last read them from the ``IncidentIndex`` and then wrote them,
/// kept for one lease, so that a pass between full resyncs does not read (and decode) every open incident again.
///
/// Within one lease only this leader's passes write the index (every write is fenced by the lease), so what it read
/// once plus what it opened and closed since is what the index holds. A new lease, a full resync and any failed pass
/// read the index again.
final class OpenIncidentMemo: Sendable {
    private struct State {
        var lease: LeaderLease?
        var clusters: [String: [ObjectReference: Incident]] = [:]
    }

    private let state = Mutex(State())

    /// The open incidents of `cluster` by object, if known under `lease` (shared, not copied: the memo copies on its
    /// next write while a pass still holds them).
    func incidents(cluster: String, lease: LeaderLease) -> [ObjectReference: Incident]? {
        state.withLock { state in
            guard state.lease == lease else { return nil }
            return state.clusters[cluster]
        }
    }

    /// What the index held for `cluster` when read under `lease`.
    func read(_ incidents: [ObjectReference: Incident], cluster: String, lease: LeaderLease) {
        state.withLock { state in
            if state.lease != lease { state = State(lease: lease) }
            state.clusters[cluster] = incidents
        }
    }

    /// `incident` was recorded as its object's open incident under `lease`.
    func opened(_ incident: Incident, lease: LeaderLease) {
        state.withLock { state in
            guard state.lease == lease else { return }
            state.clusters[incident.object.cluster]?[incident.object] = incident
        }
    }

    /// `object`'s open incident was forgotten if its fingerprint was `fingerprint` (as the index does).
    func closed(_ object: ObjectReference, fingerprint: Fingerprint, lease: LeaderLease) {
        state.withLock { state in
            guard state.lease == lease, state.clusters[object.cluster]?[object]?.fingerprint == fingerprint else {
                return
            }
            state.clusters[object.cluster]?[object] = nil
        }
    }

    /// Forget everything: the next pass reads the index.
    func forget() {
        state.withLock { $0 = State() }
    }
}
