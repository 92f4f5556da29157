import Foundation

/// "Quiet for a while": while active, an incident the silence matches is tracked but not notified.
///
/// Created with `fluxbrain silence add --match 'kind=HelmRelease,namespace=apps,name=podinfo*' --for 2h`.
package struct Silence: Sendable, Hashable, Codable {
    /// Unique, printed by `silence add`, given to `silence expire`.
    package var id: String
    package var matchers: IncidentSelector
    package var startsAt: Date
    package var endsAt: Date
    package var createdBy: String
    package var comment: String

    package init(
        id: String,
        matchers: IncidentSelector,
        startsAt: Date,
        endsAt: Date,
        createdBy: String,
        comment: String
    ) {
        self.id = id
        self.matchers = matchers
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.createdBy = createdBy
        self.comment = comment
    }

    /// `true` from `startsAt` (inclusive) until `endsAt` (exclusive).
    package func isActive(at now: Date) -> Bool { startsAt <= now && now < endsAt }

    /// `true` if active at `now` and matching `subject`.
    package func silences(_ subject: RoutingSubject, at now: Date) -> Bool {
        isActive(at: now) && matchers.matches(subject)
    }

    /// Checks what every store requires before it keeps a silence: an id, at least one matcher, and an end after
    /// the start. Throws `CoreError(.invalidInput)` naming the problem.
    package func validate() throws {
        if id.isEmpty { throw CoreError(.invalidInput, "a silence needs an id") }
        if matchers.isEmpty {
            throw CoreError(.invalidInput, "silence \(id) has no matchers (it would silence everything)")
        }
        if endsAt <= startsAt {
            throw CoreError(.invalidInput, "silence \(id) ends (\(endsAt)) before it starts (\(startsAt))")
        }
    }
}

/// Where silences live: in memory for one process, in Redis shared by replicas (the same conformance suite runs
/// against both).
package protocol SilenceStore: Sendable {
    /// Stores `silence` (a new id; an existing id is replaced). Throws `CoreError(.invalidInput)` for a silence
    /// that ``Silence/validate()`` refuses.
    func add(_ silence: Silence) async throws
    /// The silences active at `now`, ordered by `endsAt`.
    func active(at now: Date) async throws -> [Silence]
    /// Ends the silence `id` at `now`. Returns `false` if there is no such active silence.
    func expire(id: String, at now: Date) async throws -> Bool
}

/// Silences of one process (no `FLUXBRAIN_REDIS_URL`). Expired silences are dropped when they are next read.
package actor InMemorySilenceStore: SilenceStore {
    private var silences: [String: Silence] = [:]

    package init(_ silences: [Silence] = []) {
        for silence in silences { self.silences[silence.id] = silence }
    }

    package func add(_ silence: Silence) throws {
        try silence.validate()
        silences[silence.id] = silence
    }

    package func active(at now: Date) -> [Silence] {
        silences = silences.filter { $0.value.endsAt > now }
        return silences.values.filter { $0.isActive(at: now) }.sorted { ($0.endsAt, $0.id) < ($1.endsAt, $1.id) }
    }

    package func expire(id: String, at now: Date) -> Bool {
        guard let silence = silences[id], silence.isActive(at: now) else { return false }
        silences[id] = nil
        return true
    }
}
