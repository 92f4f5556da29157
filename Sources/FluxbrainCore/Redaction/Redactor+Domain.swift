extension Redactor {
    /// `incident` with every text Fluxbrain took from the cluster redacted: the condition message and its cause
    /// (found again in the redacted message, so a cut never exposes half a secret), the remediation, events, log
    /// lines, the status and Helm history. Apply before rendering a notification.
    package func redact(_ incident: Incident) -> Incident {
        var incident = incident
        incident.message = redact(incident.message)
        incident.cause = ErrorCause.innermost(of: incident.message).map { redact($0) }
        incident.remediation = incident.remediation.map {
            Remediation(reason: $0.reason, message: redact($0.message), summary: redact($0.summary))
        }
        incident.events = incident.events.map { event in
            var event = event
            event.message = redact(event.message)
            event.reason = redact(event.reason)
            return event
        }
        incident.logLines = incident.logLines.map { line in
            var line = line
            line.message = redact(line.message)
            line.error = line.error.map { redact($0) }
            return line
        }
        incident.status = incident.status.map { redact($0) }
        return incident
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
