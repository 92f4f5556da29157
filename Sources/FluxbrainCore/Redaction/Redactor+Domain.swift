/// An incident whose every text Fluxbrain took from the cluster has been redacted, once, by ``Redactor``.
///
/// The pipeline redacts each incident when it takes it from the queue and hands this to every consumer: the
/// Errorbrain event (`ErrorEventBuilder`) and the notifications use its texts as they are instead of redacting them
/// again. Only `Redactor.redacted(_:)` makes one, so holding a `RedactedIncident` means the redaction happened.
/// Anything that adds text later (the verdict, log lines, fields the redaction does not cover) is still redacted
/// where it is added.
package struct RedactedIncident: Sendable, Hashable {
    /// The incident with its message, cause, remediation, events, log lines and status redacted.
    package let incident: Incident

    fileprivate init(_ incident: Incident) {
        self.incident = incident
    }
}

extension Redactor {
    /// `incident` with every text Fluxbrain took from the cluster redacted: the condition message and its cause
    /// (found again in the redacted message, so a cut never exposes half a secret), the remediation, events, log
    /// lines, the status and Helm history. Apply before rendering a notification.
    package func redact(_ incident: Incident) -> Incident {
        redacted(incident).incident
    }

    /// `incident` redacted as by `redact(_:)`, marked so that consumers do not redact it again.
    ///
    /// A text in which something was found is redacted again until nothing more is (the removal of a secret can
    /// bring together text that forms another, e.g. `https://a` + a Slack webhook URL + `:pw@h`), so a consumer
    /// that skips its own pass sees nothing a second pass would have removed. A text without a secret costs one scan.
    package func redacted(_ incident: Incident) -> RedactedIncident {
        var incident = incident
        let message = redactFully(incident.message)
        // `cause` is the message's innermost error (`Incident.init`): found again only in a message that lost a secret.
        let cause = message == incident.message ? incident.cause : ErrorCause.innermost(of: message)
        incident.message = message
        incident.cause = cause.map { redactFully($0) }
        incident.remediation = incident.remediation.map {
            Remediation(reason: $0.reason, message: redactFully($0.message), summary: redactFully($0.summary))
        }
        incident.events = incident.events.map { event in
            var event = event
            event.message = redactFully(event.message)
            event.reason = redactFully(event.reason)
            return event
        }
        incident.logLines = incident.logLines.map { line in
            var line = line
            line.message = redactFully(line.message)
            line.error = line.error.map { redactFully($0) }
            return line
        }
        incident.status = incident.status.map { untilStable($0, redact) }
        return RedactedIncident(incident)
    }

    /// `text` redacted, and redacted again while that changes it.
    private func redactFully(_ text: String) -> String {
        untilStable(text, redact)
    }

    /// `pass(value)`, applied again while it changes the value (at most four times in all).
    private func untilStable<Value: Equatable>(_ value: Value, _ pass: (Value) -> Value) -> Value {
        var previous = value
        var current = pass(value)
        var passes = 1
        while current != previous, passes < 4 {
            previous = current
            current = pass(current)
            passes += 1
        }
        return current
    }

    /// `result` with every text redacted (Errorbrain echoes the message it was sent; a defence in depth).
    package func redact(_ result: AnalysisResult) -> AnalysisResult {
        var result = result
        result.title = redact(result.title)
        result.description = redact(result.description)
        result.affectedComponents = result.affectedComponents.map { redact($0) }
        result.actions = result.actions.map {
            AnalysisResult.Action(title: redact($0.title), description: redact($0.description), urgency: $0.urgency)
        }
        result.retrySafety.summary = redact(result.retrySafety.summary)
        return result
    }

    /// `outcome` with every text redacted.
    package func redact(_ outcome: AnalysisOutcome) -> AnalysisOutcome {
        switch outcome {
        case .analyzed(let result): return .analyzed(redact(result))
        case .unavailable(let reason, let attempts): return .unavailable(reason: redact(reason), attempts: attempts)
        case .notConfigured: return .notConfigured
        }
    }
}
