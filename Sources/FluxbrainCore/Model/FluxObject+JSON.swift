import Foundation

/// Reading Flux objects from parsed JSON by hand: the one mapping from the wire shape to `FluxObject`, and the
/// fallback of the fast list path (`ObjectList(json:)`, which re-reads an item the scanner refuses with it to name
/// the faulty field); watch events and snapshots use it directly.
///
/// Tolerance: unknown fields are ignored; a field Fluxbrain reads that has the wrong type is an error naming its
/// path (the object is then skipped as malformed); `null` counts as absent.
extension FluxObject {
    /// The parts of an object `init(json:)` reads (with `status` reduced to the fields of `Status`), for
    /// `FastJSON.parse(_:selecting:)`.
    package static let readSelection: FastJSON.Selection = .members([
        "apiVersion": .all, "kind": .all,
        "metadata": .members([
            "name": .all, "namespace": .all, "generation": .all, "resourceVersion": .all, "labels": .all,
            "annotations": .all,
        ]),
        "spec": .members([
            "suspend": .all, "interval": .all, "retryInterval": .all, "path": .all, "url": .all,
            "sourceRef": .all, "chartRef": .all, "chart": .all, "dependsOn": .all, "imageRepositoryRef": .all,
        ]),
        "status": .members([
            "observedGeneration": .all, "conditions": .all, "lastAppliedRevision": .all, "lastAttemptedRevision": .all,
            "artifact": .all, "helmChart": .all, "history": .all,
        ]),
    ])

    /// `false` only for an object that is `Ready=True` with neither `Stalled=True` nor `Reconciling=True`: such an
    /// object is healthy or progressing whatever else it says, never an incident.
    package var mayFail: Bool {
        var ready = false
        for condition in status?.conditions ?? [] {
            switch (condition.type, condition.status) {
            case ("Ready", "True"): ready = true
            case ("Stalled", "True"), ("Reconciling", "True"): return true
            default: break
            }
        }
        return !ready
    }

    /// Maps a parsed object. The `status` is kept as `rawStatus` as it is when the object may fail (``mayFail``).
    package init(json: JSONValue) throws {
        let reader = try JSONReader(json, path: [])
        kind = try reader.requiredString("kind")
        apiVersion = FluxKind.shared(apiVersion: try reader.string("apiVersion"))
        metadata = try ObjectMeta(reader: try reader.requiredObject("metadata"))
        spec = try reader.object("spec").map { try Spec(reader: $0) }
        status = try reader.object("status").map { try Status(reader: $0) }
        rawStatus = nil
        if let raw = reader.members["status"], raw != .null, mayFail {
            rawStatus = raw
        }
    }
}

extension FluxObject.ObjectMeta {
    init(reader: JSONReader) throws {
        self.init(
            name: try reader.requiredString("name"),
            namespace: try reader.string("namespace"),
            generation: try reader.int("generation")
        )
        resourceVersion = try reader.string("resourceVersion")
        labels = try reader.stringMap("labels")
        annotations = Self.kept(try reader.stringMap("annotations"))
    }
}

extension FluxObject.SourceReference {
    init(reader: JSONReader) throws {
        self.init(
            kind: try reader.requiredString("kind"),
            name: try reader.requiredString("name"),
            namespace: try reader.string("namespace"),
            apiVersion: try reader.string("apiVersion")
        )
    }
}

extension FluxObject.Spec {
    init(reader: JSONReader) throws {
        suspend = try reader.bool("suspend")
        interval = try reader.string("interval")
        retryInterval = try reader.string("retryInterval")
        path = try reader.string("path")
        url = try reader.string("url")
        sourceRef = try reader.object("sourceRef").map { try FluxObject.SourceReference(reader: $0) }
        chartRef = try reader.object("chartRef").map { try FluxObject.SourceReference(reader: $0) }
        switch reader.members["chart"] {
        case .string(let name)?:
            chart = ChartTemplate(spec: nil, name: name)
        case nil, .null?:
            chart = nil
        default:
            let template = try reader.requiredObject("chart")
            let chartSpec = try template.object("spec").map { spec in
                ChartSpec(
                    chart: try spec.string("chart"),
                    version: try spec.string("version"),
                    sourceRef: try spec.object("sourceRef").map { try FluxObject.SourceReference(reader: $0) }
                )
            }
            chart = ChartTemplate(spec: chartSpec, name: nil)
        }
        dependsOn = try reader.objects("dependsOn")?.map {
            FluxObject.Dependency(name: try $0.requiredString("name"), namespace: try $0.string("namespace"))
        }
        imageRepositoryRef = try reader.object("imageRepositoryRef").map {
            FluxObject.NamedReference(name: try $0.requiredString("name"), namespace: try $0.string("namespace"))
        }
    }
}

extension FluxObject.Condition {
    init(reader: JSONReader) throws {
        self.init(
            type: try reader.requiredString("type"),
            status: try reader.requiredString("status"),
            reason: try reader.string("reason"),
            message: try reader.string("message"),
            lastTransitionTime: try reader.string("lastTransitionTime"),
            observedGeneration: try reader.int("observedGeneration")
        )
    }
}

extension FluxObject.Status {
    init(reader: JSONReader) throws {
        self.init(conditions: [])
        conditions = try reader.objects("conditions")?.map { try FluxObject.Condition(reader: $0) }
        observedGeneration = try reader.int("observedGeneration")
        lastAppliedRevision = try reader.string("lastAppliedRevision")
        lastAttemptedRevision = try reader.string("lastAttemptedRevision")
        artifact = try reader.object("artifact").map {
            FluxObject.Artifact(
                revision: try $0.string("revision"),
                lastUpdateTime: try $0.string("lastUpdateTime")
            )
        }
        helmChart = try reader.string("helmChart")
        // Only HelmRelease history entries carry a Helm release `version`; any other shape is left in rawStatus.
        helmHistory = (try? reader.objects("history"))?.compactMap { entry -> FluxObject.HelmSnapshot? in
            guard let version = try? entry.int("version") else { return nil }
            return FluxObject.HelmSnapshot(
                version: version,
                status: try? entry.string("status"),
                action: try? entry.string("action"),
                chartName: try? entry.string("chartName"),
                chartVersion: try? entry.string("chartVersion"),
                appVersion: try? entry.string("appVersion"),
                firstDeployed: try? entry.string("firstDeployed"),
                lastDeployed: try? entry.string("lastDeployed")
            )
        }
    }
}

/// Typed access to the members of a JSON object, with errors that name the path (as `DecodingError`s, so
/// `ObjectList.describe` words them like `Codable` errors).
struct JSONReader {
    let members: [String: JSONValue]
    let path: [String]

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(_ value: JSONValue, path: [String]) throws {
        guard case .object(let members) = value else {
            throw DecodingError.typeMismatch(
                [String: Any].self,
                .init(codingPath: path.map(Key.init(stringValue:)), debugDescription: "expected an object")
            )
        }
        self.members = members
        self.path = path
    }

    private func mismatch<T>(_ type: T.Type, _ key: String) -> DecodingError {
        .typeMismatch(
            type,
            .init(codingPath: (path + [key]).map(Key.init(stringValue:)), debugDescription: "wrong type")
        )
    }

    private func present(_ key: String) -> JSONValue? {
        guard let value = members[key] else { return nil }
        if case .null = value { return nil }
        return value
    }

    func string(_ key: String) throws -> String? {
        guard let value = present(key) else { return nil }
        guard case .string(let text) = value else { throw mismatch(String.self, key) }
        return text
    }

    func requiredString(_ key: String) throws -> String {
        guard let text = try string(key) else {
            throw DecodingError.keyNotFound(
                Key(stringValue: key),
                .init(codingPath: path.map(Key.init(stringValue:)), debugDescription: "missing")
            )
        }
        return text
    }

    func int(_ key: String) throws -> Int64? {
        switch present(key) {
        case nil: return nil
        case .int(let value)?: return value
        case .double(let value)? where value.rounded() == value && abs(value) < 9e18: return Int64(value)
        default: throw mismatch(Int64.self, key)
        }
    }

    func bool(_ key: String) throws -> Bool? {
        guard let value = present(key) else { return nil }
        guard case .bool(let flag) = value else { throw mismatch(Bool.self, key) }
        return flag
    }

    func object(_ key: String) throws -> JSONReader? {
        guard let value = present(key) else { return nil }
        guard case .object = value else { throw mismatch([String: Any].self, key) }
        return try JSONReader(value, path: path + [key])
    }

    func requiredObject(_ key: String) throws -> JSONReader {
        guard let reader = try object(key) else {
            throw DecodingError.keyNotFound(
                Key(stringValue: key),
                .init(codingPath: path.map(Key.init(stringValue:)), debugDescription: "missing")
            )
        }
        return reader
    }

    /// An array of objects.
    func objects(_ key: String) throws -> [JSONReader]? {
        guard let value = present(key) else { return nil }
        guard case .array(let elements) = value else { throw mismatch([Any].self, key) }
        return try elements.enumerated().map { try JSONReader($0.element, path: path + [key, "[\($0.offset)]"]) }
    }

    func stringMap(_ key: String) throws -> [String: String]? {
        guard let value = present(key) else { return nil }
        guard case .object(let members) = value else { throw mismatch([String: String].self, key) }
        var result: [String: String] = [:]
        result.reserveCapacity(members.count)
        for (name, member) in members {
            guard case .string(let text) = member else { throw mismatch(String.self, "\(key).\(name)") }
            result[name] = text
        }
        return result
    }
}
