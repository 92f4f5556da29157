import AsyncHTTPClient
import FluxbrainCore
import FluxbrainTestSupport
import FluxbrainTestbed
import Foundation
import NIOCore
import Testing

/// The fake cluster answers API discovery as an API server with the Flux CRDs does, so `kubectl get` works against
/// the testbed (CI also runs the real kubectl against it, in `scripts/testbed.sh --ci`).
@Suite struct FakeClusterDiscoveryTests {
    private static func get(_ url: URL, _ path: String) async throws -> (status: Int, body: JSONValue?) {
        let response = try await HTTPClient.shared.execute(
            HTTPClientRequest(url: url.absoluteString + path),
            timeout: .seconds(10)
        )
        let body = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), try? FastJSON.parse(Array(buffer: body)))
    }

    @Test func servesVersionsGroupsAndResourcesOfEveryFluxKind() async throws {
        try await withFakeKubernetesServer { _, url in
            let version = try await Self.get(url, "/version")
            #expect(version.body?["major"] == .string("1"))
            #expect(try await Self.get(url, "/api").body?["versions"] == .array([.string("v1")]))
            let core = try await Self.get(url, "/api/v1").body?["resources"]?.arrayValue ?? []
            #expect(Set(core.compactMap { $0["name"]?.stringValue }) == ["events", "pods", "pods/log"])

            let groups = try await Self.get(url, "/apis").body?["groups"]?.arrayValue ?? []
            let served = Set(groups.compactMap { $0["preferredVersion"]?["groupVersion"]?.stringValue })
            #expect(served == Set(FluxKind.all.map { "\($0.group)/\($0.version)" }))
            for kind in FluxKind.all {
                let list = try await Self.get(url, "/apis/\(kind.group)/\(kind.version)").body
                let resource = list?["resources"]?.arrayValue?.first { $0["name"]?.stringValue == kind.plural }
                #expect(resource?["kind"] == .string(kind.name), "\(kind.name)")
                #expect(resource?["namespaced"] == .bool(true))
                #expect(resource?["verbs"]?.arrayValue?.contains(.string("list")) == true)
            }
            #expect(try await Self.get(url, "/apis/example.com/v1").status == 404)
        }
    }

    @Test func leavesOutAKindWhoseCRDIsMissing() async throws {
        let state = FakeKubernetesState()
        await state.setMissing(.helmRelease)
        try await withFakeKubernetesServer(state: state) { _, url in
            let groups = try await Self.get(url, "/apis").body?["groups"]?.arrayValue ?? []
            #expect(!groups.contains { $0["name"] == .string(FluxKind.helmRelease.group) })
            #expect(try await Self.get(url, "/apis/helm.toolkit.fluxcd.io/v2").status == 404)
        }
    }
}
