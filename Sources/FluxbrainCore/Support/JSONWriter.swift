import Foundation

/// Writes compact JSON straight into bytes, without building a tree: what the hot per-item types (the work item and
/// its incident, the analysis result, the Errorbrain event, the webhook payload) write themselves with
/// (``JSONWritable``), byte for byte what ``StableJSON`` writes for them through `Codable`.
///
/// The writer separates values itself: a `,` goes before every value or key that follows another in the same object
/// or array. Each type writes its keys in sorted order (by UTF-8 bytes, as ``StableJSON`` sorts them); key names
/// are written as given and must not need escaping. Strings are escaped as ``StableJSON/appendString(_:to:)``
/// escapes them, numbers and dates written as ``StableJSON`` writes them.
package struct JSONWriter {
    /// The JSON written so far.
    package private(set) var bytes: [UInt8]
    /// A value ended last: the next value or key needs a `,` first.
    private var needsComma = false

    package init(capacity: Int = 1024) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Goes on after `bytes` (which end with a complete value or a key, or are empty).
    init(appending bytes: [UInt8]) {
        self.bytes = bytes
    }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    package mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    package mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    package mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    package mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// `"name":`; `name` must not need escaping (the writer's own types' keys).
    package mutating func key(_ name: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    /// A key of a map (escaped like any string).
    package mutating func key(_ name: String) {
        separate()
        StableJSONEncoder.appendString(name, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    package mutating func string(_ text: String) {
        separate()
        StableJSONEncoder.appendString(text, to: &bytes)
        needsComma = true
    }

    package mutating func null() {
        raw("null")
    }

    package mutating func bool(_ flag: Bool) {
        raw(flag ? "true" : "false")
    }

    package mutating func int(_ number: Int64) {
        separate()
        if number >= 0 && number < 10 {
            bytes.append(UInt8(ascii: "0") + UInt8(number))
        } else {
            bytes.append(contentsOf: String(number).utf8)
        }
        needsComma = true
    }

    /// A finite number as ``StableJSON`` writes it (its `description` without a trailing `.0`); throws
    /// `EncodingError.invalidValue` for NaN and infinities, as ``StableJSON`` does.
    package mutating func double(_ number: Double) throws {
        guard number.isFinite else {
            throw EncodingError.invalidValue(
                number,
                EncodingError.Context(
                    codingPath: [],
                    debugDescription: "Unable to encode Double.\(number) directly in JSON."
                )
            )
        }
        separate()
        bytes.append(contentsOf: StableJSONEncoder.format(number).utf8)
        needsComma = true
    }

    /// A date as ``RFC3339/string(from:)`` writes it.
    package mutating func date(_ date: Date) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        RFC3339.append(date, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    /// A ``JSONValue``, each object's keys sorted by their UTF-8 bytes (as ``StableJSON`` sorts them). Numbers are
    /// written as they are, as ``StableJSON`` writes a `JSONValue`.
    package mutating func json(_ value: JSONValue) {
        switch value {
        case .null: null()
        case .bool(let flag): bool(flag)
        case .int(let number): int(number)
        case .double(let number):
            separate()
            bytes.append(contentsOf: StableJSONEncoder.format(number).utf8)
            needsComma = true
        case .string(let text): string(text)
        case .array(let elements):
            beginArray()
            for element in elements { json(element) }
            endArray()
        case .object(let members):
            object(members)
        }
    }

    /// An object of ``JSONValue``s, keys sorted by their UTF-8 bytes.
    package mutating func object(_ members: [String: JSONValue]) {
        beginObject()
        for name in Self.sortedKeys(members) {
            key(name)
            json(members[name]!)
        }
        endObject()
    }

    /// The keys of `map` in the order ``StableJSON`` writes them: by their UTF-8 bytes.
    static func sortedKeys<Value>(_ map: [String: Value]) -> [String] {
        sortedByUTF8(Array(map.keys))
    }

    /// `keys` sorted by their UTF-8 bytes. Not generic, so the sort is specialized even when ``sortedKeys(_:)`` is
    /// called for a value type only known at run time (a dictionary written from another module).
    private static func sortedByUTF8(_ keys: [String]) -> [String] {
        keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    private mutating func raw(_ text: StaticString) {
        separate()
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
        needsComma = true
    }
}

/// A type that writes its own JSON with a ``JSONWriter``: exactly the bytes its `Encodable` conformance gives under
/// ``StableJSON`` (pinned by differential tests), without the `Codable` machinery. ``StableJSON/bytes(_:)`` and
/// ``StableJSON/encode(_:pretty:)`` (compact) use it whenever the value conforms.
package protocol JSONWritable {
    /// Writes the value (one JSON value) to `writer`.
    func write(to writer: inout JSONWriter) throws
}

extension JSONWriter {
    /// `value` under `key`.
    package mutating func member<T: JSONWritable>(_ key: StaticString, _ value: T) throws {
        self.key(key)
        try value.write(to: &self)
    }

    /// `value` under `key`, the key left out when `value` is `nil` (`Codable`'s `encodeIfPresent`).
    package mutating func member<T: JSONWritable>(_ key: StaticString, ifPresent value: T?) throws {
        guard let value else { return }
        self.key(key)
        try value.write(to: &self)
    }

    /// `value` under `key`, `null` when it is `nil` (`Codable`'s `encode` of an optional).
    package mutating func member<T: JSONWritable>(_ key: StaticString, orNull value: T?) throws {
        self.key(key)
        if let value { try value.write(to: &self) } else { null() }
    }
}

extension String: JSONWritable {
    package func write(to writer: inout JSONWriter) { writer.string(self) }
}

extension Int64: JSONWritable {
    package func write(to writer: inout JSONWriter) { writer.int(self) }
}

extension Int: JSONWritable {
    package func write(to writer: inout JSONWriter) { writer.int(Int64(self)) }
}

extension Bool: JSONWritable {
    package func write(to writer: inout JSONWriter) { writer.bool(self) }
}

extension Double: JSONWritable {
    package func write(to writer: inout JSONWriter) throws { try writer.double(self) }
}

extension Date: JSONWritable {
    package func write(to writer: inout JSONWriter) { writer.date(self) }
}

extension JSONValue: JSONWritable {
    package func write(to writer: inout JSONWriter) { writer.json(self) }
}

extension Array: JSONWritable where Element: JSONWritable {
    package func write(to writer: inout JSONWriter) throws {
        writer.beginArray()
        for element in self { try element.write(to: &writer) }
        writer.endArray()
    }
}

extension Dictionary: JSONWritable where Key == String, Value: JSONWritable {
    /// Keys sorted by their UTF-8 bytes.
    package func write(to writer: inout JSONWriter) throws {
        writer.beginObject()
        for name in JSONWriter.sortedKeys(self) {
            writer.key(name)
            try self[name]!.write(to: &writer)
        }
        writer.endObject()
    }
}

extension RawRepresentable where Self: JSONWritable, RawValue == String {
    /// The raw value as a string (what `Codable` writes for a `String` enum).
    package func write(to writer: inout JSONWriter) { writer.string(rawValue) }
}
