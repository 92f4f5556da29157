import Foundation

/// A notification channel: where a notification goes (`slack`, `webhook`, `github`, `console`).
///
/// Each channel keeps its own notification state per incident, so one failing channel never blocks or
/// duplicates another.
package struct ChannelID: RawRepresentable, Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    package var rawValue: String

    package init(rawValue: String) { self.rawValue = rawValue }
    package init(_ rawValue: String) { self.rawValue = rawValue }

    /// Slack incoming webhook.
    package static let slack = ChannelID("slack")
    /// Generic JSON webhook (`fluxbrain.webhook/v1`).
    package static let webhook = ChannelID("webhook")
    /// GitHub Issues, one issue per incident.
    package static let github = ChannelID("github")
    /// Readable text on the terminal or log stream.
    package static let console = ChannelID("console")

    package var description: String { rawValue }

    package static func < (lhs: ChannelID, rhs: ChannelID) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// What the scheduler observed about an incident: it fails (`firing`) or it has cleared (`resolved`).
package enum NotificationStatus: String, Sendable, Codable, Hashable, CaseIterable {
    case firing
    case resolved
}

/// Why a notification is sent.
package enum NotificationKind: String, Sendable, Codable, Hashable, CaseIterable {
    /// The first notification of an incident on a channel, or a recurrence after it was resolved.
    case firing
    /// The incident still fails after `FLUXBRAIN_REPEAT_INTERVAL`.
    case reminder
    /// The incident has cleared; sent exactly once.
    case resolved
    /// A sample incident sent by `fluxbrain notify-test`.
    case test

    /// The status a successful send of this kind records.
    package var status: NotificationStatus {
        switch self {
        case .firing, .reminder, .test: return .firing
        case .resolved: return .resolved
        }
    }
}

/// One message about one incident, as every notifier receives it.
///
/// (Not `Notification`: that name is Foundation's, and code importing both would be ambiguous.)
package struct IncidentNotification: Sendable, Hashable {
    package var kind: NotificationKind
    package var incident: Incident
    /// Errorbrain's verdict, or why there is none.
    package var analysis: AnalysisOutcome
    /// 1 for the first notification of the incident on a channel, then 2, 3, … for each one delivered after it.
    /// A retry of an undelivered notification keeps its sequence.
    package var sequence: Int
    /// When the notification was decided (store time).
    package var notifiedAt: Date
    /// `<fingerprint>:<kind>:<sequence>`: the same for every retry of one notification, different for every other.
    package var idempotencyKey: String
    /// What the last delivery on this channel reported as its ``DeliveryReport/reference`` (the Slack thread to
    /// reply in), `nil` if none is known.
    package var previousReference: String?
    /// `true` when an earlier attempt of this very notification failed (it may still have reached the receiver,
    /// e.g. when its response was lost).
    package var isRetry: Bool

    package init(
        kind: NotificationKind,
        incident: Incident,
        analysis: AnalysisOutcome,
        sequence: Int,
        notifiedAt: Date,
        previousReference: String? = nil,
        isRetry: Bool = false
    ) {
        self.kind = kind
        self.incident = incident
        self.analysis = analysis
        self.sequence = sequence
        self.notifiedAt = notifiedAt
        self.previousReference = previousReference
        self.isRetry = isRetry
        self.idempotencyKey = IncidentNotification.idempotencyKey(
            fingerprint: incident.fingerprint,
            kind: kind,
            sequence: sequence
        )
    }

    /// `<fingerprint>:<kind>:<sequence>`.
    package static func idempotencyKey(fingerprint: Fingerprint, kind: NotificationKind, sequence: Int) -> String {
        "\(fingerprint.hex):\(kind.rawValue):\(sequence)"
    }

    /// The retry-safety judgement to show: Errorbrain's if it gave one, else derived from Flux's state.
    package var retrySafety: RetrySafety {
        analysis.result?.retrySafety ?? RetrySafety.derived(from: incident)
    }

    /// A short human label of the status, e.g. `FAILING`, `STALLED`, `STILL FAILING`, `RESOLVED`, `TEST`.
    package var statusLabel: String {
        switch kind {
        case .resolved: return "RESOLVED"
        case .test: return "TEST"
        case .firing, .reminder:
            let base: String
            switch incident.state {
            case .retrying: base = "FAILING"
            case .stalled: base = "STALLED"
            case .stuck: base = "STUCK"
            }
            return kind == .reminder ? "STILL \(base)" : base
        }
    }
}

/// What a notifier reports about one delivery.
package struct DeliveryReport: Sendable, Hashable {
    /// The final HTTP status, for HTTP channels.
    package var httpStatus: Int?
    /// HTTP attempts made inside this send (1 without retries).
    package var attempts: Int
    /// What happened, for people: "issue #12 created", "ok".
    package var detail: String?
    /// A link to what was created or updated, if any (e.g. the GitHub issue).
    package var url: String?
    /// What the next notification of the incident on this channel should continue from, opaque to everyone but the
    /// notifier (Slack: `CHANNEL:ts:sequence` of the thread's top-level message). The dispatcher keeps it with the
    /// notification state and hands it back as ``IncidentNotification/previousReference``.
    package var reference: String?

    package init(
        httpStatus: Int? = nil,
        attempts: Int = 1,
        detail: String? = nil,
        url: String? = nil,
        reference: String? = nil
    ) {
        self.httpStatus = httpStatus
        self.attempts = attempts
        self.detail = detail
        self.url = url
        self.reference = reference
    }
}

/// Delivers notifications to one channel.
///
/// A notifier is stateless about incidents: the dispatcher decides what to send through a `NotificationStore`.
/// Implementations throw `NotificationError` (carrying the HTTP status when there is one) on failure.
package protocol Notifier: Sendable {
    /// The channel this notifier delivers to.
    var channel: ChannelID { get }
    /// Delivers `notification`, retrying inside the call only where it is safe and bounded.
    func send(_ notification: IncidentNotification) async throws -> DeliveryReport
}
