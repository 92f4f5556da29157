import Foundation

extension ObjectList {
    /// Decodes a list from its JSON bytes with ``FastJSON`` and the hand-written object mapping: the fast path for
    /// Kubernetes list replies. Items that do not map are skipped and listed in `malformed`.
    ///
    /// - Throws: `FastJSON.SyntaxError` when the bytes are not JSON, `DecodingError` when it is not an object.
    ///
    /// Only what Fluxbrain reads is built (`FluxObject.readSelection`): managedFields, HelmRelease values and the
    /// like are skipped while parsing. The whole `status` (`rawStatus`, the incident's evidence) is parsed only for
    /// objects that may fail — anything but `Ready=True` without `Stalled=True` or `Reconciling=True`; for those it
    /// is `nil`. Everything else is as `FluxObject.init(json:)` maps it.
    package init(json bytes: UnsafeRawBufferPointer) throws {
        let (value, elements) = try FastJSON.parseCollecting(bytes, selecting: Self.selection)
        let reader = try JSONReader(value, path: [])
        self.init(items: [])
        apiVersion = try? reader.string("apiVersion")
        kind = try? reader.string("kind")
        let metadata = try? reader.object("metadata")
        resourceVersion = try? metadata?.string("resourceVersion")
        continueToken = try? metadata?.string("continue")
        items.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            do {
                var object = try FluxObject(json: element.value)
                if object.mayFail {
                    object.rawStatus = try FastJSON.parse(bytes, range: element.range, selecting: Self.statusOnly)["status"]
                } else {
                    object.rawStatus = nil
                }
                items.append(object)
            } catch {
                malformed.append(
                    MalformedItem(
                        index: index, name: element.value["metadata"]?["name"]?.stringValue, reason: Self.describe(error)))
            }
        }
    }

    /// What a list reply is parsed for: the items are collected one by one with their byte ranges.
    static let selection: FastJSON.Selection = .members([
        "apiVersion": .all, "kind": .all,
        "metadata": .members(["resourceVersion": .all, "continue": .all]),
        "items": .collected(FluxObject.readSelection),
    ])

    static let statusOnly: FastJSON.Selection = .members(["status": .all])

    /// Decodes a list from JSON `data` (see ``init(json:)-(UnsafeRawBufferPointer)``).
    package init(json data: Data) throws {
        self = try data.withUnsafeBytes { try ObjectList(json: $0) }
    }

    /// Maps a parsed list (`{"metadata":{…},"items":[…]}`).
    package init(value: JSONValue) throws {
        let reader = try JSONReader(value, path: [])
        self.init(items: [])
        apiVersion = try? reader.string("apiVersion")
        kind = try? reader.string("kind")
        let metadata = try? reader.object("metadata")
        resourceVersion = try? metadata?.string("resourceVersion")
        continueToken = try? metadata?.string("continue")
        guard case .array(let elements)? = reader.members["items"] else { return }
        items.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            do {
                items.append(try FluxObject(json: element))
            } catch {
                malformed.append(
                    MalformedItem(index: index, name: element["metadata"]?["name"]?.stringValue, reason: Self.describe(error)))
            }
        }
    }
}
