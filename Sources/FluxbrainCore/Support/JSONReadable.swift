import Foundation

/// A type that reads itself from a ``JSONScanner`` (the other half of ``JSONWritable``): the same values its
/// `Decodable` conformance gives under ``StableJSON`` (pinned by differential tests), straight from the bytes, without
/// a ``JSONValue`` tree or the `Codable` machinery. ``StableJSON/decode(_:from:)-([UInt8])`` uses it whenever the
/// type conforms.
///
/// What it keeps of `Decodable` under ``StableJSON``: unknown members are skipped (still checked to be
/// well-formed), a member given twice keeps its last value, `null` or a missing key is `nil` for an optional, a
/// missing required key is `DecodingError.keyNotFound`, `null` for a required value `valueNotFound`, a value of the
/// wrong type `typeMismatch` (both with the coding path), a number that does not fit `dataCorrupted`, bytes that
/// are not JSON `dataCorrupted` with the ``FastJSON/SyntaxError`` (offset and reason) as its underlying error.
package protocol JSONReadable {
    /// Reads the value at `scanner`, which is not `null` (``JSONScanner/read(_:)`` handles `null`).
    init(reading scanner: inout JSONScanner) throws
}

extension JSONReadable {
    /// Reads one whole JSON document as this type. Throws `DecodingError`.
    package static func decodeJSON(from bytes: UnsafeRawBufferPointer) throws -> Self {
        do {
            var scanner = try JSONScanner(bytes)
            let value = try scanner.require(Self.self)
            try scanner.expectEnd()
            return value
        } catch let error as FastJSON.SyntaxError {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(
                    codingPath: [],
                    debugDescription: "The given data was not valid JSON.",
                    underlyingError: error
                )
            )
        } catch {
            throw JSONScanner.decodingError(error, at: nil)
        }
    }
}

/// A member name as a coding key (for the coding paths of errors).
struct NameKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension JSONScanner {
    /// The value of type `T`, `nil` for `null`.
    package mutating func read<T: JSONReadable>(_ type: T.Type) throws -> T? {
        if try skipNull() { return nil }
        return try T(reading: &self)
    }

    /// The value of type `T`; `null` is `DecodingError.valueNotFound`.
    package mutating func require<T: JSONReadable>(_ type: T.Type) throws -> T {
        guard let value = try read(type) else {
            throw DecodingError.valueNotFound(
                T.self,
                DecodingError.Context(
                    codingPath: [],
                    debugDescription: "Cannot get \(T.self) -- found null value instead"
                )
            )
        }
        return value
    }

    /// Reads an object member by member (for ``JSONReadable`` types); errors from `body` get the member's name
    /// added to their coding path.
    package mutating func object(_ body: (inout JSONScanner, Key) throws -> Void) throws {
        try members { scanner, key in
            do {
                try body(&scanner, key)
            } catch {
                throw Self.decodingError(error, at: NameKey(key.string))
            }
        }
    }

    /// `value`, or `DecodingError.keyNotFound` for `key` when the object did not have it.
    package func required<T>(_ value: T?, _ key: StaticString) throws -> T {
        guard let value else {
            throw DecodingError.keyNotFound(
                NameKey(key.description),
                DecodingError.Context(codingPath: [], debugDescription: "No value associated with key \"\(key)\".")
            )
        }
        return value
    }

    /// `error` as a `DecodingError` with `key` in front of its coding path; syntax errors pass unchanged (nothing
    /// after them can be read, and the top level reports them).
    static func decodingError(_ error: any Error, at key: (any CodingKey)?) -> any Error {
        let prefix = key.map { [$0] } ?? []
        func context(_ context: DecodingError.Context) -> DecodingError.Context {
            DecodingError.Context(
                codingPath: prefix + context.codingPath,
                debugDescription: context.debugDescription,
                underlyingError: context.underlyingError
            )
        }
        switch error {
        case let mismatch as Mismatch:
            return DecodingError.typeMismatch(
                Any.self,
                DecodingError.Context(
                    codingPath: prefix,
                    debugDescription: "Expected \(mismatch.expected) at byte \(mismatch.offset)."
                )
            )
        case DecodingError.typeMismatch(let type, let inner):
            return DecodingError.typeMismatch(type, context(inner))
        case DecodingError.valueNotFound(let type, let inner):
            return DecodingError.valueNotFound(type, context(inner))
        case DecodingError.keyNotFound(let missing, let inner):
            return DecodingError.keyNotFound(missing, context(inner))
        case DecodingError.dataCorrupted(let inner):
            return DecodingError.dataCorrupted(context(inner))
        default:
            return error
        }
    }

    /// A number (after its first byte was checked), `Mismatch` when the value is not one.
    mutating func numberValue() throws -> JSONValue {
        let byte = try peek()
        guard byte == UInt8(ascii: "-") || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) else {
            throw mismatch("a number")
        }
        return try number()
    }

    /// An integer as ``StableJSON`` decodes one: a number exactly integral and in range (`1`, `1.0`, `1e2`).
    mutating func integer<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
        let value = try numberValue()
        switch value {
        case .int(let number): if let exact = I(exactly: number) { return exact }
        case .double(let number): if let exact = I(exactly: number) { return exact }
        default: break
        }
        throw DecodingError.dataCorrupted(
            DecodingError.Context(codingPath: [], debugDescription: "Number \(value) does not fit in \(I.self).")
        )
    }
}

// MARK: - The primitive types

extension String: JSONReadable {
    package init(reading scanner: inout JSONScanner) throws {
        guard try scanner.peek() == UInt8(ascii: "\"") else { throw scanner.mismatch("a string") }
        self = try scanner.stringLiteral()
    }
}

extension Int64: JSONReadable {
    package init(reading scanner: inout JSONScanner) throws { self = try scanner.integer(Int64.self) }
}

extension Int: JSONReadable {
    package init(reading scanner: inout JSONScanner) throws { self = try scanner.integer(Int.self) }
}

extension Double: JSONReadable {
    package init(reading scanner: inout JSONScanner) throws {
        switch try scanner.numberValue() {
        case .int(let number): self = Double(number)
        case .double(let number): self = number
        default: throw scanner.mismatch("a number")
        }
    }
}

extension Bool: JSONReadable {
    package init(reading scanner: inout JSONScanner) throws {
        guard let flag = try scanner.bool() else { throw scanner.mismatch("a boolean") }
        self = flag
    }
}

extension Date: JSONReadable {
    /// An RFC 3339 string (``RFC3339/date(from:)``).
    package init(reading scanner: inout JSONScanner) throws {
        let text = try String(reading: &scanner)
        guard let date = RFC3339.date(from: text) else {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: [], debugDescription: "not an RFC 3339 date: \(text)")
            )
        }
        self = date
    }
}

extension JSONValue: JSONReadable {
    /// Any value; integral numbers within `Int64` as `.int`, as ``StableJSON`` decodes a `JSONValue`.
    package init(reading scanner: inout JSONScanner) throws {
        self = try scanner.value().normalized
    }
}

extension Array: JSONReadable where Element: JSONReadable {
    /// Each element required (`null` is `valueNotFound`), its index added to the coding path of errors.
    package init(reading scanner: inout JSONScanner) throws {
        var result: [Element] = []
        var index = 0
        try scanner.elements { scanner in
            do {
                result.append(try scanner.require(Element.self))
            } catch {
                throw JSONScanner.decodingError(error, at: IndexKey(index))
            }
            index += 1
        }
        self = result
    }
}

extension Dictionary: JSONReadable where Key == String, Value: JSONReadable {
    /// Each value required (`null` is `valueNotFound`).
    package init(reading scanner: inout JSONScanner) throws {
        var result: [String: Value] = [:]
        try scanner.object { scanner, key in result[key.string] = try scanner.require(Value.self) }
        self = result
    }
}

extension RawRepresentable where Self: JSONReadable, RawValue == String {
    /// The case whose raw value the string is; another string is `dataCorrupted`.
    package init(reading scanner: inout JSONScanner) throws {
        let text = try String(reading: &scanner)
        guard let value = Self(rawValue: text) else {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(
                    codingPath: [],
                    debugDescription: "Cannot initialize \(Self.self) from invalid String value \(text)"
                )
            )
        }
        self = value
    }
}
