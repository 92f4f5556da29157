import FluxbrainCore
import Foundation

/// Builds the Slack message for a notification: a pure function of the notification.
///
/// Layout, inside one attachment whose colour bar shows the state (``color(_:)``): a header (status emoji and
/// label, kind/namespace/name, cluster); the object (linked to its path in Git when known) and the innermost cause;
/// the remediation of a HelmRelease; what changed (commits linked to the compare view, chart versions, a source
/// still serving an old artifact); fields (reason, revision, source, retry safety, confidence, since); the full
/// condition message; the root cause and ordered actions; affected downstream objects; the evidence with repeated
/// text collapsed; a context line with the fingerprint. Times are Slack date tokens, shown in each reader's time
/// zone. Every text respects Slack's limits, with a visible truncation marker, and the message never exceeds 50
/// blocks.
package struct SlackMessageBuilder: Sendable {
    /// `FLUXBRAIN_SLACK_CHANNEL`.
    package var channel: String?
    /// Events shown at most.
    package var maxEvents: Int

    package init(channel: String? = nil, maxEvents: Int = 5) {
        self.channel = channel
        self.maxEvents = maxEvents
    }

    /// 🔴 failing, ⛔ stalled, ⏳ stuck, 🔁 reminder, ✅ resolved, 🧪 test.
    package static func emoji(_ notification: IncidentNotification) -> String {
        switch notification.kind {
        case .resolved: return "✅"
        case .test: return "🧪"
        case .reminder: return "🔁"
        case .firing:
            switch notification.incident.state {
            case .stalled: return "⛔"
            case .stuck: return "⏳"
            case .retrying: return "🔴"
            }
        }
    }

    /// The colour bar: red failing, dark red stalled, amber stuck, green resolved, blue test.
    package static func color(_ notification: IncidentNotification) -> String {
        switch notification.kind {
        case .resolved: return "#2eb67d"
        case .test: return "#1d9bd1"
        case .firing, .reminder:
            switch notification.incident.state {
            case .retrying: return "#e01e5a"
            case .stalled: return "#a30200"
            case .stuck: return "#ecb22e"
            }
        }
    }

    /// The header line, e.g. `⛔ STALLED HelmRelease podinfo/podinfo · prod`, at most 150 characters.
    package func headerText(_ notification: IncidentNotification) -> String {
        let object = notification.incident.object
        var label = notification.statusLabel
        if notification.kind == .test { label = "[TEST] notify-test" }
        let text =
            "\(Self.emoji(notification)) \(label) \(object.kind.name) \(object.namespacedName) · \(object.cluster)"
        return truncated(text, to: SlackLimits.headerText, marker: "…")
    }

    /// The message; `resolvedAfter` (a resolved notification replacing the incident's first message in a Slack
    /// thread) adds the time from that message to the resolve.
    package func message(for notification: IncidentNotification, resolvedAfter: Duration? = nil) -> SlackMessage {
        let incident = notification.incident
        let object = incident.object
        var blocks: [SlackBlock] = [.header(headerText(notification))]

        if notification.kind == .test {
            blocks.append(
                .section(
                    "*This is a test message from `fluxbrain notify-test`.* Nothing is failing; the incident below is a sample."
                )
            )
        }

        if notification.kind == .resolved {
            let since = incident.since ?? incident.detectedAt
            blocks.append(
                .section(
                    limitSection(
                        "*Resolved:* `\(object.kind.name)` *\(escape(object.namespacedName))* in cluster *\(escape(object.cluster))* is healthy again.\n"
                            + "It had failed with `\(escape(incident.reason))` since \(slackDate(since))."
                            + (resolvedAfter.map {
                                "\n*Time to resolve:* \(DurationParser.format($0)) after the first notification."
                            } ?? "")
                    )
                )
            )
            var fields = ["*Reason (cleared)*\n\(escape(incident.reason))"]
            if let revision = incident.revision { fields.append("*Revision*\n`\(escape(revision))`") }
            blocks.append(.fields(fields.map { truncated($0, to: SlackLimits.fieldText) }))
            blocks.append(context(notification))
            return finish(blocks, notification: notification)
        }

        // The object and the innermost cause first.
        var lead = "\(objectLink(incident)) in cluster *\(escape(object.cluster))*"
        if let cause = incident.cause {
            lead += "\n*Cause:* \(escape(cause))"
        } else {
            lead += "\n*Error:* \(escape(incident.reason))"
        }
        if let remediation = incident.remediation {
            lead += "\n*Remediation:* \(escape(remediation.summary)) (`\(escape(remediation.reason))`)"
        }
        blocks.append(.section(limitSection(lead)))

        // What changed.
        let changes =
            incident.changes?.lines(date: slackDate, link: { "<\(escape($1))|\(escape($0))>" }) ?? []
        if !changes.isEmpty {
            blocks.append(.section(limitSection("*What changed*\n" + changes.joined(separator: "\n"))))
        }

        // Fields.
        let safety = notification.retrySafety
        var fields: [String] = []
        fields.append("*Reason*\n`\(escape(incident.reason))`")
        if let revision = incident.revision {
            var text = "*Revision*\n`\(escape(revision))`"
            if let applied = incident.lastAppliedRevision, applied != revision {
                text += " (last applied `\(escape(applied))`)"
            }
            fields.append(text)
        }
        if let source = incident.source { fields.append("*Source*\n\(escape(source.description))") }
        fields.append("*Retry safety*\n\(safety.fluxRetries ? "🔄 " : "✋ ")\(escape(safety.summary))")
        if let result = notification.analysis.result {
            fields.append(
                "*Confidence*\n\(NotificationTextRenderer.percent(result.confidence)) (severity \(result.severity.rawValue))"
            )
        }
        fields.append("*Since*\n\(slackDate(incident.since ?? incident.detectedAt))")
        blocks.append(.fields(fields.prefix(SlackLimits.fields).map { truncated($0, to: SlackLimits.fieldText) }))

        // The condition message in full (the cause above is its innermost part).
        let evidence = incident.evidence
        var messageTitle = "*Message*"
        if evidence.messageRepeats > 0 {
            let last = evidence.messageLastSeen.map { ", last \(slackDate($0))" } ?? ""
            messageTitle += " (repeated \(evidence.messageRepeats)× in events and logs\(last))"
        }
        blocks.append(.section(limitSection("\(messageTitle)\n```\(escape(incident.message))```")))

        // Analysis.
        if let result = notification.analysis.result {
            var text = "*Root cause:* \(escape(result.title))"
            if !result.description.isEmpty { text += "\n\(escape(result.description))" }
            blocks.append(.section(limitSection(text)))
            if !result.actions.isEmpty {
                let lines = result.actions.enumerated().map { index, action in
                    "\(index + 1). *\(escape(action.title))* (\(action.urgency.rawValue)) — \(escape(action.description))"
                }
                blocks.append(.section(limitSection("*What to do*\n" + lines.joined(separator: "\n"))))
            }
        } else if let note = NotificationTextRenderer.analysisNote(notification.analysis) {
            blocks.append(.context([truncated(escape(note), to: SlackLimits.sectionText)]))
        }

        // Affected downstream objects.
        if !incident.affected.isEmpty {
            let lines = incident.affected.map { "• \(escape($0.description))" }
            blocks.append(
                .section(
                    limitSection("*Affected downstream (\(incident.affected.count))*\n" + lines.joined(separator: "\n"))
                )
            )
        }

        // Evidence, each text once.
        if !evidence.lines.isEmpty {
            let lines = evidence.lines.prefix(maxEvents).map { line -> String in
                let when = line.lastSeen.map { slackDate($0) + " " } ?? ""
                let count = line.count > 1 ? " (×\(line.count))" : ""
                return "• \(when)*\(escape(line.label))*\(count): \(escape(line.text))"
            }
            blocks.append(.section(limitSection("*Recent events and logs*\n" + lines.joined(separator: "\n"))))
        }
        blocks.append(context(notification))
        return finish(blocks, notification: notification)
    }

    /// The plain-text fallback: one line, at most 3,000 characters.
    package func fallbackText(_ notification: IncidentNotification) -> String {
        let incident = notification.incident
        var text =
            "\(Self.emoji(notification)) \(notification.kind == .test ? "[TEST] " : "")\(notification.statusLabel): "
        text += "\(incident.object.kind.name) \(incident.object.namespacedName) in cluster \(incident.object.cluster)"
        text += " — \(incident.reason)"
        if notification.kind != .resolved {
            text += ": \(incident.cause ?? incident.message)"
            if let result = notification.analysis.result { text += " | Root cause: \(result.title)" }
        }
        return truncated(text, to: SlackLimits.sectionText)
    }

    private func context(_ notification: IncidentNotification) -> SlackBlock {
        var items = ["fingerprint `\(notification.incident.fingerprint.short)`"]
        switch notification.kind {
        case .firing: items.append(notification.sequence > 1 ? "failing again" : "first notification")
        case .reminder: items.append("reminder (notification #\(notification.sequence))")
        case .resolved: items.append("resolved")
        case .test: items.append("notify-test")
        }
        items.append("controller \(notification.incident.controller)")
        items.append("Fluxbrain · \(slackDate(notification.notifiedAt))")
        return .context(items)
    }

    private func finish(_ blocks: [SlackBlock], notification: IncidentNotification) -> SlackMessage {
        SlackMessage(
            text: fallbackText(notification),
            blocks: Self.capBlocks(blocks),
            color: Self.color(notification),
            channel: channel
        )
    }

    /// Keeps at most 50 blocks; the last says how many were dropped.
    package static func capBlocks(_ blocks: [SlackBlock]) -> [SlackBlock] {
        guard blocks.count > SlackLimits.blocks else { return blocks }
        let dropped = blocks.count - (SlackLimits.blocks - 1)
        return Array(blocks.prefix(SlackLimits.blocks - 1)) + [.context(["… (truncated: \(dropped) more blocks)"])]
    }

    /// Cuts section text to Slack's limit, closing an open code fence so the marker stays visible.
    private func limitSection(_ text: String) -> String {
        guard text.count > SlackLimits.sectionText else { return text }
        let closesFence = text.hasSuffix("```")
        let budget = SlackLimits.sectionText - (closesFence ? 3 : 0)
        var cut = truncated(closesFence ? String(text.dropLast(3)) : text, to: budget)
        if closesFence {
            // Keep the marker outside the code block.
            cut = String(cut.dropLast(SlackLimits.truncationMarker.count)) + "```" + SlackLimits.truncationMarker
        }
        return cut
    }

    /// Slack's mrkdwn escaping: `&`, `<`, `>`.
    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }

    /// `Kind namespace/name`, linked to the object's path in Git at the failing commit when known.
    private func objectLink(_ incident: Incident) -> String {
        let text = "`\(incident.object.kind.name)` *\(escape(incident.object.namespacedName))*"
        guard let url = incident.changes?.pathURL else { return text }
        return "<\(escape(url))|\(incident.object.kind.name) \(escape(incident.object.namespacedName))>"
    }

    /// A Slack date token, `<!date^1795903710^{date_short_pretty} {time}|2026-11-28 19:48 UTC>`: each reader sees
    /// their own time zone; the fallback is UTC.
    package static func slackDate(_ date: Date) -> String {
        let text = RFC3339.string(from: date)  // 2026-11-28T19:48:30Z
        let fallback = text.count >= 16 ? "\(text.prefix(10)) \(text.dropFirst(11).prefix(5)) UTC" : text
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        return "<!date^\(seconds)^{date_short_pretty} {time}|\(fallback)>"
    }

    private func slackDate(_ date: Date) -> String { Self.slackDate(date) }
}
