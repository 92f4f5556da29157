import Foundation

/// A Kubernetes list (`KustomizationList`, `List`, …) decoded item by item: an item that does not decode is
/// counted in `malformed` and skipped, never failing the whole list.
package struct ObjectList: Sendable, Decodable {
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

    private enum CodingKeys: String, CodingKey {
        case apiVersion, kind, metadata, items
    }

    private struct ListMeta: Decodable {
        var resourceVersion: String?
        var `continue`: String?
    }

    private struct Lenient: Decodable {
        var result: Result<FluxObject, any Error>
        var name: String?

        private struct NameOnly: Decodable {
            struct Meta: Decodable { var name: String? }
            var metadata: Meta?
        }

        init(from decoder: any Decoder) throws {
            do {
                result = .success(try FluxObject(from: decoder))
            } catch {
                result = .failure(error)
                name = (try? NameOnly(from: decoder))?.metadata?.name
            }
        }
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        apiVersion = try container.decodeIfPresent(String.self, forKey: .apiVersion)
        kind = try container.decodeIfPresent(String.self, forKey: .kind)
        let meta = try container.decodeIfPresent(ListMeta.self, forKey: .metadata)
        resourceVersion = meta?.resourceVersion
        continueToken = meta?.continue
        let raw = try container.decodeIfPresent([Lenient].self, forKey: .items) ?? []
        items = []
        items.reserveCapacity(raw.count)
        malformed = []
        for (index, item) in raw.enumerated() {
            switch item.result {
            case .success(let object): items.append(object)
            case .failure(let error):
                malformed.append(MalformedItem(index: index, name: item.name, reason: Self.describe(error)))
            }
        }
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
