import Foundation

extension ObjectList {
    /// Decodes a list from its JSON bytes: the fast path for Kubernetes list replies. Items are read straight into
    /// `FluxObject`s (`FluxObject.scan(_:)`); an item that does not map is read again with the hand-written mapping
    /// (`FluxObject.init(json:)`), which names what is wrong, and listed in `malformed`.
    ///
    /// - Throws: `FastJSON.SyntaxError` when the bytes are not JSON, `DecodingError` when it is not an object.
    ///
    /// Only what Fluxbrain reads is built: managedFields, HelmRelease values and the like are skipped. The whole
    /// `status` (`rawStatus`, the incident's evidence) is parsed only for objects that may fail — anything but
    /// `Ready=True` without `Stalled=True` or `Reconciling=True`; for those it is `nil`.
    package init(json bytes: UnsafeRawBufferPointer) throws {
        var scanner = try JSONScanner(bytes)
        var apiVersion: String?
        var kind: String?
        var resourceVersion: String?
        var continueToken: String?
        var items: [FluxObject] = []
        var malformed: [MalformedItem] = []
        let isObject = try scanner.lenient { scanner in
            try scanner.members { scanner, key in
                switch key {
                case "apiVersion": apiVersion = try scanner.lenient { try $0.string() } ?? nil
                case "kind": kind = try scanner.lenient { try $0.string() } ?? nil
                case "metadata":
                    _ = try scanner.lenient { scanner in
                        try scanner.members { scanner, key in
                            switch key {
                            case "resourceVersion": resourceVersion = try scanner.lenient { try $0.string() } ?? nil
                            case "continue": continueToken = try scanner.lenient { try $0.string() } ?? nil
                            default: try scanner.skip()
                            }
                        }
                    }
                case "items":
                    _ = try scanner.lenient { scanner in
                        try scanner.elements { scanner in
                            try Self.readItem(
                                &scanner,
                                bytes: bytes,
                                index: items.count + malformed.count,
                                into: &items,
                                malformed: &malformed
                            )
                        }
                    }
                default: try scanner.skip()
                }
            }
        }
        try scanner.expectEnd()
        guard isObject == true else {
            throw DecodingError.typeMismatch(
                [String: Any].self,
                .init(codingPath: [], debugDescription: "expected an object")
            )
        }
        self.init(items: items)
        self.apiVersion = apiVersion
        self.kind = kind
        self.resourceVersion = resourceVersion
        self.continueToken = continueToken
        self.malformed = malformed
    }

    /// Reads one list item: the scanned object, or (on any mismatch) the item read again by `init(json:)`, or a
    /// malformed entry naming why.
    private static func readItem(
        _ scanner: inout JSONScanner,
        bytes: UnsafeRawBufferPointer,
        index: Int,
        into items: inout [FluxObject],
        malformed: inout [MalformedItem]
    ) throws {
        scanner.skipWhitespace()
        let start = scanner.index
        if let scanned = try scanner.lenient({ try FluxObject.scan(&$0) }) {
            var object = scanned.object
            if object.mayFail, let statusRange = scanned.statusRange {
                object.rawStatus = try FastJSON.parse(bytes, range: statusRange)
            }
            items.append(object)
            return
        }
        // `lenient` skipped the item: map it again by hand, for the object or for the reason it is malformed.
        let range = start..<scanner.index
        var name: String?
        do {
            let value = try FastJSON.parse(bytes, range: range, selecting: FluxObject.readSelection)
            name = value["metadata"]?["name"]?.stringValue
            var object = try FluxObject(json: value)
            object.rawStatus =
                object.mayFail ? try FastJSON.parse(bytes, range: range, selecting: statusOnly)["status"] : nil
            items.append(object)
        } catch {
            malformed.append(MalformedItem(index: index, name: name, reason: describe(error)))
        }
    }

    static let statusOnly: FastJSON.Selection = .members(["status": .all])

    /// Decodes a list from JSON `data` (see ``init(json:)-(UnsafeRawBufferPointer)``).
    package init(json data: Data) throws {
        self = try data.withUnsafeBytes { try ObjectList(json: $0) }
    }
}
