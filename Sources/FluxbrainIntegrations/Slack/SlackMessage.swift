import FluxbrainCore
import Foundation

/// A Slack incoming-webhook message: `{text, blocks, channel?}` with Block Kit blocks.
package struct SlackMessage: Sendable, Hashable, Codable {
    /// The plain-text fallback (notifications, screen readers, clients without blocks).
    package var text: String
    package var blocks: [SlackBlock]
    /// Overrides the webhook's default channel (`FLUXBRAIN_SLACK_CHANNEL`), where the webhook allows it.
    package var channel: String?

    package init(text: String, blocks: [SlackBlock], channel: String? = nil) {
        self.text = text
        self.blocks = blocks
        self.channel = channel
    }
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
