import FluxbrainCore
import Foundation

/// A Slack incoming-webhook message: `{text, attachments: [{color, blocks, fallback}], channel?}`.
///
/// The Block Kit blocks travel inside one attachment, as Slack documents for a colour bar beside blocks: the
/// attachment's `color` shows the incident's state, `text` is the notification and screen-reader fallback.
package struct SlackMessage: Sendable, Hashable, Codable {
    /// The plain-text fallback (notifications, screen readers, clients without blocks).
    package var text: String
    /// One attachment holding the blocks, with the colour bar.
    package var attachments: [SlackAttachment]
    /// Overrides the webhook's default channel (`FLUXBRAIN_SLACK_CHANNEL`), where the webhook allows it.
    package var channel: String?

    package init(text: String, blocks: [SlackBlock], color: String, channel: String? = nil) {
        self.text = text
        self.attachments = [SlackAttachment(color: color, blocks: blocks, fallback: text)]
        self.channel = channel
    }

    /// Every block of the message, in order.
    package var blocks: [SlackBlock] { attachments.flatMap(\.blocks) }
}

/// A secondary attachment carrying Block Kit blocks beside a colour bar.
package struct SlackAttachment: Sendable, Hashable, Codable {
    /// `#rrggbb`.
    package var color: String
    package var blocks: [SlackBlock]
    /// Plain text for clients that show neither blocks nor attachments.
    package var fallback: String
}

/// A Slack text object.
package struct SlackText: Sendable, Hashable, Codable {
    /// `plain_text` or `mrkdwn`.
    package var type: String
    package var text: String
    package var emoji: Bool?

    package static func plain(_ text: String) -> SlackText { SlackText(type: "plain_text", text: text, emoji: true) }
    package static func mrkdwn(_ text: String) -> SlackText { SlackText(type: "mrkdwn", text: text, emoji: nil) }
}

/// The Block Kit blocks Fluxbrain uses.
package struct SlackBlock: Sendable, Hashable, Codable {
    /// `header`, `section`, `context` or `divider`.
    package var type: String
    package var text: SlackText?
    package var fields: [SlackText]?
    package var elements: [SlackText]?

    package static func header(_ text: String) -> SlackBlock {
        SlackBlock(type: "header", text: .plain(text))
    }
    package static func section(_ text: String) -> SlackBlock {
        SlackBlock(type: "section", text: .mrkdwn(text))
    }
    package static func fields(_ fields: [String]) -> SlackBlock {
        SlackBlock(type: "section", fields: fields.map(SlackText.mrkdwn))
    }
    package static func context(_ texts: [String]) -> SlackBlock {
        SlackBlock(type: "context", elements: texts.map(SlackText.mrkdwn))
    }
    package static let divider = SlackBlock(type: "divider")
}

/// Slack's documented Block Kit limits.
package enum SlackLimits {
    /// Blocks per message.
    package static let blocks = 50
    /// A `header` block's plain text.
    package static let headerText = 150
    /// A `section` block's text (and the fallback `text` Fluxbrain sends).
    package static let sectionText = 3000
    /// Fields per `section`, and characters per field.
    package static let fields = 10
    package static let fieldText = 2000
    /// Elements per `context` block.
    package static let contextElements = 10
    /// The visible marker appended to truncated text.
    package static let truncationMarker = "… (truncated)"
}

/// Cuts `text` to at most `limit` characters, ending with a visible marker when it cuts.
package func truncated(_ text: String, to limit: Int, marker: String = SlackLimits.truncationMarker) -> String {
    guard text.count > limit else { return text }
    return String(text.prefix(max(limit - marker.count, 0))) + marker
}
