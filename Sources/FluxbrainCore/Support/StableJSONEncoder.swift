import Foundation

/// The encoder behind ``StableJSON/encode(_:pretty:)`` (compact form): the same bytes as Foundation's `JSONEncoder`
/// with `[.sortedKeys, .withoutEscapingSlashes]` and RFC 3339 dates, at a fraction of the cost.
///
/// `JSONEncoder` boxes every value, probes its type with dynamic casts and builds a dictionary per object; it was
/// the largest single cost of a processed work item (the item, the Errorbrain event, the cached verdict and the
/// webhook body are each encoded once per item). This one builds a light tree (one reference per object or array,
/// members in the order they were encoded) and writes it in one pass, sorting each object's keys by their UTF-8
/// bytes as `JSONEncoder` does. What it reproduces, pinned by a differential test against `JSONEncoder`:
/// - strings: `"` and `\` escaped, `\b \f \n \r \t`, other control characters as `\u00xx` (lower-case hex),
///   everything else (`/`, non-ASCII, U+2028) as it is;
/// - numbers: integers as their decimal text, `Double`/`Float` as their `description` without a trailing `.0`;
///   non-finite values throw `EncodingError.invalidValue`;
/// - `Date` as ``RFC3339/string(from:)``, `URL` as its `absoluteString`, `Data` as Base64, `Decimal` as a number;
/// - a key encoded twice keeps its last value; `nil` through `encodeIfPresent` leaves the key out.
struct StableJSONEncoder {
    /// Encodes `value` as compact, key-sorted JSON.
    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = TreeEncoder()
        guard let node = try encoder.node(for: value) else {
            throw EncodingError.invalidValue(
                value,
                EncodingError.Context(
                    codingPath: [],
                    debugDescription: "Top-level \(T.self) did not encode any values."
                )
            )
        }
        var output: [UInt8] = []
        output.reserveCapacity(1024)
        node.write(to: &output)
        return output
    }
}

// MARK: - The tree

/// One encoded value.
enum EncodedNode {
    /// Bytes written as they are: numbers, `true`, `false`, `null`.
    case literal(String)
    case string(String)
    case array(EncodedArray)
    case object(EncodedObject)
    /// A ``JSONValue``, written by ``JSONWriter``.
    case json(JSONValue)

    func write(to output: inout [UInt8]) {
        switch self {
        case .literal(let text):
            output.append(contentsOf: text.utf8)
        case .string(let text):
            StableJSONEncoder.appendString(text, to: &output)
        case .array(let array):
            output.append(UInt8(ascii: "["))
            for (index, element) in array.elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                element.write(to: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let object):
            object.write(to: &output)
        case .json(let value):
            var writer = JSONWriter(appending: output)
            output = []
            writer.json(value)
            output = writer.bytes
        }
    }
}

/// An array being encoded (a reference: containers write into it after they were handed out).
final class EncodedArray {
    var elements: [EncodedNode] = []
}

/// An object being encoded: members in encoding order; sorted when written.
final class EncodedObject {
    var keys: [String] = []
    var values: [EncodedNode] = []

    func set(_ key: String, _ value: EncodedNode) {
        keys.append(key)
        values.append(value)
    }

    func write(to output: inout [UInt8]) {
        output.append(UInt8(ascii: "{"))
        switch keys.count {
        case 0:
            break
        case 1:
            StableJSONEncoder.appendString(keys[0], to: &output)
            output.append(UInt8(ascii: ":"))
            values[0].write(to: &output)
        default:
            // By UTF-8 bytes, as JSONEncoder sorts; equal keys by position, so the last one written wins.
            let order = keys.indices.sorted { left, right in
                let (a, b) = (keys[left], keys[right])
                if a == b { return left < right }
                return a.utf8.lexicographicallyPrecedes(b.utf8)
            }
            var first = true
            for (position, index) in order.enumerated() {
                if position + 1 < order.count, keys[order[position + 1]] == keys[index] { continue }
                if !first { output.append(UInt8(ascii: ",")) }
                first = false
                StableJSONEncoder.appendString(keys[index], to: &output)
                output.append(UInt8(ascii: ":"))
                values[index].write(to: &output)
            }
        }
        output.append(UInt8(ascii: "}"))
    }
}

extension StableJSONEncoder {
    /// A JSON string literal, escaped as `JSONEncoder` escapes it (slashes not escaped).
    static func appendString(_ text: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { bytes in
            var clean = 0
            for index in 0..<bytes.count {
                let byte = bytes[index]
                guard byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 else { continue }
                output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[clean..<index]))
                output.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""): output.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): output.append(UInt8(ascii: "\\"))
                case 0x0A: output.append(UInt8(ascii: "n"))
                case 0x0D: output.append(UInt8(ascii: "r"))
                case 0x09: output.append(UInt8(ascii: "t"))
                case 0x08: output.append(UInt8(ascii: "b"))
                case 0x0C: output.append(UInt8(ascii: "f"))
                default:
                    let hex: [UInt8] = Array("0123456789abcdef".utf8)
                    output.append(contentsOf: [
                        UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)],
                    ])
                }
                clean = index + 1
            }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[clean...]))
        }
        output.append(UInt8(ascii: "\""))
    }

    /// A finite floating-point number as `JSONEncoder` writes it: its `description` without a trailing `.0`.
    static func format<F: BinaryFloatingPoint & CustomStringConvertible>(_ number: F) -> String {
        var text = number.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        return text
    }
}

// MARK: - Encoder

/// One encoder for a whole value: nested values swap `storage` and extend `codingPath` while they encode.
private final class TreeEncoder: Encoder {
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    /// What the value being encoded wrote at its top level.
    var storage: EncodedNode?

    /// The node for `value`, or `nil` when it encoded nothing.
    func node<T: Encodable>(for value: T) throws -> EncodedNode? {
        if let node = try Self.primitive(value, codingPath: codingPath) { return node }
        let saved = storage
        storage = nil
        defer { storage = saved }
        try value.encode(to: self)
        return storage
    }

    /// The node for `value` under `key`; an empty object when it encoded nothing (as `JSONEncoder` does).
    func node<T: Encodable>(for value: T, key: any CodingKey) throws -> EncodedNode {
        codingPath.append(key)
        defer { codingPath.removeLast() }
        return try node(for: value) ?? .object(EncodedObject())
    }

    /// Values `JSONEncoder` writes itself rather than through their `Encodable` conformance.
    static func primitive<T: Encodable>(_ value: T, codingPath: [any CodingKey]) throws -> EncodedNode? {
        if T.self == String.self { return .string(value as! String) }
        if T.self == JSONValue.self { return .json(value as! JSONValue) }
        if T.self == Int.self { return .literal(String(value as! Int)) }
        if T.self == Int64.self { return .literal(String(value as! Int64)) }
        if T.self == Bool.self { return .literal((value as! Bool) ? "true" : "false") }
        if T.self == Double.self { return try number(value as! Double, codingPath: codingPath) }
        if T.self == Date.self { return .string(RFC3339.string(from: value as! Date)) }
        if T.self == URL.self { return .string((value as! URL).absoluteString) }
        if T.self == Data.self { return .string((value as! Data).base64EncodedString()) }
        if T.self == Decimal.self { return .literal((value as! Decimal).description) }
        if T.self == Float.self { return try number(value as! Float, codingPath: codingPath) }
        return nil
    }

    static func number<F: BinaryFloatingPoint & CustomStringConvertible>(
        _ value: F,
        codingPath: [any CodingKey]
    ) throws -> EncodedNode {
        guard value.isFinite else {
            throw EncodingError.invalidValue(
                value,
                EncodingError.Context(
                    codingPath: codingPath,
                    debugDescription: "Unable to encode \(F.self).\(value) directly in JSON."
                )
            )
        }
        return .literal(StableJSONEncoder.format(value))
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let object: EncodedObject
        if case .object(let existing) = storage {
            object = existing
        } else {
            object = EncodedObject()
            storage = .object(object)
        }
        return KeyedEncodingContainer(KeyedContainer<Key>(encoder: self, object: object, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let array: EncodedArray
        if case .array(let existing) = storage {
            array = existing
        } else {
            array = EncodedArray()
            storage = .array(array)
        }
        return UnkeyedContainer(encoder: self, array: array, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleValueContainer(encoder: self, codingPath: codingPath)
    }
}

/// Where a `superEncoder` writes: the parent's object member or array slot, once the sub-encoder is done.
private final class ReferencingEncoder: Encoder {
    enum Slot {
        case member(EncodedObject, String)
        case element(EncodedArray, Int)
    }

    let inner = TreeEncoder()
    let slot: Slot
    var codingPath: [any CodingKey] { inner.codingPath }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(slot: Slot, codingPath: [any CodingKey]) {
        self.slot = slot
        inner.codingPath = codingPath
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        inner.container(keyedBy: type)
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer { inner.unkeyedContainer() }

    func singleValueContainer() -> any SingleValueEncodingContainer { inner.singleValueContainer() }

    deinit {
        let node = inner.storage ?? .object(EncodedObject())
        switch slot {
        case .member(let object, let key): object.set(key, node)
        case .element(let array, let index): array.elements[index] = node
        }
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: TreeEncoder
    let object: EncodedObject
    let codingPath: [any CodingKey]

    mutating func encodeNil(forKey key: Key) throws { object.set(key.stringValue, .literal("null")) }
    mutating func encode(_ value: Bool, forKey key: Key) throws {
        object.set(key.stringValue, .literal(value ? "true" : "false"))
    }
    mutating func encode(_ value: String, forKey key: Key) throws { object.set(key.stringValue, .string(value)) }
    mutating func encode(_ value: Double, forKey key: Key) throws {
        object.set(key.stringValue, try TreeEncoder.number(value, codingPath: codingPath + [key]))
    }
    mutating func encode(_ value: Float, forKey key: Key) throws {
        object.set(key.stringValue, try TreeEncoder.number(value, codingPath: codingPath + [key]))
    }
    mutating func encode(_ value: Int, forKey key: Key) throws { object.set(key.stringValue, .literal(String(value))) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { object.set(key.stringValue, .literal(String(value))) }
    mutating func encode(_ value: Int16, forKey key: Key) throws {
        object.set(key.stringValue, .literal(String(value)))
    }
    mutating func encode(_ value: Int32, forKey key: Key) throws {
        object.set(key.stringValue, .literal(String(value)))
    }
    mutating func encode(_ value: Int64, forKey key: Key) throws {
        object.set(key.stringValue, .literal(String(value)))
    }
    mutating func encode(_ value: UInt, forKey key: Key) throws { object.set(key.stringValue, .literal(String(value))) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws {
        object.set(key.stringValue, .literal(String(value)))
    }
    mutating func encode(_ value: UInt16, forKey key: Key) throws {
        object.set(key.stringValue, .literal(String(value)))
    }
    mutating func encode(_ value: UInt32, forKey key: Key) throws {
        object.set(key.stringValue, .literal(String(value)))
    }
    mutating func encode(_ value: UInt64, forKey key: Key) throws {
        object.set(key.stringValue, .literal(String(value)))
    }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        object.set(key.stringValue, try encoder.node(for: value, key: key))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type,
        forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        let nested = EncodedObject()
        object.set(key.stringValue, .object(nested))
        return KeyedEncodingContainer(
            KeyedContainer<NestedKey>(encoder: encoder, object: nested, codingPath: codingPath + [key])
        )
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let nested = EncodedArray()
        object.set(key.stringValue, .array(nested))
        return UnkeyedContainer(encoder: encoder, array: nested, codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder {
        ReferencingEncoder(slot: .member(object, "super"), codingPath: codingPath)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        ReferencingEncoder(slot: .member(object, key.stringValue), codingPath: codingPath + [key])
    }
}

/// An array index as a coding key (for coding paths in errors), for ``StableJSONEncoder`` and ``StableJSONDecoder``.
struct IndexKey: CodingKey {
    var stringValue: String { "Index \(index)" }
    var intValue: Int? { index }
    let index: Int
    init(_ index: Int) { self.index = index }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.index = intValue }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let encoder: TreeEncoder
    let array: EncodedArray
    let codingPath: [any CodingKey]
    var count: Int { array.elements.count }

    mutating func encodeNil() throws { array.elements.append(.literal("null")) }
    mutating func encode(_ value: Bool) throws { array.elements.append(.literal(value ? "true" : "false")) }
    mutating func encode(_ value: String) throws { array.elements.append(.string(value)) }
    mutating func encode(_ value: Double) throws {
        array.elements.append(try TreeEncoder.number(value, codingPath: codingPath + [IndexKey(count)]))
    }
    mutating func encode(_ value: Float) throws {
        array.elements.append(try TreeEncoder.number(value, codingPath: codingPath + [IndexKey(count)]))
    }
    mutating func encode(_ value: Int) throws { array.elements.append(.literal(String(value))) }
    mutating func encode(_ value: Int8) throws { array.elements.append(.literal(String(value))) }
    mutating func encode(_ value: Int16) throws { array.elements.append(.literal(String(value))) }
    mutating func encode(_ value: Int32) throws { array.elements.append(.literal(String(value))) }
    mutating func encode(_ value: Int64) throws { array.elements.append(.literal(String(value))) }
    mutating func encode(_ value: UInt) throws { array.elements.append(.literal(String(value))) }
    mutating func encode(_ value: UInt8) throws { array.elements.append(.literal(String(value))) }
    mutating func encode(_ value: UInt16) throws { array.elements.append(.literal(String(value))) }
    mutating func encode(_ value: UInt32) throws { array.elements.append(.literal(String(value))) }
    mutating func encode(_ value: UInt64) throws { array.elements.append(.literal(String(value))) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        array.elements.append(try encoder.node(for: value, key: IndexKey(count)))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type
    ) -> KeyedEncodingContainer<NestedKey> {
        let nested = EncodedObject()
        let key = IndexKey(count)
        array.elements.append(.object(nested))
        return KeyedEncodingContainer(
            KeyedContainer<NestedKey>(encoder: encoder, object: nested, codingPath: codingPath + [key])
        )
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let nested = EncodedArray()
        let key = IndexKey(count)
        array.elements.append(.array(nested))
        return UnkeyedContainer(encoder: encoder, array: nested, codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder {
        let index = count
        array.elements.append(.object(EncodedObject()))
        return ReferencingEncoder(slot: .element(array, index), codingPath: codingPath + [IndexKey(index)])
    }
}

private struct SingleValueContainer: SingleValueEncodingContainer {
    let encoder: TreeEncoder
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { encoder.storage = .literal("null") }
    mutating func encode(_ value: Bool) throws { encoder.storage = .literal(value ? "true" : "false") }
    mutating func encode(_ value: String) throws { encoder.storage = .string(value) }
    mutating func encode(_ value: Double) throws {
        encoder.storage = try TreeEncoder.number(value, codingPath: codingPath)
    }
    mutating func encode(_ value: Float) throws {
        encoder.storage = try TreeEncoder.number(value, codingPath: codingPath)
    }
    mutating func encode(_ value: Int) throws { encoder.storage = .literal(String(value)) }
    mutating func encode(_ value: Int8) throws { encoder.storage = .literal(String(value)) }
    mutating func encode(_ value: Int16) throws { encoder.storage = .literal(String(value)) }
    mutating func encode(_ value: Int32) throws { encoder.storage = .literal(String(value)) }
    mutating func encode(_ value: Int64) throws { encoder.storage = .literal(String(value)) }
    mutating func encode(_ value: UInt) throws { encoder.storage = .literal(String(value)) }
    mutating func encode(_ value: UInt8) throws { encoder.storage = .literal(String(value)) }
    mutating func encode(_ value: UInt16) throws { encoder.storage = .literal(String(value)) }
    mutating func encode(_ value: UInt32) throws { encoder.storage = .literal(String(value)) }
    mutating func encode(_ value: UInt64) throws { encoder.storage = .literal(String(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        encoder.storage = try encoder.node(for: value) ?? .object(EncodedObject())
    }
}
