import FluxbrainCoordination
import FluxbrainCore
import FluxbrainRedis
import FluxbrainTestSupport
import Foundation
import Logging
import Metrics
import Prometheus
import Testing

@testable import FluxbrainService

/// `fluxbrain silence add|list|expire` as a user runs it (the built binary) against a real redis-server, and
/// `fluxbrain_silences_active` as `/metrics` exports it.
@Suite struct SilenceCommandTests {
    static let quietLogger = Logger(label: "fluxbrain.silence.test") { _ in SwiftLogNoOpLogHandler() }

    /// The shared test Redis, or a private server; a key prefix of the test's own.
    static func withRedis(
        _ body: (_ environment: [String: String], _ url: String, _ prefix: String) async throws -> Void
    )
        async throws
    {
        let prefix = "fbtest-\(UUID().uuidString.prefix(8).lowercased())"
        func run(_ url: String) async throws {
            try await body(
                ["FLUXBRAIN_REDIS_URL": url, "FLUXBRAIN_REDIS_PREFIX": prefix, "FLUXBRAIN_LOG_LEVEL": "error"],
                url,
                prefix
            )
        }
        if let url = TestEnvironment.sharedRedisURL {
            try await run(url)
        } else {
            try await RedisServerProcess.with { server in try await run(server.url) }
        }
    }

    static func silence(_ arguments: [String], _ environment: [String: String]) async throws -> FluxbrainProcess.Result
    {
        try await FluxbrainProcess.run(["silence"] + arguments, environment: environment)
    }

    /// `once --dry-run` with Redis shows the silences the replicas honour: what `silence add` stored.
    @Test func aDryRunShowsTheSharedSilences() async throws {
        try await Self.withRedis { environment, _, _ in
            let added = try await Self.silence(
                ["add", "--match", "kind=HelmRelease,name=podinfo", "--for", "1h", "--comment", "upgrade"],
                environment
            )
            #expect(added.status == 0, "\(added.stderr)")
            let id = added.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let dry = try await FluxbrainProcess.run(
                ["once", "--dry-run", "--snapshot", "examples/snapshot"],
                environment: environment
            )
            #expect(dry.status == 0, "\(dry.stderr)")
            #expect(dry.stdout.contains("HelmRelease/podinfo/podinfo (cluster snapshot, stalled)\n"))
            #expect(dry.stdout.contains("not: console (silenced by \(id))"))
            // Only the matching incident is silenced.
            #expect(dry.stdout.components(separatedBy: "silenced by").count == 2, "\(dry.stdout)")
        }
    }

    @Test func addListExpireThroughTheSharedStore() async throws {
        try await Self.withRedis { environment, url, prefix in
            let added = try await Self.silence(
                [
                    "add", "--match", "kind=HelmRelease,namespace=apps,name=podinfo*", "--for", "2h", "--comment",
                    "upgrading podinfo", "--author", "alice",
                ],
                environment
            )
            #expect(added.status == 0, "\(added.stderr)")
            let id = added.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(UUID(uuidString: id) != nil, "not an id: \(id)")

            // What the replicas read: the same silence in the Redis store, active for two hours.
            let stored = try await withRedisClient(
                configuration: try RedisConfiguration(url: url),
                logger: Self.quietLogger
            ) {
                client in
                try await RedisSilenceStore(client: client, keyPrefix: prefix, logger: Self.quietLogger)
                    .active(at: Date())
            }
            let silence = try #require(stored.first)
            #expect(stored.count == 1)
            #expect(silence.id == id)
            #expect(silence.createdBy == "alice")
            #expect(silence.comment == "upgrading podinfo")
            #expect(abs(silence.endsAt.timeIntervalSince(silence.startsAt) - 7200) < 0.01)
            #expect(
                silence.matchers.matches(
                    RoutingSubject(
                        cluster: "c",
                        kind: "HelmRelease",
                        namespace: "apps",
                        name: "podinfo-2",
                        state: .stalled
                    )
                )
            )

            let table = try await Self.silence(["list"], environment)
            #expect(table.status == 0)
            let lines = table.stdout.split(separator: "\n")
            #expect(lines.first?.hasPrefix("ID") == true)
            #expect(lines.first?.contains("MATCHERS") == true)
            #expect(
                lines.contains {
                    $0.hasPrefix(id) && $0.contains("kind=HelmRelease,namespace=apps,name=podinfo*")
                        && $0.contains("alice") && $0.hasSuffix("upgrading podinfo")
                }
            )

            let json = try await Self.silence(["list", "--output", "json"], environment)
            #expect(json.status == 0)
            let listed = try #require(
                try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
            )
            #expect(listed.count == 1)
            #expect(listed.first?["id"] as? String == id)
            #expect(listed.first?["match"] as? String == "kind=HelmRelease,namespace=apps,name=podinfo*")
            #expect(listed.first?["createdBy"] as? String == "alice")

            let expired = try await Self.silence(["expire", id], environment)
            #expect(expired.status == 0, "\(expired.stderr)")
            let after = try await Self.silence(["list", "--output", "json"], environment)
            #expect(
                after.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[\n\n]" || after.stdout.contains("[]")
            )

            let again = try await Self.silence(["expire", id], environment)
            #expect(again.status == 1)
            #expect(again.stderr.contains("no active silence \(id)"))
        }
    }

    @Test func authorDefaultsToTheUser() async throws {
        try await Self.withRedis { environment, _, _ in
            var env = environment
            env["USER"] = "bob-from-env"
            let added = try await Self.silence(
                ["add", "--match", "namespace=apps", "--for", "30m", "--comment", "x"],
                env
            )
            #expect(added.status == 0, "\(added.stderr)")
            let json = try await Self.silence(["list", "--output", "json"], env)
            #expect(json.stdout.contains(#""createdBy" : "bob-from-env""#))
        }
    }

    /// Bad input is refused before anything is stored: exit 2 and a message naming the argument.
    @Test(arguments: [
        (["--match", "kind=HelmRelease,colour=red", "--for", "2h", "--comment", "c"], "unknown key 'colour'"),
        (["--match", "name=a,name=b", "--for", "2h", "--comment", "c"], "'name' is given twice"),
        (["--match", "state=broken", "--for", "2h", "--comment", "c"], "unknown state 'broken'"),
        (["--for", "2h", "--comment", "c"], "no matchers given"),
        (["--match", "namespace=apps", "--for", "2x", "--comment", "c"], "invalid --for '2x'"),
        (["--match", "namespace=apps", "--for", "0s", "--comment", "c"], "invalid --for '0s'"),
        (["--match", "namespace=apps", "--for", "2h", "--comment", " "], "--comment is empty"),
        (["--match", "namespace=apps", "--for", "2h"], "Missing expected argument '--comment"),
    ])
    func badInputExitsTwo(_ arguments: [String], _ message: String) async throws {
        try await Self.withRedis { environment, url, prefix in
            let result = try await Self.silence(["add"] + arguments, environment)
            #expect(result.status == 2)
            #expect(result.stderr.contains(message), "\(result.stderr)")
            let stored = try await withRedisClient(
                configuration: try RedisConfiguration(url: url),
                logger: Self.quietLogger
            ) {
                client in
                try await client.send("EXISTS", "\(prefix):{fbs}:silences").integer
            }
            #expect(stored == 0)
        }
    }

    @Test(arguments: [
        ["add", "--match", "namespace=apps", "--for", "2h", "--comment", "c"], ["list"], ["expire", "some-id"],
    ])
    func withoutRedisItSaysSilencesNeedSharedStateAndExitsTwo(_ arguments: [String]) async throws {
        let result = try await Self.silence(arguments, ["FLUXBRAIN_LOG_LEVEL": "error"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("FLUXBRAIN_REDIS_URL: not set; silences are shared state"), "\(result.stderr)")
    }

    // MARK: fluxbrain_silences_active

    /// The gauge counts what is active at the wall clock's now, on every refresh, with its HELP text on `/metrics`.
    @Test func silencesActiveGaugeFollowsTheStore() async throws {
        let registry = PrometheusCollectorRegistry()
        let factory = FluxbrainMetricsFactory(registry: registry)
        let clock = ManualClock()
        let now = clock.wall.now()
        let store = InMemorySilenceStore()
        let gauge = SilenceGauge(
            store: store,
            interval: .seconds(15),
            clock: clock,
            wallClock: clock.wall,
            metricsFactory: factory,
            logger: Self.quietLogger
        )
        func exported() -> String? {
            registry.emitToString().split(separator: "\n").first { $0.hasPrefix("fluxbrain_silences_active ") }
                .map(String.init)
        }
        await gauge.refresh()
        #expect(exported() == "fluxbrain_silences_active 0.0")
        #expect(registry.emitToString().contains("# HELP fluxbrain_silences_active Silences in effect"))

        for minutes in [10.0, 30.0] {
            try await store.add(SilenceStoreConformance.silence(base: now, minutes: minutes))
        }
        await gauge.refresh()
        #expect(exported() == "fluxbrain_silences_active 2.0")
        clock.advance(by: .seconds(15 * 60))
        await gauge.refresh()
        #expect(exported() == "fluxbrain_silences_active 1.0")
        clock.advance(by: .seconds(30 * 60))
        await gauge.refresh()
        #expect(exported() == "fluxbrain_silences_active 0.0")
    }

    /// With Redis the composition root hands out the shared store (what `silence add` writes is what a replica's
    /// routing and gauge read); without, an in-memory one.
    @Test func compositionPicksTheRedisStoreWithRedis() async throws {
        try await Self.withRedis { environment, _, _ in
            let configuration = try FluxbrainConfiguration(environment: EnvironmentReader(environment))
            let added = try await Self.silence(
                ["add", "--match", "namespace=apps", "--for", "1h", "--comment", "shared"],
                environment
            )
            #expect(added.status == 0, "\(added.stderr)")
            let ids = try await Composition.withState(configuration: configuration, logger: Self.quietLogger) {
                state in
                #expect(state.silences is RedisSilenceStore)
                return try await state.silences.active(at: Date()).map(\.id)
            }
            #expect(ids == [added.stdout.trimmingCharacters(in: .whitespacesAndNewlines)])
        }
        let memory = try FluxbrainConfiguration(environment: EnvironmentReader([:]))
        try await Composition.withState(configuration: memory, logger: Self.quietLogger) { state in
            #expect(state.silences is InMemorySilenceStore)
        }
    }
}
