import Crypto

/// The identity of one incident: SHA-256 over (cluster, kind, namespace, name, reason, revision).
///
/// Encoding (version 1, stable; see docs/fingerprint.md): the six fields, in that order, each written as a
/// netstring — the decimal byte length of its UTF-8 form, `:`, the bytes, `,` — concatenated, hashed with SHA-256
/// and written as 64 lowercase hex digits. A missing revision is the empty string. Netstrings make the encoding
/// unambiguous: no choice of field values can make two different tuples hash the same input.
package struct Fingerprint: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    /// 64 lowercase hex digits.
    package let hex: String

    /// Wraps an existing fingerprint; `nil` unless `hex` is 64 lowercase hex digits.
    package init?(hex: String) {
        guard hex.utf8.count == 64, hex.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
            return nil
        }
        self.hex = hex
    }

    /// Computes the fingerprint of a failure.
    package init(cluster: String, kind: String, namespace: String, name: String, reason: String, revision: String?) {
        var input: [UInt8] = []
        for field in [cluster, kind, namespace, name, reason, revision ?? ""] {
            let bytes = Array(field.utf8)
            input.append(contentsOf: String(bytes.count).utf8)
            input.append(UInt8(ascii: ":"))
            input.append(contentsOf: bytes)
            input.append(UInt8(ascii: ","))
        }
        let digest = SHA256.hash(data: input)
        self.hex = digest.map { byte in
            let hexDigits: [Character] = [
                "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e", "f",
            ]
            return String([hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0f)]])
        }.joined()
    }

    /// The first 12 hex digits, for people.
    package var short: String { String(hex.prefix(12)) }

    package var description: String { hex }

    package static func < (lhs: Fingerprint, rhs: Fingerprint) -> Bool { lhs.hex < rhs.hex }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = Fingerprint(hex: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a fingerprint: \(text)")
        }
        self = value
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}
