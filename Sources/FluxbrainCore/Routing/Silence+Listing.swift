import Foundation

/// What `fluxbrain silence list` prints: a table for people, stable JSON for scripts.
extension Silence {
    /// One silence as `silence list --output json` prints it: the stored fields plus `match`, the matchers in
    /// `--match` syntax.
    package struct Listing: Sendable, Hashable, Codable {
        package var id: String
        /// The matchers as `silence add --match` takes them.
        package var match: String
        package var matchers: IncidentSelector
        package var startsAt: Date
        package var endsAt: Date
        package var createdBy: String
        package var comment: String

        package init(_ silence: Silence) {
            id = silence.id
            match = silence.matchers.matchingText
            matchers = silence.matchers
            startsAt = silence.startsAt
            endsAt = silence.endsAt
            createdBy = silence.createdBy
            comment = silence.comment
        }
    }

    /// `silences` as a JSON array (stable, pretty-printed), in the order given.
    package static func json(_ silences: [Silence]) throws -> String {
        try StableJSON.string(silences.map(Listing.init), pretty: true)
    }

    /// `silences` as an aligned table with the columns ID, MATCHERS, ENDS (UTC), AUTHOR and COMMENT (line breaks in
    /// a comment become spaces); just the header when there are none.
    package static func table(_ silences: [Silence]) -> String {
        let header = ["ID", "MATCHERS", "ENDS", "AUTHOR", "COMMENT"]
        let rows =
            [header]
            + silences.map { silence in
                [
                    silence.id, silence.matchers.matchingText, RFC3339.string(from: silence.endsAt),
                    silence.createdBy, silence.comment.split(whereSeparator: \.isNewline).joined(separator: " "),
                ]
            }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.indices.map { column in
                column == row.count - 1
                    ? row[column] : row[column].padding(toLength: widths[column] + 2, withPad: " ", startingAt: 0)
            }.joined()
        }.joined(separator: "\n")
    }
}
