import Foundation

/// The decoder behind ``StableJSON/decode(_:from:)``: ``FastJSON`` parses the bytes into a ``JSONValue`` tree, and
/// `Decodable` types read it through this `Decoder`; the same values as `StableJSON.makeDecoder()` (`JSONDecoder`
/// with RFC 3339 dates) at a fraction of the cost.
///
/// `JSONDecoder` probes a ``JSONValue`` by trying each type in turn, each failure building a `DecodingError`; a work
/// item's status made that the largest decoding cost of a claim. Here a ``JSONValue`` member is handed over as the
/// parsed tree. What it reproduces, pinned by a differential test against `JSONDecoder`:
/// - integers decode from numbers that are exactly integral (`1`, `1.0`, `1e2`), doubles from any number (one
///   difference: FastJSON keeps a number as `Int64` or `Double`, so a `UInt64` above `Int64.max` is read through
///   `Double` and refused unless exact; Fluxbrain's types have none);
/// - inside a ``JSONValue``, integral numbers within `Int64` are `.int` (as `JSONValue.init(from:)` finds them);
/// - `Date` from an RFC 3339 string (``RFC3339/date(from:)``), `URL` from a string, `Data` from Base64;
/// - a missing key is `DecodingError.keyNotFound`, `null` for a required value `valueNotFound`, a wrong type
///   `typeMismatch`; `decodeIfPresent` gives `nil` for a missing key and for `null`.
struct StableJSONDecoder {
    static func decode<T: Decodable>(_ type: T.Type, from bytes: UnsafeRawBufferPointer) throws -> T {
        let value: JSONValue
        do {
            value = try FastJSON.parse(bytes)
        } catch {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(
                    codingPath: [],
                    debugDescription: "The given data was not valid JSON.",
                    underlyingError: error
                )
            )
        }
        return try TreeDecoder(value, codingPath: []).decodeValue(T.self)
    }
}

private final class TreeDecoder: Decoder {
    let value: JSONValue
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(_ value: JSONValue, codingPath: [any CodingKey]) {
        self.value = value
        self.codingPath = codingPath
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = value else {
            throw Self.mismatch([String: JSONValue].self, value, codingPath)
        }
        return KeyedDecodingContainer(KeyedContainer<Key>(members: members, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else { throw Self.mismatch([JSONValue].self, value, codingPath) }
        return UnkeyedContainer(elements: elements, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleValueContainer(decoder: self)
    }

    /// `T` from this decoder's value: the types `JSONDecoder` reads itself first, then `T.init(from:)`.
    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        if T.self == String.self { return try Self.string(value, codingPath) as! T }
        if T.self == JSONValue.self { return value.normalized as! T }
        if T.self == Int.self { return try Self.integer(Int.self, value, codingPath) as! T }
        if T.self == Int64.self { return try Self.integer(Int64.self, value, codingPath) as! T }
        if T.self == Bool.self { return try Self.bool(value, codingPath) as! T }
        if T.self == Double.self { return try Self.floating(Double.self, value, codingPath) as! T }
        if T.self == Date.self {
            let text = try Self.string(value, codingPath)
            guard let date = RFC3339.date(from: text) else {
                throw DecodingError.dataCorrupted(
                    DecodingError.Context(codingPath: codingPath, debugDescription: "not an RFC 3339 date: \(text)")
                )
            }
            return date as! T
        }
        if T.self == URL.self {
            let text = try Self.string(value, codingPath)
            guard let url = URL(string: text) else {
                throw DecodingError.dataCorrupted(
                    DecodingError.Context(codingPath: codingPath, debugDescription: "Invalid URL string.")
                )
            }
            return url as! T
        }
        if T.self == Data.self {
            guard let data = Data(base64Encoded: try Self.string(value, codingPath)) else {
                throw DecodingError.dataCorrupted(
                    DecodingError.Context(
                        codingPath: codingPath,
                        debugDescription: "Encountered Data is not valid Base64."
                    )
                )
            }
            return data as! T
        }
        return try T(from: self)
    }

    // MARK: Scalars

    static func mismatch(_ type: Any.Type, _ value: JSONValue, _ codingPath: [any CodingKey]) -> DecodingError {
        if case .null = value {
            return DecodingError.valueNotFound(
                type,
                DecodingError.Context(
                    codingPath: codingPath,
                    debugDescription: "Cannot get \(type) -- found null value instead"
                )
            )
        }
        return DecodingError.typeMismatch(
            type,
            DecodingError.Context(
                codingPath: codingPath,
                debugDescription: "Expected to decode \(type) but found \(value) instead."
            )
        )
    }

    static func string(_ value: JSONValue, _ codingPath: [any CodingKey]) throws -> String {
        guard case .string(let text) = value else { throw mismatch(String.self, value, codingPath) }
        return text
    }

    static func bool(_ value: JSONValue, _ codingPath: [any CodingKey]) throws -> Bool {
        guard case .bool(let flag) = value else { throw mismatch(Bool.self, value, codingPath) }
        return flag
    }

    static func integer<I: FixedWidthInteger>(
        _ type: I.Type,
        _ value: JSONValue,
        _ codingPath: [any CodingKey]
    ) throws -> I {
        switch value {
        case .int(let number):
            if let exact = I(exactly: number) { return exact }
        case .double(let number):
            if let exact = I(exactly: number) { return exact }
        default:
            throw mismatch(I.self, value, codingPath)
        }
        throw DecodingError.dataCorrupted(
            DecodingError.Context(
                codingPath: codingPath,
                debugDescription: "Number \(value) does not fit in \(I.self)."
            )
        )
    }

    static func floating<F: BinaryFloatingPoint>(
        _ type: F.Type,
        _ value: JSONValue,
        _ codingPath: [any CodingKey]
    ) throws -> F {
        switch value {
        case .int(let number): return F(number)
        case .double(let number): return F(number)
        default: throw mismatch(F.self, value, codingPath)
        }
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [String: JSONValue]
    let codingPath: [any CodingKey]

    var allKeys: [Key] { members.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { members[key.stringValue] != nil }

    private func member(_ key: Key) throws -> JSONValue {
        guard let value = members[key.stringValue] else {
            throw DecodingError.keyNotFound(
                key,
                DecodingError.Context(
                    codingPath: codingPath,
                    debugDescription: "No value associated with key \(key) (\"\(key.stringValue)\")."
                )
            )
        }
        return value
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        if case .null = try member(key) { return true }
        return false
    }

    func decode(_ type: String.Type, forKey key: Key) throws -> String {
        try TreeDecoder.string(try member(key), codingPath + [key])
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool {
        try TreeDecoder.bool(try member(key), codingPath + [key])
    }

    func decode(_ type: Double.Type, forKey key: Key) throws -> Double {
        try TreeDecoder.floating(type, try member(key), codingPath + [key])
    }

    func decode(_ type: Float.Type, forKey key: Key) throws -> Float {
        try TreeDecoder.floating(type, try member(key), codingPath + [key])
    }

    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try integer(type, key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try integer(type, key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try integer(type, key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try integer(type, key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try integer(type, key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try integer(type, key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try integer(type, key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try integer(type, key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try integer(type, key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try integer(type, key) }

    private func integer<I: FixedWidthInteger>(_ type: I.Type, _ key: Key) throws -> I {
        try TreeDecoder.integer(type, try member(key), codingPath + [key])
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try TreeDecoder(try member(key), codingPath: codingPath + [key]).decodeValue(type)
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let value = members[key.stringValue] else { return nil }
        if case .null = value { return nil }
        return try TreeDecoder(value, codingPath: codingPath + [key]).decodeValue(type)
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type,
        forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try TreeDecoder(try member(key), codingPath: codingPath + [key]).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try TreeDecoder(try member(key), codingPath: codingPath + [key]).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        TreeDecoder(members["super"] ?? .null, codingPath: codingPath)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        TreeDecoder(members[key.stringValue] ?? .null, codingPath: codingPath + [key])
    }
}

private struct UnkeyedContainer: UnkeyedDecodingContainer {
    let elements: [JSONValue]
    let codingPath: [any CodingKey]
    var currentIndex = 0

    init(elements: [JSONValue], codingPath: [any CodingKey]) {
        self.elements = elements
        self.codingPath = codingPath
    }

    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private mutating func next(_ type: Any.Type) throws -> (JSONValue, [any CodingKey]) {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                type,
                DecodingError.Context(
                    codingPath: codingPath + [IndexKey(currentIndex)],
                    debugDescription: "Unkeyed container is at end."
                )
            )
        }
        defer { currentIndex += 1 }
        return (elements[currentIndex], codingPath + [IndexKey(currentIndex)])
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else {
            _ = try next(Never.self)
            return false
        }
        if case .null = elements[currentIndex] {
            currentIndex += 1
            return true
        }
        return false
    }

    mutating func decode(_ type: String.Type) throws -> String {
        let (value, path) = try next(type)
        return try TreeDecoder.string(value, path)
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool {
        let (value, path) = try next(type)
        return try TreeDecoder.bool(value, path)
    }

    mutating func decode(_ type: Double.Type) throws -> Double {
        let (value, path) = try next(type)
        return try TreeDecoder.floating(type, value, path)
    }

    mutating func decode(_ type: Float.Type) throws -> Float {
        let (value, path) = try next(type)
        return try TreeDecoder.floating(type, value, path)
    }

    mutating func decode(_ type: Int.Type) throws -> Int { try integer(type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try integer(type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type) }

    private mutating func integer<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
        let (value, path) = try next(type)
        return try TreeDecoder.integer(type, value, path)
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (value, path) = try next(type)
        return try TreeDecoder(value, codingPath: path).decodeValue(type)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type
    ) throws -> KeyedDecodingContainer<NestedKey> {
        let (value, path) = try next([String: JSONValue].self)
        return try TreeDecoder(value, codingPath: path).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let (value, path) = try next([JSONValue].self)
        return try TreeDecoder(value, codingPath: path).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        let (value, path) = try next(Any.self)
        return TreeDecoder(value, codingPath: path)
    }
}

private struct SingleValueContainer: SingleValueDecodingContainer {
    let decoder: TreeDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool {
        if case .null = decoder.value { return true }
        return false
    }

    func decode(_ type: String.Type) throws -> String { try TreeDecoder.string(decoder.value, codingPath) }
    func decode(_ type: Bool.Type) throws -> Bool { try TreeDecoder.bool(decoder.value, codingPath) }
    func decode(_ type: Double.Type) throws -> Double { try TreeDecoder.floating(type, decoder.value, codingPath) }
    func decode(_ type: Float.Type) throws -> Float { try TreeDecoder.floating(type, decoder.value, codingPath) }
    func decode(_ type: Int.Type) throws -> Int { try TreeDecoder.integer(type, decoder.value, codingPath) }
    func decode(_ type: Int8.Type) throws -> Int8 { try TreeDecoder.integer(type, decoder.value, codingPath) }
    func decode(_ type: Int16.Type) throws -> Int16 { try TreeDecoder.integer(type, decoder.value, codingPath) }
    func decode(_ type: Int32.Type) throws -> Int32 { try TreeDecoder.integer(type, decoder.value, codingPath) }
    func decode(_ type: Int64.Type) throws -> Int64 { try TreeDecoder.integer(type, decoder.value, codingPath) }
    func decode(_ type: UInt.Type) throws -> UInt { try TreeDecoder.integer(type, decoder.value, codingPath) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try TreeDecoder.integer(type, decoder.value, codingPath) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try TreeDecoder.integer(type, decoder.value, codingPath) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try TreeDecoder.integer(type, decoder.value, codingPath) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try TreeDecoder.integer(type, decoder.value, codingPath) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decodeValue(type) }
}

extension JSONValue {
    /// This value as `JSONValue.init(from:)` under `JSONDecoder` gives it: integral numbers within `Int64` as `.int`
    /// (FastJSON keeps `1.0` and `1e2` as `.double`).
    var normalized: JSONValue {
        guard Self.containsIntegralDouble(self) else { return self }
        switch self {
        case .double(let number): return Int64(exactly: number).map(JSONValue.int) ?? self
        case .array(let elements): return .array(elements.map(\.normalized))
        case .object(let members): return .object(members.mapValues(\.normalized))
        case .null, .bool, .int, .string: return self
        }
    }

    private static func containsIntegralDouble(_ value: JSONValue) -> Bool {
        switch value {
        case .double(let number): return Int64(exactly: number) != nil
        case .array(let elements): return elements.contains(where: containsIntegralDouble)
        case .object(let members): return members.values.contains(where: containsIntegralDouble)
        case .null, .bool, .int, .string: return false
        }
    }
}
