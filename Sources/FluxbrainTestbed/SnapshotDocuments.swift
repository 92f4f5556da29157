import FluxbrainCore
import Foundation
import Yams

/// Reads the objects of a snapshot as raw JSON, every field kept: what the testbed serves as a fake cluster. The
/// same files, walk and order as ``SnapshotLoader`` (directory: `.json`, `.yaml`, `.yml`, recursively, by name;
/// single objects, lists, `kind: List`, multi-document YAML).
package enum SnapshotDocuments {
    /// Every object with `kind` and `metadata`, in file order.
    package static func load(path: String) throws(CoreError) -> [JSONValue] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CoreError(.notFound, "snapshot \(path): no such file or directory")
        }
        var files = [path]
        if isDirectory.boolValue {
            let enumerator = FileManager.default.enumerator(atPath: path)
            files = []
            while let relative = enumerator?.nextObject() as? String {
                let lower = relative.lowercased()
                guard lower.hasSuffix(".json") || lower.hasSuffix(".yaml") || lower.hasSuffix(".yml") else { continue }
                files.append((path as NSString).appendingPathComponent(relative))
            }
            files.sort()
        }
        var objects: [JSONValue] = []
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw CoreError(.invalidInput, "snapshot file \(file): cannot read it")
            }
            let first = data.first { !($0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09) }
            var documents: [JSONValue] = []
            do {
                if first == UInt8(ascii: "{") || first == UInt8(ascii: "[") {
                    documents = [try JSONDecoder().decode(JSONValue.self, from: data)]
                } else {
                    for document in try Yams.load_all(yaml: String(decoding: data, as: UTF8.self)) {
                        documents.append(try JSONValue(any: document))
                    }
                }
            } catch {
                throw CoreError(.invalidInput, "snapshot file \(file): not valid JSON or YAML", underlying: error)
            }
            for document in documents { collect(document, into: &objects) }
        }
        return objects
    }

    private static func collect(_ value: JSONValue, into objects: inout [JSONValue]) {
        switch value {
        case .array(let values):
            for element in values { collect(element, into: &objects) }
        case .object(let members):
            if let items = members["items"]?.arrayValue {
                for item in items { collect(item, into: &objects) }
            } else if members["kind"]?.stringValue != nil, members["metadata"] != nil {
                objects.append(value)
            }
        default:
            break
        }
    }
}
