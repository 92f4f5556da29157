import Foundation

/// A small, fast JSON parser producing ``JSONValue`` directly from bytes, without `Codable`.
///
/// `JSONDecoder` with `Codable` types spends most of its time building coding paths and discarded errors when a
/// value's shape has to be probed (as for `JSONValue`); Kubernetes lists are large, so Fluxbrain parses them with
/// this (its ``JSONScanner``) instead and maps the few fields it reads by hand (`FluxObject.scan(_:)`, `init(json:)`). Numbers without fraction or
/// exponent that fit in `Int64` become `.int`, others `.double`; invalid UTF-8 is replaced, not refused; nesting
/// deeper than 512 levels is refused.
package enum FastJSON {
    /// Where and why the text is not JSON.
    package struct SyntaxError: Error, CustomStringConvertible, Sendable {
        package var offset: Int
        package var message: String
        package var description: String { "invalid JSON at byte \(offset): \(message)" }
    }

    /// Which members of objects to keep: `.all`, or only the named members (each with its own selection; members
    /// not named are skipped without being built). A selection applies to every element of an array.
    package indirect enum Selection: Sendable {
        case all
        case members([String: Selection])
    }

    /// Parses the bytes `range` of `bytes` (a value whose place a ``JSONScanner`` noted).
    package static func parse(
        _ bytes: UnsafeRawBufferPointer,
        range: Range<Int>,
        selecting selection: Selection = .all
    ) throws -> JSONValue {
        precondition(range.lowerBound >= 0 && range.upperBound <= bytes.count)
        return try parse(UnsafeRawBufferPointer(rebasing: bytes[range]), selecting: selection)
    }

    /// Parses one JSON document (surrounding whitespace allowed), keeping what `selection` selects. Skipped parts
    /// are still checked to be well-formed.
    package static func parse(
        _ bytes: UnsafeRawBufferPointer,
        selecting selection: Selection = .all
    ) throws -> JSONValue {
        var scanner = try JSONScanner(bytes)
        let value = try scanner.value(selection)
        try scanner.expectEnd()
        return value
    }

    /// Parses `data`.
    package static func parse(_ data: Data) throws -> JSONValue {
        try data.withUnsafeBytes { try parse($0) }
    }

    /// Parses `bytes`.
    package static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        try bytes.withUnsafeBytes { try parse($0) }
    }
}
