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

    /// Decodes `T` from JSON bytes: a ``JSONReadable`` type reads itself straight from the bytes, any other through
    /// ``StableJSONDecoder`` (the same values as `makeDecoder()`, several times faster). Throws `DecodingError`.
    package static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try bytes.withUnsafeBytes { try decode(type, from: $0) }
    }

    /// Decodes `T` from `data`; see ``decode(_:from:)-([UInt8])``.
    package static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        try data.withUnsafeBytes { try decode(type, from: $0) }
    }

    private static func decode<T: Decodable>(_ type: T.Type, from bytes: UnsafeRawBufferPointer) throws -> T {
        if let readable = T.self as? any JSONReadable.Type { return try readable.decodeJSON(from: bytes) as! T }
        return try StableJSONDecoder.decode(type, from: bytes)
    }

    /// Encodes `value` deterministically: the compact form as ``bytes(_:)`` writes it, the pretty form through
    /// `JSONEncoder`.
    package static func encode<T: Encodable>(_ value: T, pretty: Bool = false) throws -> Data {
        if pretty { return try makeEncoder(pretty: true).encode(value) }
        return Data(try bytes(value))
    }

    /// Encodes `value` compactly as bytes (what a Redis argument or an HTTP body takes, without a `Data` copy): a
    /// ``JSONWritable`` value writes itself, any other goes through ``StableJSONEncoder`` (the same bytes as
    /// `makeEncoder()`, several times faster).
    package static func bytes<T: Encodable>(_ value: T) throws -> [UInt8] {
        if let writable = value as? any JSONWritable {
            var writer = JSONWriter()
            try writable.write(to: &writer)
            return writer.bytes
        }
        return try StableJSONEncoder.encode(value)
    }

    /// Appends `text` as a JSON string literal, escaped as the encoder escapes it: `"` and `\\`, control
    /// characters as `\n`, `\t`… or `\u00xx`; everything else, `/` and non-ASCII included, as it is.
    package static func appendString(_ text: String, to output: inout [UInt8]) {
        StableJSONEncoder.appendString(text, to: &output)
    }

    /// Encodes `value` deterministically as a UTF-8 string.
    package static func string<T: Encodable>(_ value: T, pretty: Bool = false) throws -> String {
        if pretty { return String(decoding: try encode(value, pretty: true), as: UTF8.self) }
        return String(decoding: try bytes(value), as: UTF8.self)
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

    /// Appends `date` as ``string(from:)`` writes it, without building a `String` (the JSON writers).
    package static func append(_ date: Date, to bytes: inout [UInt8]) {
        let written: Bool = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { buffer in
            guard let count = write(date, fraction: false, into: buffer) else { return false }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[..<count]))
            return true
        }
        if !written { bytes.append(contentsOf: string(from: date).utf8) }
    }

    private static func format(_ date: Date, fraction: Bool) -> String? {
        var failed = false
        let text = String(unsafeUninitializedCapacity: 24) { buffer in
            guard let count = write(date, fraction: fraction, into: buffer) else {
                failed = true
                return 0
            }
            return count
        }
        return failed ? nil : text
    }

    /// What `Date.ISO8601FormatStyle` writes (milliseconds truncated), without its calendar machinery, which cost a
    /// few per cent of a processed item (every date of every encoded value, every log line), into `buffer` (24
    /// bytes); the count written, or `nil` outside the years 1600–9999 (before the Gregorian reform Foundation's
    /// calendar is Julian), left to the format style.
    private static func write(_ date: Date, fraction: Bool, into buffer: UnsafeMutableBufferPointer<UInt8>) -> Int? {
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

    /// Parses RFC 3339 with or without fractional seconds; a missing zone is read as UTC
    /// (Errorbrain writes `created_at` without one).
    ///
    /// The forms Kubernetes, Errorbrain and Fluxbrain write — `YYYY-MM-DDTHH:MM:SS`, then `.` and digits or not, then
    /// `Z`, `±HH:MM` (up to 14 hours) or nothing, in the years 1600–9999 with every field in range — are read by
    /// hand (``fixedLayoutDate(_:)``); anything else goes through ``foundationDate(from:)``, which decides as
    /// before, so every text gives the date it gave before and is refused where it was refused.
    package static func date(from text: String) -> Date? {
        let fixed = text.utf8.withContiguousStorageIfAvailable { fixedLayoutDate($0) }
        if let fixed, let date = fixed { return date }
        return foundationDate(from: text)
    }

    /// The seconds from 1970 to 2001-01-01, `Date`'s reference date.
    private static let referenceOffset: Int64 = 978_307_200

    private static let powersOfTen: [Double] = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9]

    /// The fixed layout of ``date(from:)``, the same `Date` as ``foundationDate(from:)`` to the bit (its arithmetic:
    /// whole seconds since 2001 plus `digits / 10ⁿ`; without a zone, the fraction cut to milliseconds); `nil`
    /// for anything else (then left to ``foundationDate(from:)``, whether it is a date or not).
    package static func fixedLayoutDate(_ text: UnsafeBufferPointer<UInt8>) -> Date? {
        let count = text.count
        guard count >= 19, text[4] == UInt8(ascii: "-"), text[7] == UInt8(ascii: "-"), text[10] == UInt8(ascii: "T"),
            text[13] == UInt8(ascii: ":"), text[16] == UInt8(ascii: ":")
        else { return nil }
        func number(_ start: Int, _ digits: Int) -> Int64? {
            var value: Int64 = 0
            for index in start..<(start + digits) {
                let digit = text[index] &- UInt8(ascii: "0")
                guard digit < 10 else { return nil }
                value = value * 10 + Int64(digit)
            }
            return value
        }
        guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2), let hour = number(11, 2),
            let minute = number(14, 2), let second = number(17, 2), (1600...9999).contains(year),
            (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year), hour < 24, minute < 60,
            second < 60
        else { return nil }
        // The fraction's digits.
        var index = 19
        var fraction: Int64 = 0
        var fractionDigits = 0
        if index < count, text[index] == UInt8(ascii: ".") {
            index += 1
            while index < count, text[index] &- UInt8(ascii: "0") < 10 {
                if fractionDigits < 18 { fraction = fraction * 10 + Int64(text[index] &- UInt8(ascii: "0")) }
                fractionDigits += 1
                index += 1
            }
            guard fractionDigits > 0 else { return nil }
        }
        // The zone.
        var offset: Int64 = 0
        if index == count {
            // No zone: read as UTC with the fraction cut (or padded) to milliseconds.
            if fractionDigits > 3 {
                var cut = fraction
                for _ in 0..<(min(fractionDigits, 18) - 3) { cut /= 10 }
                fraction = cut
            } else if fractionDigits > 0 {
                for _ in fractionDigits..<3 { fraction *= 10 }
            }
            fractionDigits = fractionDigits > 0 ? 3 : 0
        } else if text[index] == UInt8(ascii: "Z"), index + 1 == count {
            guard fractionDigits <= 9 else { return nil }
        } else if index + 6 == count, text[index] == UInt8(ascii: "+") || text[index] == UInt8(ascii: "-"),
            text[index + 3] == UInt8(ascii: ":"), let hours = number(index + 1, 2), let minutes = number(index + 4, 2),
            hours * 60 + minutes <= 14 * 60, minutes < 60, fractionDigits <= 9
        {
            offset = (hours * 3600 + minutes * 60) * (text[index] == UInt8(ascii: "-") ? -1 : 1)
        } else {
            return nil
        }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset
        var interval = Double(seconds - referenceOffset)
        if fractionDigits > 0 { interval += Double(fraction) / powersOfTen[fractionDigits] }
        return Date(timeIntervalSinceReferenceDate: interval)
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    private static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let year = month <= 2 ? year - 1 : year
        let era = (year >= 0 ? year : year - 399) / 400
        let yearOfEra = year - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// ``date(from:)`` through `Date.ISO8601FormatStyle` alone: what decides every text outside the fixed layout
    /// (and the reference the fixed layout is tested against).
    package static func foundationDate(from text: String) -> Date? {
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
