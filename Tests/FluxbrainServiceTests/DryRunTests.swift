import FluxbrainTestSupport
import FluxbrainTestbed
import Foundation
import Logging
import Testing

/// `fluxbrain once --dry-run` and `fluxbrain routes test`, run as a user would.
@Suite struct DryRunTests {
    @Test func aDryRunSendsNothingAnywhereCheckedAtTheFakeServers() async throws {
        try await FakeErrorbrain.with { errorbrain in
            try await WebhookSink.withRunning(logger: Logger(label: "sink")) { sink, url in
                let environment = [
                    "FLUXBRAIN_ERRORBRAIN_URL": errorbrain.baseURL.absoluteString,
                    "FLUXBRAIN_WEBHOOK_URL": url.absoluteString,
                ]
                let dry = try await FluxbrainProcess.run(
                    ["once", "--dry-run", "--snapshot", "examples/snapshot"],
                    environment: environment
                )
                #expect(dry.status == 0, "\(dry.stderr)")
                #expect(dry.stdout.contains("HelmRelease/podinfo/podinfo (cluster snapshot, stalled)"))
                #expect(dry.stdout.contains("would notify: webhook"))
                #expect(sink.records.isEmpty)
                #expect(try errorbrain.requests().isEmpty)

                // The same run without --dry-run reaches both servers (so the checks above can fail).
                let real = try await FluxbrainProcess.run(
                    ["once", "--snapshot", "examples/snapshot"],
                    environment: environment
                )
                #expect(real.status == 0, "\(real.stderr)")
                #expect(!sink.records.isEmpty)
                #expect(try !errorbrain.requests().isEmpty)
            }
        }
    }

    @Test func routesTestPrintsTheDecisionForAMadeUpIncident() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("routes-\(UUID().uuidString).yaml")
        try Data(
            """
            channels:
              - {name: oncall, type: console}
              - {name: team-a, type: console}
            routes:
              - to: [oncall]
                match: {labels: {team: platform}}
                exclude: {names: ["*-canary"]}
                stop: true
              - to: [team-a]
                match: {namespaces: [apps]}
            """.utf8
        ).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let environment = ["FLUXBRAIN_ROUTES_FILE": file.path]
        let platform = try await FluxbrainProcess.run(
            [
                "routes", "test", "--kind", "HelmRelease", "--namespace", "apps", "--name", "podinfo", "--state",
                "stalled", "--labels", "team=platform",
            ],
            environment: environment
        )
        #expect(platform.status == 0, "\(platform.stderr)")
        #expect(platform.stdout.contains("routes matched: 1 ("))
        #expect(platform.stdout.contains("would notify: oncall\n"))
        #expect(platform.stdout.contains("not: team-a (no route matched)"))
        let canary = try await FluxbrainProcess.run(
            [
                "routes", "test", "--kind", "HelmRelease", "--namespace", "apps", "--name", "podinfo-canary",
                "--state", "stalled", "--labels", "team=platform", "--annotations", "fluxbrain.io/notify=false",
            ],
            environment: environment
        )
        #expect(canary.stdout.contains("oncall (opted out by annotation fluxbrain.io/notify=false)"))
        let bad = try await FluxbrainProcess.run(
            ["routes", "test", "--kind", "K", "--namespace", "n", "--name", "x", "--state", "broken"],
            environment: environment
        )
        #expect(bad.status == 2)
    }
}
