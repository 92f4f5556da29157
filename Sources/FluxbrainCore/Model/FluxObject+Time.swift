import Foundation

extension Sequence<FluxObject> {
    /// The moment a snapshot of these objects shows: the newest `lastTransitionTime` of their conditions, never later
    /// than `now`; `now` when no condition has a time that parses (RFC 3339, fractional seconds allowed).
    ///
    /// A saved snapshot is judged at the time it was taken (`fluxbrain once --snapshot`) and replayed as if taken now
    /// (the testbed's fake cluster), so "reconciling for longer than `FLUXBRAIN_STUCK_AFTER`" means the same today
    /// as the day it was saved.
    package func takenAt(now: Date) -> Date {
        Swift.min(newestTransition() ?? now, now)
    }

    /// The newest `lastTransitionTime` of these objects' conditions that parses, if any (what ``takenAt(now:)``
    /// judges by, for a caller that keeps it while the objects do not change).
    package func newestTransition() -> Date? {
        var latest: Date?
        for object in self {
            for condition in object.status?.conditions ?? [] {
                guard let text = condition.lastTransitionTime, let date = RFC3339.date(from: text) else { continue }
                if latest.map({ date > $0 }) ?? true { latest = date }
            }
        }
        return latest
    }
}
