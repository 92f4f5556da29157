import FluxbrainCore
import Foundation
import Yams

/// Flux objects read from files people save from a cluster.
package struct Snapshot: Sendable {
    /// Every object found, in file order.
    package var objects: [FluxObject]
    /// The JSON of each of `objects` as the file holds it, every field kept (what the testbed's fake cluster
    /// serves); `documents[i]` is the source of `objects[i]`.
    package var documents: [JSONValue]
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
///
/// The one snapshot reader: detection (`once --snapshot`) and the testbed's fake cluster both load through it.
package struct SnapshotLoader: Sendable {
    package init() {}

    /// Loads the snapshot at `path`.
    package func load(path: String) throws(CoreError) -> Snapshot {
        try load(files: try files(at: path))
    }

    /// The files a snapshot at `path` is read from: `path` itself, or the snapshot files in the directory.
    package func files(at path: String) throws(CoreError) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CoreError(.notFound, "snapshot \(path): no such file or directory")
        }
        guard isDirectory.boolValue else { return [path] }
        let files = try snapshotFiles(in: path)
        guard !files.isEmpty else {
            throw CoreError(.invalidInput, "snapshot \(path): no .json, .yaml or .yml files in the directory")
        }
        return files
    }

    /// Loads the snapshot held by `files` (from ``files(at:)``).
    package func load(files: [String]) throws(CoreError) -> Snapshot {
        var snapshot = Snapshot(objects: [], documents: [], malformed: [], files: files)
        for file in files {
            for entry in try loadFile(file) {
                do {
                    snapshot.objects.append(try FluxObject(json: entry.value))
                    snapshot.documents.append(entry.value)
                } catch {
                    let item = ObjectList.MalformedItem(
                        index: entry.index,
                        name: entry.value["metadata"]?["name"]?.stringValue,
                        reason: ObjectList.describe(error)
                    )
                    snapshot.malformed.append((file: file, item: item))
                }
            }
        }
        return snapshot
    }

    /// One object of a file as written; `index` numbers it for malformed-item reports (its place in its list, or
    /// among the file's objects so far).
    private struct Entry {
        var value: JSONValue
        var index: Int
    }

    /// The objects in one file's content; `name` is used in error messages.
    private func entries(_ data: Data, name: String) throws(CoreError) -> [Entry] {
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

    private func loadFile(_ file: String) throws(CoreError) -> [Entry] {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: file))
        } catch {
            throw CoreError(.invalidInput, "snapshot file \(file): cannot read it", underlying: error)
        }
        return try entries(data, name: file)
    }

    private func decodeJSON(_ data: Data, name: String) throws(CoreError) -> [Entry] {
        let value: JSONValue
        do {
            // FastJSON through StableJSON's decoder: the same value as JSONDecoder gives, at a fraction of the cost
            // (a `--snapshot` source reads its files on every pass).
            value = try StableJSON.decode(JSONValue.self, from: data)
        } catch {
            throw CoreError(.invalidInput, "snapshot file \(name): not valid JSON: \(Self.jsonErrorSummary(error))")
        }
        var entries: [Entry] = []
        try collect(value, into: &entries, name: name, documentIndex: nil)
        return entries
    }

    private func decodeYAML(_ data: Data, name: String) throws(CoreError) -> [Entry] {
        guard let text = String(data: data, encoding: .utf8) else {
            throw CoreError(.invalidInput, "snapshot file \(name): not UTF-8 text")
        }
        var entries: [Entry] = []
        do {
            var index = 0
            for document in try Yams.load_all(yaml: text) {
                defer { index += 1 }
                let value = try JSONValue(any: document)
                if case .null = value { continue }  // an empty document between `---` separators
                try collect(value, into: &entries, name: name, documentIndex: index)
            }
        } catch let error as CoreError {
            throw error
        } catch {
            throw CoreError(.invalidInput, "snapshot file \(name): not valid YAML: \(error)")
        }
        return entries
    }

    /// Adds the objects in `value` (an object, a list, or an array of either) to `entries`.
    private func collect(
        _ value: JSONValue,
        into entries: inout [Entry],
        name: String,
        documentIndex: Int?
    )
        throws(CoreError)
    {
        let location = documentIndex.map { "\(name) (document \($0 + 1))" } ?? name
        switch value {
        case .array(let values):
            for element in values { try collect(element, into: &entries, name: name, documentIndex: documentIndex) }
        case .object(let members):
            if let items = members["items"]?.arrayValue {
                for (index, item) in items.enumerated() {
                    entries.append(Entry(value: item, index: index))
                }
            } else if members["kind"]?.stringValue != nil, members["metadata"] != nil {
                entries.append(Entry(value: value, index: entries.count))
            } else {
                throw CoreError(
                    .invalidInput,
                    "snapshot file \(location): not a Kubernetes object or list (no kind/metadata or items)"
                )
            }
        default:
            throw CoreError(.invalidInput, "snapshot file \(location): expected a Kubernetes object or list")
        }
    }

    private static func jsonErrorSummary(_ error: any Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error {
            if let syntax = context.underlyingError as? FastJSON.SyntaxError { return syntax.description }
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
