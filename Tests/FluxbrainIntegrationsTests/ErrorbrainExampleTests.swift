import AsyncHTTPClient
import FluxbrainCore
import FluxbrainIntegrations
import FluxbrainTestSupport
import Foundation
import NIOCore
import Testing

/// The request/verdict pair for the `infra` Kustomization of examples/snapshot (a kustomize build failure), against
/// the fake Errorbrain. Always checks the exchange; with `FLUXBRAIN_WRITE_EXAMPLES=1` it also writes
/// docs/examples/errorbrain-request.json and docs/examples/errorbrain-verdict.json.
@Suite(.timeLimit(.minutes(2))) struct ErrorbrainExampleTests {
    static func infraIncident() throws -> Incident {
        let root = FakeErrorbrain.repositoryRoot
        let snapshot = try SnapshotLoader().load(path: root.appendingPathComponent("examples/snapshot/kustomizations.json").path)
        let object = try #require(snapshot.objects.first { $0.metadata.name == "infra" })
        let now = try #require(RFC3339.date(from: "2026-11-28T19:50:00Z"))
        var incident = try #require(Detector().incident(for: object, cluster: "prod-eu-1", now: now))
        #expect(incident.state == .retrying)
        // The snapshot holds no events or logs: add the Warning event and log line kustomize-controller writes.
        incident.affected = [ObjectReference(cluster: "prod-eu-1", kind: .kustomization, namespace: "flux-system", name: "apps")]
        incident.events = [
            EventRecord(
                type: "Warning", reason: "BuildFailed", message: incident.message, count: 12,
                firstTimestamp: RFC3339.date(from: "2026-11-28T19:41:03Z"),
                lastTimestamp: RFC3339.date(from: "2026-11-28T19:49:07Z"), reportingComponent: "kustomize-controller",
                revision: incident.revision)
        ]
        incident.logLines = [
            LogLine(
                timestamp: RFC3339.date(from: "2026-11-28T19:49:07Z"), level: "error", message: "Reconciliation failed",
                error: incident.message, pod: "kustomize-controller-5f7d8c9b6-q2w4e",
                reconcileID: "0b7e6c1d-2f3a-4b5c-8d9e-1a2b3c4d5e6f")
        ]
        return incident
    }

    @Test func kustomizationBuildFailureRequestAndVerdict() async throws {
        let incident = try Self.infraIncident()
        try await FakeErrorbrain.with { fake in
            let client = ErrorbrainFixtures.client(fake, environment: .production)
            let result = try await client.analyze(incident)
            let request = try #require(try fake.requests().first)
            #expect(request.valid)
            #expect(result.title == "Issue observed in kustomize-controller")
            #expect(result.retrySafety.summary == "Flux retries on its own every 2m0s")

            guard ProcessInfo.processInfo.environment["FLUXBRAIN_WRITE_EXAMPLES"] == "1" else { return }
            let examples = FakeErrorbrain.repositoryRoot.appendingPathComponent("docs/examples")
            try FileManager.default.createDirectory(at: examples, withIntermediateDirectories: true)
            try Data((try StableJSON.string(try #require(request.body), pretty: true) + "\n").utf8)
                .write(to: examples.appendingPathComponent("errorbrain-request.json"))
            // The verdict as the fake sent it (created_at without a zone), pretty-printed with sorted keys.
            let verdict = try JSONDecoder().decode(
                JSONValue.self, from: Data(try await rawVerdict(fake: fake, eventID: client.event(for: incident).id).utf8))
            try Data((try StableJSON.string(verdict, pretty: true) + "\n").utf8).write(to: examples.appendingPathComponent("errorbrain-verdict.json"))
            try Data((try StableJSON.string(result, pretty: true) + "\n").utf8)
                .write(to: examples.appendingPathComponent("analysis-result.json"))
        }
    }

    /// `GET /analysis/{id}`: the verdict the fake sent, keys in the server's order.
    private func rawVerdict(fake: FakeErrorbrain, eventID: String) async throws -> String {
        let request = HTTPClientRequest(url: fake.baseURL.absoluteString + "/analysis/" + eventID)
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        return String(buffer: body)
    }
}
