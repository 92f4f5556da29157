import FluxbrainCore
import Foundation

/// Builds Flux objects the way the API server serves them (JSON text decoded through `FluxObject`), so detection
/// tests run over the real wire shape rather than hand-filled structs.
enum Fixture {
    static let now = RFC3339.date(from: "2026-11-28T20:00:00Z")!
    static let recent = "2026-11-28T19:58:00Z"
    static let longAgo = "2026-11-28T18:00:00Z"

    /// One condition as JSON.
    static func condition(
        _ type: String,
        _ status: String,
        _ reason: String,
        _ message: String = "",
        at time: String = recent,
        generation: Int64 = 1
    ) -> String {
        """
        {"type":\(quote(type)),"status":\(quote(status)),"reason":\(quote(reason)),"message":\(quote(message)),\
        "lastTransitionTime":\(quote(time)),"observedGeneration":\(generation)}
        """
    }

    static func quote(_ text: String) -> String {
        let data = try! JSONEncoder().encode(text)
        return String(decoding: data, as: UTF8.self)
    }

    /// A realistic spec for each kind.
    static func spec(for kind: FluxKind, suspend: Bool = false, extra: String = "") -> String {
        let suspendField = suspend ? "\"suspend\":true," : ""
        let extraField = extra.isEmpty ? "" : "\(extra),"
        switch kind {
        case .kustomization:
            return """
                {\(suspendField)\(extraField)"interval":"10m0s","retryInterval":"2m0s","path":"./apps","prune":true,\
                "sourceRef":{"kind":"GitRepository","name":"flux-system"}}
                """
        case .helmRelease:
            return """
                {\(suspendField)\(extraField)"interval":"10m","chart":{"spec":{"chart":"podinfo","version":"6.9.x",\
                "sourceRef":{"kind":"HelmRepository","name":"podinfo","namespace":"flux-system"}}}}
                """
        case .gitRepository:
            return """
                {\(suspendField)\(extraField)"interval":"1m0s","url":"https://github.com/example-org/fleet","ref":{"branch":"main"}}
                """
        case .ociRepository:
            return """
                {\(suspendField)\(extraField)"interval":"5m","url":"oci://ghcr.io/example-org/manifests","ref":{"tag":"latest"}}
                """
        case .helmRepository:
            return """
                {\(suspendField)\(extraField)"interval":"1h","url":"https://stefanprodan.github.io/podinfo"}
                """
        case .helmChart:
            return """
                {\(suspendField)\(extraField)"interval":"10m","chart":"podinfo","version":"6.9.x",\
                "sourceRef":{"kind":"HelmRepository","name":"podinfo"},"reconcileStrategy":"ChartVersion"}
                """
        case .bucket:
            return """
                {\(suspendField)\(extraField)"interval":"5m","provider":"generic","bucketName":"manifests",\
                "endpoint":"minio.minio.svc:9000"}
                """
        case .imageRepository:
            return """
                {\(suspendField)\(extraField)"interval":"5m","image":"ghcr.io/stefanprodan/podinfo"}
                """
        case .imagePolicy:
            return """
                {\(suspendField)\(extraField)"imageRepositoryRef":{"name":"podinfo"},"policy":{"semver":{"range":"6.9.x"}}}
                """
        default:
            return """
                {\(suspendField)\(extraField)"interval":"30m","sourceRef":{"kind":"GitRepository","name":"flux-system"},\
                "git":{"commit":{"author":{"name":"fluxbot","email":"flux@example.org"}}},"update":{"strategy":"Setters"}}
                """
        }
    }

    /// A whole object as JSON text.
    static func json(
        kind: FluxKind,
        namespace: String = "flux-system",
        name: String = "example",
        generation: Int64 = 1,
        observedGeneration: Int64? = 1,
        conditions: [String],
        suspend: Bool = false,
        specExtra: String = "",
        statusExtra: String = ""
    ) -> String {
        let observed = observedGeneration.map { "\"observedGeneration\":\($0)," } ?? ""
        let extra = statusExtra.isEmpty ? "" : "\(statusExtra),"
        return """
            {"apiVersion":"\(kind.apiVersion)","kind":"\(kind.name)","metadata":{"name":"\(name)","namespace":"\(namespace)",\
            "generation":\(generation),"resourceVersion":"4821","uid":"0b9c1d2e-3f40-4152-8a6b-7c8d9e0f1a2b",\
            "creationTimestamp":"2026-10-02T08:11:40Z","finalizers":["finalizers.fluxcd.io"]},\
            "spec":\(spec(for: kind, suspend: suspend, extra: specExtra)),\
            "status":{\(observed)\(extra)"conditions":[\(conditions.joined(separator: ","))],"unknownFutureField":{"x":[1,2]}}}
            """
    }

    static func object(
        kind: FluxKind,
        namespace: String = "flux-system",
        name: String = "example",
        generation: Int64 = 1,
        observedGeneration: Int64? = 1,
        conditions: [String],
        suspend: Bool = false,
        specExtra: String = "",
        statusExtra: String = ""
    ) -> FluxObject {
        let text = json(
            kind: kind,
            namespace: namespace,
            name: name,
            generation: generation,
            observedGeneration: observedGeneration,
            conditions: conditions,
            suspend: suspend,
            specExtra: specExtra,
            statusExtra: statusExtra
        )
        do {
            return try FluxObject(json: FastJSON.parse(Array(text.utf8)))
        } catch {
            fatalError("fixture does not decode: \(error)\n\(text)")
        }
    }
}
