import FluxbrainCore
import FluxbrainIntegrations
import FluxbrainTestSupport
import FluxbrainTestbed
import Foundation
import Logging

/// Shared pieces of the Kubernetes integration tests.
enum KubeTest {
    static let logger: Logger = {
        var logger = Logger(label: "kube-test")
        logger.logLevel = .critical
        return logger
    }()

    /// Runs `body` with a Kubernetes-ready HTTPClient, shut down afterwards.
    static func withHTTPClient<T: Sendable>(_ body: (KubernetesHTTPClient) async throws -> T) async throws -> T {
        let client = KubernetesClient.makeHTTPClient()
        do {
            let result = try await body(client)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// Runs `body` with a set of Kubernetes HTTP clients (shared plus per-cluster ones), shut down afterwards.
    static func withHTTPClients<T: Sendable>(_ body: (HTTPClients) async throws -> T) async throws -> T {
        let clients = HTTPClients.kubernetes()
        do {
            let result = try await body(clients)
            await clients.shutdown()
            return result
        } catch {
            await clients.shutdown()
            throw error
        }
    }

    /// A JSON object text of a Flux object.
    static func object(
        _ kind: FluxKind,
        namespace: String = "flux-system",
        name: String,
        ready: String = "True",
        reason: String = "Succeeded",
        message: String = "ok",
        generation: Int = 1,
        extraSpec: String = "",
        extraStatus: String = ""
    ) -> String {
        let spec: String
        switch kind {
        case .kustomization:
            spec =
                #""interval":"10m","path":"./","prune":true,"sourceRef":{"kind":"GitRepository","name":"flux-system"}"#
        case .helmRelease:
            spec =
                #""interval":"10m","chart":{"spec":{"chart":"podinfo","sourceRef":{"kind":"HelmRepository","name":"podinfo"}}}"#
        default:
            spec = #""interval":"1m","url":"https://example.org/repo""#
        }
        let specText = extraSpec.isEmpty ? spec : "\(spec),\(extraSpec)"
        let statusExtra = extraStatus.isEmpty ? "" : ",\(extraStatus)"
        return """
            {"apiVersion":"\(kind.apiVersion)","kind":"\(kind.name)","metadata":{"name":"\(name)","namespace":"\(namespace)",\
            "generation":\(generation)},"spec":{\(specText)},"status":{"observedGeneration":\(generation),"conditions":[\
            {"type":"Ready","status":"\(ready)","reason":"\(reason)","message":"\(message)",\
            "lastTransitionTime":"2026-11-28T19:50:00Z","observedGeneration":\(generation)}]\(statusExtra)}}
            """
    }
}
