import FluxbrainCore
import Foundation
import Yams

/// Flux objects read from files people save from a cluster.
package struct Snapshot: Sendable {
    /// Every object found, in file order.
    package var objects: [FluxObject]
    /// Items that could not be decoded, with the file they came from; skipped, never fatal.
    package var malformed: [(file: String, item: ObjectList.MalformedItem)]
    /// The files read.
    package var files: [String]
}

/// Reads a snapshot: a directory (every `.json`, `.yaml`, `.yml` file in it, recursively, in name order) or a single
/// file, holding single objects, typed lists (`kubectl get kustomizations -A -o json`), mixed `kind: List`
/// documents (`kubectl get ks,hr,gitrepo -A -o yaml`) or several YAML documents separated by `---`.
///
/// A file that is not valid JSON or YAML, or holds something that is not a Kubernetes object or list, is an error
/// naming the file. An item of a list that does not decode is skipped and reported in `malformed`.
package struct SnapshotLoader: Sendable {
    package init() {}

    /// Loads the snapshot at `path`.
    package func load(path: String) throws(CoreError) -> Snapshot {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CoreError(.notFound, "snapshot \(path): no such file or directory")
        }
        let files: [String]
        if isDirectory.boolValue {
            files = try snapshotFiles(in: path)
            guard !files.isEmpty else {
                throw CoreError(.invalidInput, "snapshot \(path): no .json, .yaml or .yml files in the directory")
            }
        } else {
            files = [path]
        }
        var snapshot = Snapshot(objects: [], malformed: [], files: files)
        for file in files {
            let list = try loadFile(file)
            snapshot.objects.append(contentsOf: list.items)
            snapshot.malformed.append(contentsOf: list.malformed.map { (file: file, item: $0) })
        }
        return snapshot
    }

    /// Decodes one file's content; `name` is used in error messages.
    package func decode(_ data: Data, name: String) throws(CoreError) -> ObjectList {
        let trimmed = data.first { !($0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09) }
        if trimmed == UInt8(ascii: "{") || trimmed == UInt8(ascii: "[") {
            return try decodeJSON(data, name: name)
        }
        return try decodeYAML(data, name: name)
    }

    private func snapshotFiles(in directory: String) throws(CoreError) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else {
            throw CoreError(.invalidInput, "snapshot \(directory): cannot list the directory")
        }
        var files: [String] = []
        while let relative = enumerator.nextObject() as? String {
            let lower = relative.lowercased()
            guard lower.hasSuffix(".json") || lower.hasSuffix(".yaml") || lower.hasSuffix(".yml") else { continue }
            files.append((directory as NSString).appendingPathComponent(relative))
        }
        return files.sorted()
    }

    private func loadFile(_ file: String) throws(CoreError) -> ObjectList {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: file))
        } catch {
            throw CoreError(.invalidInput, "snapshot file \(file): cannot read it", underlying: error)
        }
        return try decode(data, name: file)
    }

    private func decodeJSON(_ data: Data, name: String) throws(CoreError) -> ObjectList {
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw CoreError(.invalidInput, "snapshot file \(name): not valid JSON: \(Self.jsonErrorSummary(error))")
        }
        var list = ObjectList(items: [])
        try collect(value, into: &list, name: name, documentIndex: nil)
        return list
    }

    private func decodeYAML(_ data: Data, name: String) throws(CoreError) -> ObjectList {
        guard let text = String(data: data, encoding: .utf8) else {
            throw CoreError(.invalidInput, "snapshot file \(name): not UTF-8 text")
        }
        var list = ObjectList(items: [])
        do {
            var index = 0
            for document in try Yams.load_all(yaml: text) {
                defer { index += 1 }
                let value = try JSONValue(any: document)
                if case .null = value { continue }  // an empty document between `---` separators
                try collect(value, into: &list, name: name, documentIndex: index)
            }
        } catch let error as CoreError {
            throw error
        } catch {
            throw CoreError(.invalidInput, "snapshot file \(name): not valid YAML: \(error)")
        }
        return list
    }

    /// Adds the objects in `value` (an object, a list, or an array of either) to `list`.
    private func collect(_ value: JSONValue, into list: inout ObjectList, name: String, documentIndex: Int?) throws(CoreError) {
        let location = documentIndex.map { "\(name) (document \($0 + 1))" } ?? name
        switch value {
        case .array(let values):
            for element in values { try collect(element, into: &list, name: name, documentIndex: documentIndex) }
        case .object(let members):
            if let items = members["items"]?.arrayValue {
                for (index, item) in items.enumerated() {
                    append(item, index: index, into: &list)
                }
            } else if members["kind"]?.stringValue != nil, members["metadata"] != nil {
                append(value, index: list.items.count + list.malformed.count, into: &list)
            } else {
                throw CoreError(
                    .invalidInput, "snapshot file \(location): not a Kubernetes object or list (no kind/metadata or items)")
            }
        default:
            throw CoreError(.invalidInput, "snapshot file \(location): expected a Kubernetes object or list")
        }
    }

    private func append(_ item: JSONValue, index: Int, into list: inout ObjectList) {
        do {
            list.items.append(try item.decode(FluxObject.self))
        } catch {
            list.malformed.append(
                ObjectList.MalformedItem(
                    index: index, name: item["metadata"]?["name"]?.stringValue, reason: ObjectList.describe(error)))
        }
    }

    private static func jsonErrorSummary(_ error: any Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error {
            if let underlying = context.underlyingError as NSError?,
                let detail = underlying.userInfo[NSDebugDescriptionErrorKey] as? String
            {
                return detail
            }
            return context.debugDescription
        }
        return "\(error)"
    }
}
