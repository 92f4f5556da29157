import Foundation

/// The active silences for routing decisions, read from a ``SilenceStore`` at most once per `maxAge` of store time,
/// so a busy pass does not ask the store once per incident.
///
/// A silence that ends stops applying at once (cached silences are checked against `now`); a new silence applies
/// within `maxAge`.
package actor SilenceCache {
    private let store: any SilenceStore
    private let maxAge: TimeInterval
    private var cached: (at: Date, silences: [Silence])?

    /// - Parameter maxAge: how long one read is reused (default 5s; zero reads every time).
    package init(store: any SilenceStore, maxAge: Duration = .seconds(5)) {
        self.store = store
        self.maxAge = maxAge.timeInterval
    }

    /// The silences active at `now`.
    package func active(at now: Date) async throws -> [Silence] {
        if let cached, now >= cached.at, now.timeIntervalSince(cached.at) < maxAge {
            return cached.silences.filter { $0.isActive(at: now) }
        }
        let silences = try await store.active(at: now)
        cached = (now, silences)
        return silences
    }
}
