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

    /// Appends `text` as a JSON string literal, escaped as the encoder escapes it: `"` and `\\`, control
    /// characters as `\n`, `\t`… or `\u00xx`; everything else, `/` and non-ASCII included, as it is.
    package static func appendString(_ text: String, to output: inout [UInt8]) {
        StableJSONEncoder.appendString(text, to: &output)
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
        format(date, fraction: false) ?? date.formatted(Date.ISO8601FormatStyle(timeZone: .gmt))
    }

    /// Formats `date` in UTC with millisecond precision, e.g. `2026-11-28T20:26:05.093Z`.
    package static func stringWithFraction(from date: Date) -> String {
        format(date, fraction: true)
            ?? date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt))
    }

    /// What `Date.ISO8601FormatStyle` writes (milliseconds truncated), without its calendar machinery, which cost a
    /// few per cent of a processed item (every date of every encoded value, every log line); `nil` outside the
    /// years 1600–9999 (before the Gregorian reform Foundation's calendar is Julian), left to the format style.
    private static func format(_ date: Date, fraction: Bool) -> String? {
        let interval = date.timeIntervalSince1970
        guard interval.isFinite, interval >= -11_676_096_000, interval < 253_402_300_800 else { return nil }
        let whole = interval.rounded(.down)
        let millis = fraction ? min(Int(((interval - whole) * 1000).rounded(.down)), 999) : 0
        let seconds = Int(whole)
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let second = seconds - days * 86_400
        // Civil date from days since 1970-01-01 (Howard Hinnant's `civil_from_days`).
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return String(unsafeUninitializedCapacity: 24) { buffer in
            var index = 0
            func put(_ value: Int, digits: Int) {
                var value = value
                for offset in stride(from: digits - 1, through: 0, by: -1) {
                    buffer[index + offset] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
                index += digits
            }
            func put(_ character: Unicode.Scalar) {
                buffer[index] = UInt8(ascii: character)
                index += 1
            }
            put(year, digits: 4)
            put("-")
            put(month, digits: 2)
            put("-")
            put(day, digits: 2)
            put("T")
            put(second / 3600, digits: 2)
            put(":")
            put(second / 60 % 60, digits: 2)
            put(":")
            put(second % 60, digits: 2)
            if fraction {
                put(".")
                put(millis, digits: 3)
            }
            put("Z")
            return index
        }
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
