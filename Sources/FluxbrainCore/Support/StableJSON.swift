import Foundation

/// Deterministic JSON: sorted keys, no escaped slashes, no HTML escaping, ISO 8601 dates.
///
/// Two encodings of equal values are byte-for-byte equal, so output can be diffed, hashed and fixed in tests.
package enum StableJSON {
    /// An encoder configured for deterministic output.
    package static func makeEncoder(pretty: Bool = false) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting =
            pretty ? [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(RFC3339.string(from: date))
        }
        return encoder
    }

    /// A decoder that reads what `makeEncoder` writes, and RFC 3339 dates with or without fractions.
    package static func makeDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = RFC3339.date(from: text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an RFC 3339 date: \(text)")
            }
            return date
        }
        return decoder
    }

    /// Decodes `T` from JSON bytes through ``StableJSONDecoder`` (the same values as `makeDecoder()`, several times
    /// faster). Throws `DecodingError`.
    package static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try bytes.withUnsafeBytes { try StableJSONDecoder.decode(type, from: $0) }
    }

    /// Decodes `T` from `data`; see ``decode(_:from:)-([UInt8])``.
    package static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        try data.withUnsafeBytes { try StableJSONDecoder.decode(type, from: $0) }
    }

    /// Encodes `value` deterministically: the compact form through ``StableJSONEncoder`` (the same bytes as
    /// `makeEncoder()`, several times faster), the pretty form through `JSONEncoder`.
    package static func encode<T: Encodable>(_ value: T, pretty: Bool = false) throws -> Data {
        if pretty { return try makeEncoder(pretty: true).encode(value) }
        return Data(try StableJSONEncoder.encode(value))
    }

    /// Encodes `value` compactly as bytes (what a Redis argument or an HTTP body takes, without a `Data` copy).
    package static func bytes<T: Encodable>(_ value: T) throws -> [UInt8] {
        try StableJSONEncoder.encode(value)
    }

    /// Encodes `value` deterministically as a UTF-8 string.
    package static func string<T: Encodable>(_ value: T, pretty: Bool = false) throws -> String {
        if pretty { return String(decoding: try encode(value, pretty: true), as: UTF8.self) }
        return String(decoding: try StableJSONEncoder.encode(value), as: UTF8.self)
    }
}

/// RFC 3339 timestamps as Kubernetes and Errorbrain write them.
package enum RFC3339 {
    /// Formats `date` in UTC with second precision, e.g. `2026-11-28T20:26:05Z`.
    package static func string(from date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZone: .gmt))
    }

    /// Formats `date` in UTC with millisecond precision, e.g. `2026-11-28T20:26:05.093Z`.
    package static func stringWithFraction(from date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt))
    }

    /// Parses RFC 3339 with or without fractional seconds; a missing zone is read as UTC
    /// (Errorbrain writes `created_at` without one).
    package static func date(from text: String) -> Date? {
        if let date = try? Date.ISO8601FormatStyle(timeZone: .gmt).parse(text) { return date }
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt).parse(text) {
            return date
        }
        guard !text.hasSuffix("Z"), !text.contains("+"), text.count >= 19 else { return nil }
        // No zone: trim any fraction to milliseconds and read as UTC.
        var base = text
        var fraction = ""
        if let dot = text.firstIndex(of: ".") {
            base = String(text[..<dot])
            fraction = String(text[text.index(after: dot)...].prefix(3))
        }
        let normalized =
            fraction.isEmpty
            ? base + "Z" : base + "." + fraction.padding(toLength: 3, withPad: "0", startingAt: 0) + "Z"
        return try? Date.ISO8601FormatStyle(includingFractionalSeconds: !fraction.isEmpty, timeZone: .gmt).parse(
            normalized
        )
    }
}
