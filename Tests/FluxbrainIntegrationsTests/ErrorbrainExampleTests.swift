import AsyncHTTPClient
import FluxbrainCore
import FluxbrainIntegrations
import FluxbrainTestSupport
import Foundation
import NIOCore
import Testing

/// The request/verdict pairs in docs/examples, against the fake Errorbrain (which validates every request against
/// the v1 schemas): the `infra` Kustomization of examples/snapshot (a kustomize build failure at a new commit) and
/// the remediated `ingress-nginx` HelmRelease (upgrade failed, rolled back). The committed files are compared with
/// what the code sends now; `FLUXBRAIN_WRITE_EXAMPLES=1` rewrites them. The verdict's `id` and `created_at` are set
/// by the server at run time and are not compared.
@Suite(.timeLimit(.minutes(2))) struct ErrorbrainExampleTests {
    @Test func kustomizationBuildFailureRequestAndVerdict() async throws {
        let incident = try NotifyFixtures.snapshotIncident("infra")
        #expect(incident.state == .retrying)
        try await FakeErrorbrain.with { fake in
            let client = ErrorbrainFixtures.client(fake, environment: .production)
            let result = try await client.analyze(incident)
            let request = try #require(try fake.requests().first)
            #expect(request.valid, "\(request.errors)")
            #expect(result.title == "Issue observed in kustomize-controller")
            #expect(result.retrySafety.summary == "Flux retries on its own every 2m0s")
            let metadata = request.body?["metadata"]
            #expect(
                metadata?["cause"]?.stringValue
                    == "infrastructure/production/ingress/certificate.yaml: no such file or directory"
            )
            #expect(
                metadata?["compare_url"]?.stringValue?.hasPrefix("https://github.com/example-org/fleet-infra/compare/")
                    == true
            )

            let verdict = try JSONDecoder().decode(
                JSONValue.self,
                from: Data(try await rawVerdict(fake: fake, eventID: client.event(for: incident).id).utf8)
            )
            try ExampleFiles.check([
                (
                    "errorbrain-request.json",
                    try ExampleFiles.json(try #require(request.body), name: "errorbrain-request.json")
                ),
                (
                    "errorbrain-verdict.json",
                    try ExampleFiles.json(verdict, name: "errorbrain-verdict.json", volatile: ["id", "created_at"])
                ),
                (
                    "analysis-result.json",
                    try ExampleFiles.json(
                        try ExampleFiles.jsonValue(result),
                        name: "analysis-result.json",
                        volatile: ["verdictID", "createdAt"]
                    )
                ),
            ])
        }
    }

    /// Errorbrain gets the failed upgrade, not the rollback: `message` and `error_type` are the `Released`
    /// condition's, the rollback is metadata; the event still validates against the v1 schemas.
    @Test func remediatedHelmReleaseSendsTheFailedUpgrade() async throws {
        let incident = try NotifyFixtures.snapshotIncident("ingress-nginx")
        try await FakeErrorbrain.with { fake in
            let client = ErrorbrainFixtures.client(fake, environment: .production)
            _ = try await client.analyze(incident)
            let request = try #require(try fake.requests().first)
            #expect(request.valid, "\(request.errors)")
            let body = try #require(request.body)
            #expect(
                body["message"]?.stringValue?.hasPrefix(
                    "Helm upgrade failed for release ingress-nginx/ingress-nginx with chart ingress-nginx@4.13.3"
                ) == true
            )
            #expect(body["error_type"]?.stringValue == "UpgradeFailed")
            #expect(body["metadata"]?["remediation"]?.stringValue == "rolled back to v11, chart 4.13.2")
            #expect(body["metadata"]?["remediation_reason"]?.stringValue == "RollbackSucceeded")
            #expect(body["metadata"]?["failing_chart"]?.stringValue == "4.13.3")
            try ExampleFiles.check([
                (
                    "errorbrain-request-helmrelease-remediated.json",
                    try ExampleFiles.json(body, name: "errorbrain-request-helmrelease-remediated.json")
                )
            ])
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
