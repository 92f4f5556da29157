import FluxbrainCore
import Foundation

/// A GitHub issue as the REST API returns it (the fields Fluxbrain reads).
package struct GitHubIssue: Sendable, Hashable, Decodable {
    package struct Label: Sendable, Hashable, Decodable {
        package var name: String
    }

    package var id: Int64
    package var number: Int
    package var title: String
    package var body: String?
    /// `open` or `closed`.
    package var state: String
    /// `completed`, `not_planned`, `reopened` or `null`.
    package var stateReason: String?
    package var labels: [Label]
    package var closedAt: Date?
    package var createdAt: Date?
    package var updatedAt: Date?
    package var htmlURL: String
    /// Present when the item is a pull request (the issues list returns both).
    package var isPullRequest: Bool

    private enum CodingKeys: String, CodingKey {
        case id, number, title, body, state, labels
        case stateReason = "state_reason"
        case closedAt = "closed_at"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case htmlURL = "html_url"
        case pullRequest = "pull_request"
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(Int64.self, forKey: .id)
        number = try container.decode(Int.self, forKey: .number)
        title = try container.decode(String.self, forKey: .title)
        body = try container.decodeIfPresent(String.self, forKey: .body)
        state = try container.decode(String.self, forKey: .state)
        stateReason = try container.decodeIfPresent(String.self, forKey: .stateReason)
        labels = try container.decodeIfPresent([Label].self, forKey: .labels) ?? []
        closedAt = try container.decodeIfPresent(Date.self, forKey: .closedAt)
        createdAt = try container.decodeIfPresent(Date.self, forKey: .createdAt)
        updatedAt = try container.decodeIfPresent(Date.self, forKey: .updatedAt)
        htmlURL = try container.decode(String.self, forKey: .htmlURL)
        isPullRequest = try container.decodeIfPresent(JSONValue.self, forKey: .pullRequest).map { $0 != .null } ?? false
    }

    package var isOpen: Bool { state == "open" }
}

/// Parses an RFC 8288 `Link` header and returns the `rel="next"` URL, if any.
package func nextPageURL(linkHeader: String?) -> String? {
    guard let linkHeader else { return nil }
    for part in linkHeader.split(separator: ",") {
        let pieces = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let target = pieces.first, target.hasPrefix("<"), target.hasSuffix(">") else { continue }
        if pieces.dropFirst().contains(where: { $0.replacingOccurrences(of: " ", with: "") == "rel=\"next\"" }) {
            return String(target.dropFirst().dropLast())
        }
    }
    return nil
}
