import Foundation

/// A Kubernetes list (`KustomizationList`, `List`, …) decoded item by item: an item that does not decode is
/// counted in `malformed` and skipped, never failing the whole list. Read with `init(json:)` (ObjectList+JSON.swift),
/// the fast scanner with `FluxObject.init(json:)` as the fallback that names the faulty field.
package struct ObjectList: Sendable {
    package var apiVersion: String?
    package var kind: String?
    package var resourceVersion: String?
    package var continueToken: String?
    package var items: [FluxObject]
    /// Why each skipped item failed to decode, with its index in the list.
    package var malformed: [MalformedItem]

    /// An item of a list that could not be decoded.
    package struct MalformedItem: Sendable, Hashable, CustomStringConvertible {
        package var index: Int
        package var name: String?
        package var reason: String

        package init(index: Int, name: String?, reason: String) {
            self.index = index
            self.name = name
            self.reason = reason
        }

        package var description: String { "item \(index)\(name.map { " (\($0))" } ?? ""): \(reason)" }

    }

    package init(items: [FluxObject], malformed: [MalformedItem] = []) {
        self.items = items
        self.malformed = malformed
    }

    /// A one-line reason for a decoding error, naming the field path.
    package static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        }
        switch error {
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)): expected \(type)"
        case .valueNotFound(let type, let context):
            return "\(path(context.codingPath)): missing \(type)"
        case .keyNotFound(let key, let context):
            return "\(path(context.codingPath + [key])): missing"
        case .dataCorrupted(let context):
            return "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
