import Foundation

/// A JSON value of any shape, decoded without loss.
///
/// Used where Fluxbrain keeps data it does not interpret (an object's `status`, an event, a log line) and
/// passes it on as evidence. Objects keep their keys sorted when encoded, so output is deterministic.
package enum JSONValue: Sendable, Hashable, Codable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    package init(from decoder: any Decoder) throws {
        // The most common shapes first: every failed attempt builds and throws a `DecodingError` with its coding
        // path, which made this the costliest part of decoding a work item. JSON's types are disjoint, so the
        // order changes nothing but the cost (Int64 is still tried before Double).
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([String: JSONValue].self) {
            self = .object(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a JSON value")
        }
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// The member `key` of an object, or `nil`.
    package subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// The string, if this is one.
    package var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The array, if this is one.
    package var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The members, if this is an object.
    package var objectValue: [String: JSONValue]? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// Converts the output of a YAML or `JSONSerialization` parser (`[String: Any]`, `[Any]`, scalars).
    package init(any value: Any?) throws(CoreError) {
        switch value {
        case nil, is NSNull: self = .null
        case let value as Bool: self = .bool(value)
        case let value as Int: self = .int(Int64(value))
        case let value as Int64: self = .int(value)
        case let value as Double: self = .double(value)
        case let value as String: self = .string(value)
        case let value as Date: self = .string(RFC3339.string(from: value))
        case let value as [Any?]:
            var items: [JSONValue] = []
            items.reserveCapacity(value.count)
            for item in value { items.append(try JSONValue(any: item)) }
            self = .array(items)
        case let value as [String: Any?]:
            var members: [String: JSONValue] = [:]
            for (key, item) in value { members[key] = try JSONValue(any: item) }
            self = .object(members)
        case let value as [AnyHashable: Any?]:
            var members: [String: JSONValue] = [:]
            for (key, item) in value { members["\(key.base)"] = try JSONValue(any: item) }
            self = .object(members)
        default:
            throw CoreError(.invalidInput, "unsupported value of type \(type(of: value!)) in document")
        }
    }

    /// Decodes this value into a `Decodable` type by way of JSON.
    package func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: StableJSON.encode(self))
    }
}
