import Foundation

/// Errorbrain's verdict on an incident, in Fluxbrain's terms.
package struct AnalysisResult: Sendable, Codable, Hashable {
    /// One recommended action, in the order Errorbrain gave them.
    package struct Action: Sendable, Codable, Hashable {
        package enum Urgency: String, Sendable, Codable, Hashable { case low, medium, high }
        package var title: String
        package var description: String
        package var urgency: Urgency

        package init(title: String, description: String, urgency: Urgency) {
            self.title = title
            self.description = description
            self.urgency = urgency
        }
    }

    /// Impact severity as Errorbrain rates it.
    package enum Severity: String, Sendable, Codable, Hashable { case info, warning, critical }

    /// The verdict's id (lowercased).
    package var verdictID: String
    /// The error event's id Fluxbrain sent (lowercased).
    package var eventID: String
    /// The root-cause hypothesis.
    package var title: String
    package var description: String
    /// 0…1.
    package var confidence: Double
    package var severity: Severity
    package var affectedComponents: [String]
    package var actions: [Action]
    package var evidenceRefs: [String]
    package var createdAt: Date?
    /// Whether it is safe to wait for Flux to retry, and who judged so.
    package var retrySafety: RetrySafety

    package init(
        verdictID: String,
        eventID: String,
        title: String,
        description: String,
        confidence: Double,
        severity: Severity,
        affectedComponents: [String],
        actions: [Action],
        evidenceRefs: [String],
        createdAt: Date?,
        retrySafety: RetrySafety
    ) {
        self.verdictID = verdictID
        self.eventID = eventID
        self.title = title
        self.description = description
        self.confidence = confidence
        self.severity = severity
        self.affectedComponents = affectedComponents
        self.actions = actions
        self.evidenceRefs = evidenceRefs
        self.createdAt = createdAt
        self.retrySafety = retrySafety
    }
}

/// Whether waiting for Flux's own retries can fix the incident.
package struct RetrySafety: Sendable, Codable, Hashable {
    /// Who made the judgement.
    package enum Basis: String, Sendable, Codable, Hashable {
        /// Errorbrain's verdict carried a judgement.
        case errorbrain
        /// Derived from Flux's own state (Stalled vs retrying); Errorbrain gave none.
        case fluxState
    }

    /// `true`: Flux retries on its own; `false`: a change is needed.
    package var fluxRetries: Bool
    /// A sentence for people, e.g. "Flux retries on its own every 2m0s".
    package var summary: String
    package var basis: Basis

    package init(fluxRetries: Bool, summary: String, basis: Basis) {
        self.fluxRetries = fluxRetries
        self.summary = summary
        self.basis = basis
    }

    /// The judgement Flux's own state gives for `incident`: Stalled stops retrying; Ready=False retries.
    package static func derived(from incident: Incident) -> RetrySafety {
        switch incident.state {
        case .stalled:
            return RetrySafety(
                fluxRetries: false,
                summary: "Flux has stopped retrying: it needs a change to the source or spec",
                basis: .fluxState
            )
        case .retrying:
            let every = incident.retryInterval.map { " every \($0)" } ?? ""
            return RetrySafety(fluxRetries: true, summary: "Flux retries on its own\(every)", basis: .fluxState)
        case .stuck:
            return RetrySafety(
                fluxRetries: true,
                summary: "Flux is still reconciling: it has not reached a result",
                basis: .fluxState
            )
        }
    }
}

/// What a notification carries about analysis.
package enum AnalysisOutcome: Sendable, Codable, Hashable {
    /// Errorbrain answered.
    case analyzed(AnalysisResult)
    /// Errorbrain failed `attempts` times; the notification carries the Flux context only.
    case unavailable(reason: String, attempts: Int)
    /// No `FLUXBRAIN_ERRORBRAIN_URL`: Flux context only.
    case notConfigured

    /// The result, if analyzed.
    package var result: AnalysisResult? {
        if case .analyzed(let result) = self { return result }
        return nil
    }
}
