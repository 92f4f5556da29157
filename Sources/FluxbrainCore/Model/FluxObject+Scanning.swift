import Foundation

/// Decoding Flux objects straight from JSON bytes into the structs, the fast path for Kubernetes lists
/// (`ObjectList(json:)`): no dictionary is built per object, and members Fluxbrain does not read are skipped.
///
/// It accepts exactly what `init(json:)` (FluxObject+JSON.swift) accepts, with no error detail: on any
/// ``JSONScanner/Mismatch`` the list path parses the item again with `init(json:)`, which either decodes it or names
/// what is wrong. `DetectionDecodingTests` hold the two paths to the same results.
extension FluxObject {
    /// Reads one object; also returns the byte range of its `status` value, to keep as `rawStatus` when needed.
    package static func scan(_ scanner: inout JSONScanner) throws -> (object: FluxObject, statusRange: Range<Int>?) {
        var apiVersion: String?
        var kind: String?
        var metadata: ObjectMeta?
        var spec: Spec?
        var status: Status?
        var statusRange: Range<Int>?
        try scanner.members { scanner, key in
            switch key {
            case "apiVersion": apiVersion = try scanner.string()
            case "kind": kind = try scanner.string()
            case "metadata": metadata = try ObjectMeta.scan(&scanner)
            case "spec": spec = try Spec.scan(&scanner)
            case "status":
                scanner.skipWhitespace()
                let start = scanner.index
                status = try Status.scan(&scanner)
                statusRange = status == nil ? nil : start..<scanner.index
            default: try scanner.skip()
            }
        }
        guard let kind else { throw scanner.mismatch("a kind") }
        guard let metadata else { throw scanner.mismatch("metadata") }
        let object = FluxObject(
            apiVersion: FluxKind.shared(apiVersion: apiVersion),
            kind: kind,
            metadata: metadata,
            spec: spec,
            status: status,
            rawStatus: nil
        )
        return (object, statusRange)
    }
}

extension FluxObject.ObjectMeta {
    static func scan(_ scanner: inout JSONScanner) throws -> Self? {
        var name: String?
        var meta = Self(name: "")
        let present = try scanner.members { scanner, key in
            switch key {
            case "name": name = try scanner.string()
            case "namespace": meta.namespace = try scanner.string()
            case "generation": meta.generation = try scanner.int()
            case "resourceVersion": meta.resourceVersion = try scanner.string()
            case "labels": meta.labels = try scanner.stringMap()
            case "annotations": meta.annotations = Self.kept(try scanner.stringMap())
            default: try scanner.skip()
            }
        }
        guard present else { return nil }
        guard let name else { throw scanner.mismatch("a name") }
        meta.name = name
        return meta
    }
}

extension FluxObject.SourceReference {
    static func scan(_ scanner: inout JSONScanner) throws -> Self? {
        var kind: String?
        var name: String?
        var namespace: String?
        var apiVersion: String?
        let present = try scanner.members { scanner, key in
            switch key {
            case "kind": kind = try scanner.string()
            case "name": name = try scanner.string()
            case "namespace": namespace = try scanner.string()
            case "apiVersion": apiVersion = try scanner.string()
            default: try scanner.skip()
            }
        }
        guard present else { return nil }
        guard let kind, let name else { throw scanner.mismatch("a kind and a name") }
        return Self(kind: kind, name: name, namespace: namespace, apiVersion: apiVersion)
    }
}

extension FluxObject.Spec {
    static func scan(_ scanner: inout JSONScanner) throws -> Self? {
        var spec = Self()
        let present = try scanner.members { scanner, key in
            switch key {
            case "suspend": spec.suspend = try scanner.bool()
            case "interval": spec.interval = try scanner.string()
            case "retryInterval": spec.retryInterval = try scanner.string()
            case "path": spec.path = try scanner.string()
            case "url": spec.url = try scanner.string()
            case "sourceRef": spec.sourceRef = try FluxObject.SourceReference.scan(&scanner)
            case "chartRef": spec.chartRef = try FluxObject.SourceReference.scan(&scanner)
            case "chart": spec.chart = try ChartTemplate.scan(&scanner)
            case "dependsOn":
                var dependencies: [FluxObject.Dependency] = []
                let present = try scanner.elements { scanner in
                    guard let reference = try FluxObject.NamedReference.scan(&scanner) else {
                        throw scanner.mismatch("an object")
                    }
                    dependencies.append(FluxObject.Dependency(name: reference.name, namespace: reference.namespace))
                }
                spec.dependsOn = present ? dependencies : nil
            case "imageRepositoryRef": spec.imageRepositoryRef = try FluxObject.NamedReference.scan(&scanner)
            default: try scanner.skip()
            }
        }
        return present ? spec : nil
    }
}

extension FluxObject.Spec.ChartTemplate {
    static func scan(_ scanner: inout JSONScanner) throws -> Self? {
        if try scanner.peek() == UInt8(ascii: "\"") { return Self(spec: nil, name: try scanner.stringLiteral()) }
        var chartSpec: FluxObject.Spec.ChartSpec?
        let present = try scanner.members { scanner, key in
            guard case "spec" = key else { return try scanner.skip() }
            var spec = FluxObject.Spec.ChartSpec()
            let present = try scanner.members { scanner, key in
                switch key {
                case "chart": spec.chart = try scanner.string()
                case "version": spec.version = try scanner.string()
                case "sourceRef": spec.sourceRef = try FluxObject.SourceReference.scan(&scanner)
                default: try scanner.skip()
                }
            }
            chartSpec = present ? spec : nil
        }
        return present ? Self(spec: chartSpec, name: nil) : nil
    }
}

extension FluxObject.NamedReference {
    static func scan(_ scanner: inout JSONScanner) throws -> Self? {
        var name: String?
        var namespace: String?
        let present = try scanner.members { scanner, key in
            switch key {
            case "name": name = try scanner.string()
            case "namespace": namespace = try scanner.string()
            default: try scanner.skip()
            }
        }
        guard present else { return nil }
        guard let name else { throw scanner.mismatch("a name") }
        return Self(name: name, namespace: namespace)
    }
}

extension FluxObject.Condition {
    static func scan(_ scanner: inout JSONScanner) throws -> Self {
        var type: String?
        var status: String?
        var condition = Self(type: "", status: "")
        let present = try scanner.members { scanner, key in
            switch key {
            case "type": type = try scanner.string()
            case "status": status = try scanner.string()
            case "reason": condition.reason = try scanner.string()
            case "message": condition.message = try scanner.string()
            case "lastTransitionTime": condition.lastTransitionTime = try scanner.string()
            case "observedGeneration": condition.observedGeneration = try scanner.int()
            default: try scanner.skip()
            }
        }
        guard present, let type, let status else { throw scanner.mismatch("a condition with type and status") }
        condition.type = type
        condition.status = status
        return condition
    }
}

extension FluxObject.Status {
    static func scan(_ scanner: inout JSONScanner) throws -> Self? {
        var status = Self(conditions: [])
        status.conditions = nil
        let present = try scanner.members { scanner, key in
            switch key {
            case "conditions":
                var conditions: [FluxObject.Condition] = []
                let present = try scanner.elements { conditions.append(try FluxObject.Condition.scan(&$0)) }
                status.conditions = present ? conditions : nil
            case "observedGeneration": status.observedGeneration = try scanner.int()
            case "lastAppliedRevision": status.lastAppliedRevision = try scanner.string()
            case "lastAttemptedRevision": status.lastAttemptedRevision = try scanner.string()
            case "artifact":
                var artifact = FluxObject.Artifact()
                let present = try scanner.members { scanner, key in
                    switch key {
                    case "revision": artifact.revision = try scanner.string()
                    case "lastUpdateTime": artifact.lastUpdateTime = try scanner.string()
                    default: try scanner.skip()
                    }
                }
                status.artifact = present ? artifact : nil
            case "helmChart": status.helmChart = try scanner.string()
            case "history": status.helmHistory = try scanner.lenient(FluxObject.HelmSnapshot.scanHistory) ?? nil
            default: try scanner.skip()
            }
        }
        return present ? status : nil
    }
}

extension FluxObject.HelmSnapshot {
    /// HelmRelease history: entries without an integer `version` are dropped, fields of another type read as
    /// absent; a history that is not an array of objects (a Kustomization's) is a ``JSONScanner/Mismatch``.
    static func scanHistory(_ scanner: inout JSONScanner) throws -> [Self]? {
        var entries: [Self] = []
        let present = try scanner.elements { scanner in
            var entry = Self()
            try scanner.members { scanner, key in
                switch key {
                case "version": entry.version = try scanner.lenient { try $0.int() } ?? nil
                case "status": entry.status = try scanner.lenient { try $0.string() } ?? nil
                case "action": entry.action = try scanner.lenient { try $0.string() } ?? nil
                case "chartName": entry.chartName = try scanner.lenient { try $0.string() } ?? nil
                case "chartVersion": entry.chartVersion = try scanner.lenient { try $0.string() } ?? nil
                case "appVersion": entry.appVersion = try scanner.lenient { try $0.string() } ?? nil
                case "firstDeployed": entry.firstDeployed = try scanner.lenient { try $0.string() } ?? nil
                case "lastDeployed": entry.lastDeployed = try scanner.lenient { try $0.string() } ?? nil
                default: try scanner.skip()
                }
            }
            if entry.version != nil { entries.append(entry) }
        }
        return present ? entries : nil
    }
}
