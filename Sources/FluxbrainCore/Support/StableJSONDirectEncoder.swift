import Foundation

/// ``StableJSONEncoder``'s fast path: writes a value's JSON into one byte array while the value encodes itself, with
/// no tree in between.
///
/// The containers a value asks for nest like its JSON: a member's value is complete when `encode(_:forKey:)`
/// returns, and a nested container is complete when its parent writes its next member or closes. The open objects
/// and arrays are a stack of ``Frame``s; writing to a container closes the frames above its own. An object whose keys
/// came in ascending order of their bytes (ASCII keys, so byte order and `String` equality agree) is already in
/// `JSONEncoder`'s order when it closes; any other object has its members' bytes reordered then, as
/// ``StableJSONEncoder/memberOrder(_:)`` orders them. Anything else (a `superEncoder`, a write to a container that
/// has closed, a second container of another kind for one value, an error thrown) gives up: ``encode(_:)`` returns
/// `nil` and the caller encodes through the tree.
package final class DirectEncoder: Encoder {
    /// An open object or array.
    struct Frame {
        /// Identifies the frame to the containers that write into it.
        var id: Int
        var isObject: Bool
        /// Where its `{` or `[` is.
        var start: Int
        var count = 0
        /// The keys, and where each member (its key's opening quote) starts, in the order they came.
        var keys: [String] = []
        var offsets: [Int] = []
        /// `true` while every key is ASCII and greater than the one before.
        var inOrder = true
    }

    /// What the value being encoded at the current level has written.
    enum Level {
        case nothing
        case frame(id: Int, isObject: Bool)
        case single
    }

    package var codingPath: [any CodingKey] = []
    package var userInfo: [CodingUserInfoKey: Any] { [:] }
    var output: [UInt8] = []
    var frames: [Frame] = []
    var level = Level.nothing
    var nextID = 0
    /// Set when the value did something this encoder does not reproduce.
    var failed = false

    /// The JSON of `value`, or `nil` when the tree encoder must do it (see the type's documentation).
    package static func encode<T: Encodable>(_ value: T) -> [UInt8]? {
        let encoder = DirectEncoder()
        encoder.output.reserveCapacity(1024)
        do {
            guard try encoder.writeValue(value, emptyAsObject: false), !encoder.failed else { return nil }
        } catch {
            return nil
        }
        return encoder.output
    }

    // MARK: Values

    /// Writes `value` at the current position; `false` when it wrote nothing (then an empty object if
    /// `emptyAsObject`, as `JSONEncoder` writes for a nested value).
    @discardableResult
    func writeValue<T: Encodable>(_ value: T, emptyAsObject: Bool = true) throws -> Bool {
        if try writePrimitive(value) { return true }
        let savedLevel = level
        let depth = frames.count
        level = .nothing
        defer { level = savedLevel }
        try value.encode(to: self)
        close(downTo: depth)
        if case .nothing = level {
            if emptyAsObject { output.append(contentsOf: [UInt8(ascii: "{"), UInt8(ascii: "}")]) }
            return false
        }
        return true
    }

    /// Values `JSONEncoder` writes itself rather than through their `Encodable` conformance.
    func writePrimitive<T: Encodable>(_ value: T) throws -> Bool {
        if T.self == String.self {
            StableJSONEncoder.appendString(value as! String, to: &output)
        } else if T.self == JSONValue.self {
            StableJSONEncoder.append(value as! JSONValue, to: &output)
        } else if T.self == Int.self {
            writeInteger(value as! Int)
        } else if T.self == Int64.self {
            writeInteger(value as! Int64)
        } else if T.self == Bool.self {
            writeBool(value as! Bool)
        } else if T.self == Double.self {
            try writeNumber(value as! Double)
        } else if T.self == Date.self {
            StableJSONEncoder.appendString(RFC3339.string(from: value as! Date), to: &output)
        } else if T.self == URL.self {
            StableJSONEncoder.appendString((value as! URL).absoluteString, to: &output)
        } else if T.self == Data.self {
            StableJSONEncoder.appendString((value as! Data).base64EncodedString(), to: &output)
        } else if T.self == Decimal.self {
            output.append(contentsOf: (value as! Decimal).description.utf8)
        } else if T.self == Float.self {
            try writeNumber(value as! Float)
        } else {
            return false
        }
        return true
    }

    func writeInteger<I: BinaryInteger>(_ value: I) {
        output.append(contentsOf: String(value).utf8)
    }

    func writeBool(_ value: Bool) {
        output.append(contentsOf: value ? "true".utf8 : "false".utf8)
    }

    func writeNull() {
        output.append(contentsOf: "null".utf8)
    }

    /// A finite number; the tree encoder throws the error for the others.
    func writeNumber<F: BinaryFloatingPoint & CustomStringConvertible>(_ value: F) throws {
        guard value.isFinite else {
            failed = true
            throw Refused()
        }
        output.append(contentsOf: StableJSONEncoder.format(value).utf8)
    }

    struct Refused: Error {}

    // MARK: Frames

    /// Opens an object or array for the value at the current level, or returns the one it already has.
    func frameForValue(isObject: Bool) -> Int {
        switch level {
        case .frame(let id, let existing):
            if existing != isObject || !frames.contains(where: { $0.id == id }) { failed = true }
            return id
        case .single:
            failed = true
            return -1
        case .nothing:
            let id = open(isObject: isObject)
            level = .frame(id: id, isObject: isObject)
            return id
        }
    }

    /// Pushes a new frame and writes its opening bracket.
    func open(isObject: Bool) -> Int {
        nextID += 1
        frames.append(Frame(id: nextID, isObject: isObject, start: output.count))
        output.append(isObject ? UInt8(ascii: "{") : UInt8(ascii: "["))
        return nextID
    }

    /// Closes the frames above frame `id` and writes the separator and, in an object, the key of its next member;
    /// `false` (and gives up) when the frame has closed.
    func beginMember(of id: Int, key: String?) -> Bool {
        guard !failed, let index = frames.lastIndex(where: { $0.id == id }) else {
            failed = true
            return false
        }
        close(downTo: index + 1)
        if frames[index].count > 0 { output.append(UInt8(ascii: ",")) }
        frames[index].count += 1
        if let key {
            if frames[index].inOrder {
                let previous = frames[index].keys.last
                frames[index].inOrder =
                    key.utf8.allSatisfy { $0 < 0x80 }
                    && (previous.map { $0.utf8.lexicographicallyPrecedes(key.utf8) } ?? true)
            }
            frames[index].keys.append(key)
            frames[index].offsets.append(output.count)
            StableJSONEncoder.appendString(key, to: &output)
            output.append(UInt8(ascii: ":"))
        }
        return true
    }

    /// Closes frames until `depth` are left: reorders an object's members if they came out of order, then writes
    /// the closing bracket.
    func close(downTo depth: Int) {
        while frames.count > depth {
            let frame = frames.removeLast()
            if frame.isObject, !frame.inOrder { reorder(frame) }
            output.append(frame.isObject ? UInt8(ascii: "}") : UInt8(ascii: "]"))
        }
    }

    /// Rewrites the members of `frame` (everything after its `{`) in `JSONEncoder`'s order.
    private func reorder(_ frame: Frame) {
        let body = Array(output[(frame.start + 1)...])
        let base = frame.start + 1
        output.removeSubrange(base...)
        let count = frame.offsets.count
        var first = true
        for index in StableJSONEncoder.memberOrder(frame.keys) {
            let lower = frame.offsets[index] - base
            // Up to the comma before the next member, or to the end.
            let upper = index + 1 < count ? frame.offsets[index + 1] - base - 1 : body.count
            if !first { output.append(UInt8(ascii: ",")) }
            first = false
            output.append(contentsOf: body[lower..<upper])
        }
    }

    // MARK: Encoder

    package func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let id = frameForValue(isObject: true)
        return KeyedEncodingContainer(DirectKeyedContainer<Key>(encoder: self, frame: id, codingPath: codingPath))
    }

    package func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let id = frameForValue(isObject: false)
        return DirectUnkeyedContainer(encoder: self, frame: id, codingPath: codingPath)
    }

    package func singleValueContainer() -> any SingleValueEncodingContainer {
        DirectSingleValueContainer(encoder: self, codingPath: codingPath)
    }

    /// Starts the single value of the current level; `false` (and gives up) if it has one or a container.
    func beginSingleValue() -> Bool {
        guard case .nothing = level, !failed else {
            failed = true
            return false
        }
        level = .single
        return true
    }

    /// Encodes `value` as a nested value under `key` (for the coding path).
    func writeNested<T: Encodable>(_ value: T, key: any CodingKey) throws {
        codingPath.append(key)
        defer { codingPath.removeLast() }
        try writeValue(value)
    }
}

private struct DirectKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: DirectEncoder
    let frame: Int
    let codingPath: [any CodingKey]

    private func begin(_ key: Key) -> Bool {
        encoder.beginMember(of: frame, key: key.stringValue)
    }

    mutating func encodeNil(forKey key: Key) throws { if begin(key) { encoder.writeNull() } }
    mutating func encode(_ value: Bool, forKey key: Key) throws { if begin(key) { encoder.writeBool(value) } }
    mutating func encode(_ value: String, forKey key: Key) throws {
        if begin(key) { StableJSONEncoder.appendString(value, to: &encoder.output) }
    }
    mutating func encode(_ value: Double, forKey key: Key) throws { if begin(key) { try encoder.writeNumber(value) } }
    mutating func encode(_ value: Float, forKey key: Key) throws { if begin(key) { try encoder.writeNumber(value) } }
    mutating func encode(_ value: Int, forKey key: Key) throws { if begin(key) { encoder.writeInteger(value) } }
    mutating func encode(_ value: Int8, forKey key: Key) throws { if begin(key) { encoder.writeInteger(value) } }
    mutating func encode(_ value: Int16, forKey key: Key) throws { if begin(key) { encoder.writeInteger(value) } }
    mutating func encode(_ value: Int32, forKey key: Key) throws { if begin(key) { encoder.writeInteger(value) } }
    mutating func encode(_ value: Int64, forKey key: Key) throws { if begin(key) { encoder.writeInteger(value) } }
    mutating func encode(_ value: UInt, forKey key: Key) throws { if begin(key) { encoder.writeInteger(value) } }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { if begin(key) { encoder.writeInteger(value) } }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { if begin(key) { encoder.writeInteger(value) } }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { if begin(key) { encoder.writeInteger(value) } }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { if begin(key) { encoder.writeInteger(value) } }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        if begin(key) { try encoder.writeNested(value, key: key) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type,
        forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        let id = begin(key) ? encoder.open(isObject: true) : -1
        return KeyedEncodingContainer(
            DirectKeyedContainer<NestedKey>(encoder: encoder, frame: id, codingPath: codingPath + [key])
        )
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let id = begin(key) ? encoder.open(isObject: false) : -1
        return DirectUnkeyedContainer(encoder: encoder, frame: id, codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder {
        encoder.failed = true
        return encoder
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        encoder.failed = true
        return encoder
    }
}

private struct DirectUnkeyedContainer: UnkeyedEncodingContainer {
    let encoder: DirectEncoder
    let frame: Int
    let codingPath: [any CodingKey]
    var count = 0

    init(encoder: DirectEncoder, frame: Int, codingPath: [any CodingKey]) {
        self.encoder = encoder
        self.frame = frame
        self.codingPath = codingPath
        self.count = encoder.frames.last(where: { $0.id == frame })?.count ?? 0
    }

    private mutating func begin() -> Bool {
        count += 1
        return encoder.beginMember(of: frame, key: nil)
    }

    mutating func encodeNil() throws { if begin() { encoder.writeNull() } }
    mutating func encode(_ value: Bool) throws { if begin() { encoder.writeBool(value) } }
    mutating func encode(_ value: String) throws {
        if begin() { StableJSONEncoder.appendString(value, to: &encoder.output) }
    }
    mutating func encode(_ value: Double) throws { if begin() { try encoder.writeNumber(value) } }
    mutating func encode(_ value: Float) throws { if begin() { try encoder.writeNumber(value) } }
    mutating func encode(_ value: Int) throws { if begin() { encoder.writeInteger(value) } }
    mutating func encode(_ value: Int8) throws { if begin() { encoder.writeInteger(value) } }
    mutating func encode(_ value: Int16) throws { if begin() { encoder.writeInteger(value) } }
    mutating func encode(_ value: Int32) throws { if begin() { encoder.writeInteger(value) } }
    mutating func encode(_ value: Int64) throws { if begin() { encoder.writeInteger(value) } }
    mutating func encode(_ value: UInt) throws { if begin() { encoder.writeInteger(value) } }
    mutating func encode(_ value: UInt8) throws { if begin() { encoder.writeInteger(value) } }
    mutating func encode(_ value: UInt16) throws { if begin() { encoder.writeInteger(value) } }
    mutating func encode(_ value: UInt32) throws { if begin() { encoder.writeInteger(value) } }
    mutating func encode(_ value: UInt64) throws { if begin() { encoder.writeInteger(value) } }
    mutating func encode<T: Encodable>(_ value: T) throws {
        let key = IndexKey(count)
        if begin() { try encoder.writeNested(value, key: key) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type
    ) -> KeyedEncodingContainer<NestedKey> {
        let key = IndexKey(count)
        let id = begin() ? encoder.open(isObject: true) : -1
        return KeyedEncodingContainer(
            DirectKeyedContainer<NestedKey>(encoder: encoder, frame: id, codingPath: codingPath + [key])
        )
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let key = IndexKey(count)
        let id = begin() ? encoder.open(isObject: false) : -1
        return DirectUnkeyedContainer(encoder: encoder, frame: id, codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder {
        encoder.failed = true
        return encoder
    }
}

private struct DirectSingleValueContainer: SingleValueEncodingContainer {
    let encoder: DirectEncoder
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { if encoder.beginSingleValue() { encoder.writeNull() } }
    mutating func encode(_ value: Bool) throws { if encoder.beginSingleValue() { encoder.writeBool(value) } }
    mutating func encode(_ value: String) throws {
        if encoder.beginSingleValue() { StableJSONEncoder.appendString(value, to: &encoder.output) }
    }
    mutating func encode(_ value: Double) throws { if encoder.beginSingleValue() { try encoder.writeNumber(value) } }
    mutating func encode(_ value: Float) throws { if encoder.beginSingleValue() { try encoder.writeNumber(value) } }
    mutating func encode(_ value: Int) throws { if encoder.beginSingleValue() { encoder.writeInteger(value) } }
    mutating func encode(_ value: Int8) throws { if encoder.beginSingleValue() { encoder.writeInteger(value) } }
    mutating func encode(_ value: Int16) throws { if encoder.beginSingleValue() { encoder.writeInteger(value) } }
    mutating func encode(_ value: Int32) throws { if encoder.beginSingleValue() { encoder.writeInteger(value) } }
    mutating func encode(_ value: Int64) throws { if encoder.beginSingleValue() { encoder.writeInteger(value) } }
    mutating func encode(_ value: UInt) throws { if encoder.beginSingleValue() { encoder.writeInteger(value) } }
    mutating func encode(_ value: UInt8) throws { if encoder.beginSingleValue() { encoder.writeInteger(value) } }
    mutating func encode(_ value: UInt16) throws { if encoder.beginSingleValue() { encoder.writeInteger(value) } }
    mutating func encode(_ value: UInt32) throws { if encoder.beginSingleValue() { encoder.writeInteger(value) } }
    mutating func encode(_ value: UInt64) throws { if encoder.beginSingleValue() { encoder.writeInteger(value) } }
    mutating func encode<T: Encodable>(_ value: T) throws {
        if encoder.beginSingleValue() { try encoder.writeValue(value) }
    }
}
