import FluxbrainCoordination
import FluxbrainCore
import FluxbrainRedis
import FluxbrainTestSupport
import FluxbrainTestbed
import Foundation
import Logging
import Synchronization
import Testing

@testable import FluxbrainService

/// Every way out of `once` releases the scheduler lock it took and closes the clients the composition opened.
///
/// Each test keeps the run's `RuntimeParts` (and so its Redis and HTTP clients) alive past the scope, so a client
/// that was not shut down cannot have been closed by its deinit instead: the Redis connections are checked on a real
/// redis-server through `CLIENT LIST` (the client is named `fluxbrain-<replica>`), the HTTP clients by asking the
/// parts' readiness to reach a stand-in Errorbrain, which must not see the request.
@Suite struct OnceScopeTests {
    @Test func successReleasesTheLockAndClosesTheClients() async throws {
        try await Self.withRedis { url, admin, errorbrain in
            let directory = try Self.snapshot(failing: true)
            let configuration = try Self.configuration(redisURL: url, errorbrain: errorbrain)
            let kept = KeptParts()
            let outcome = try await Self.once(directory, configuration, kept, admin: admin, errorbrain: errorbrain)
            #expect(outcome == .completed(enqueued: 1, deadLettered: 0, unread: []))
            try await Self.expectClosedAndUnlocked(kept.parts, configuration, admin: admin, errorbrain: errorbrain)
        }
    }

    @Test func anErrorReleasesTheLockAndClosesTheClients() async throws {
        try await Self.withRedis { url, admin, errorbrain in
            let configuration = try Self.configuration(redisURL: url, errorbrain: errorbrain)
            let kept = KeptParts()
            await #expect(throws: (any Error).self) {
                // The snapshot directory does not exist: the pass fails after the lock was taken.
                try await Self.once(
                    "/nonexistent/\(UUID().uuidString)",
                    configuration,
                    kept,
                    admin: admin,
                    errorbrain: errorbrain
                )
            }
            try await Self.expectClosedAndUnlocked(kept.parts, configuration, admin: admin, errorbrain: errorbrain)
        }
    }

    @Test func anotherLeaderKeepsItsLockAndTheClientsAreClosed() async throws {
        try await Self.withRedis { url, admin, errorbrain in
            let directory = try Self.snapshot(failing: true)
            let configuration = try Self.configuration(redisURL: url, errorbrain: errorbrain)
            let kept = KeptParts()
            let other = RedisCoordination(
                client: admin,
                configuration: .init(keyPrefix: configuration.redisPrefix, maxAttempts: 3),
                logger: quietLogger
            )
            let held = try #require(try await other.acquire(replicaID: "other", ttl: .seconds(60)))
            let outcome = try await Self.once(directory, configuration, kept, admin: admin, errorbrain: errorbrain)
            #expect(outcome == .anotherReplicaLeads(holder: "other"))
            #expect(try await other.holder() == held)
            #expect(try await other.stats().pending == 0)
            try await Self.expectClosed(kept.parts, configuration, admin: admin, errorbrain: errorbrain)
        }
    }

    // MARK: Helpers

    /// `once` over the snapshot at `path`, keeping its parts in `kept` and checking its clients are open first.
    static func once(
        _ path: String,
        _ configuration: FluxbrainConfiguration,
        _ kept: KeptParts,
        admin: RedisClient,
        errorbrain: CountingErrorbrain
    ) async throws -> OnceOutcome {
        try await Composition.withParts(
            configuration: configuration,
            snapshot: .path(path),
            console: nil,
            mode: .once,
            logger: quietLogger
        ) { parts in
            kept.keep(parts)
            try await expectOpen(parts, configuration, admin: admin, errorbrain: errorbrain)
            return try await FluxbrainRuntime.runOnce(configuration: configuration, parts: parts, logger: quietLogger)
        }
    }

    /// Inside the scope: the run's Redis connections are open and its Errorbrain client reaches the stand-in.
    static func expectOpen(
        _ parts: RuntimeParts,
        _ configuration: FluxbrainConfiguration,
        admin: RedisClient,
        errorbrain: CountingErrorbrain
    ) async throws {
        #expect(try await connections(named: "fluxbrain-\(configuration.replicaID)", admin: admin) > 0)
        let before = errorbrain.healthChecks
        let check = await parts.readiness().first { $0.name == "errorbrain" }
        #expect(check?.detail == "healthy")
        #expect(errorbrain.healthChecks == before + 1)
    }

    static func expectClosedAndUnlocked(
        _ kept: RuntimeParts?,
        _ configuration: FluxbrainConfiguration,
        admin: RedisClient,
        errorbrain: CountingErrorbrain
    ) async throws {
        let coordination = RedisCoordination(
            client: admin,
            configuration: .init(keyPrefix: configuration.redisPrefix, maxAttempts: 3),
            logger: quietLogger
        )
        #expect(try await coordination.holder() == nil, "the scheduler lock is still held")
        try await expectClosed(kept, configuration, admin: admin, errorbrain: errorbrain)
    }

    /// After the scope, with `kept` (the run's parts) still referenced so that no client was deinitialized: the
    /// Redis connections are closed and the HTTP clients refuse to send (the stand-in Errorbrain sees nothing).
    static func expectClosed(
        _ kept: RuntimeParts?,
        _ configuration: FluxbrainConfiguration,
        admin: RedisClient,
        errorbrain: CountingErrorbrain
    ) async throws {
        let parts = try #require(kept, "the run never got its parts")
        #expect(
            await eventually {
                (try? await connections(named: "fluxbrain-\(configuration.replicaID)", admin: admin)) == 0
            },
            "connections of the run are still open"
        )
        let before = errorbrain.healthChecks
        let check = await parts.readiness().first { $0.name == "errorbrain" }
        #expect(check?.detail.hasPrefix("unreachable") == true, "the HTTP clients still send")
        #expect(errorbrain.healthChecks == before, "a request went out on a client that should be shut down")
        withExtendedLifetime(parts) {}
    }

    static func connections(named name: String, admin: RedisClient) async throws -> Int {
        let list = try await admin.send("CLIENT", "LIST").string ?? ""
        return list.split(separator: "\n").filter { $0.contains(" name=\(name) ") }.count
    }

    /// One analysis attempt: the stand-in rejects events, so the incident goes out without analysis at once.
    static func configuration(redisURL: String, errorbrain: CountingErrorbrain) throws -> FluxbrainConfiguration {
        try FluxbrainConfiguration(
            environment: EnvironmentReader([
                "FLUXBRAIN_REDIS_URL": redisURL, "FLUXBRAIN_REDIS_PREFIX": "fbonce-\(UUID().uuidString.prefix(8))",
                "FLUXBRAIN_REPLICA_ID": "once-\(UUID().uuidString.prefix(8))", "FLUXBRAIN_CLUSTER": "once",
                "FLUXBRAIN_WORKERS": "1", "FLUXBRAIN_ERRORBRAIN_URL": errorbrain.url,
                "FLUXBRAIN_ANALYSIS_MAX_ATTEMPTS": "1",
            ]),
            hostname: "test"
        )
    }

    /// A snapshot directory with one Kustomization, failing or ready.
    static func snapshot(failing: Bool) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "fluxbrain-once-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let condition =
            failing
            ? #"{"type":"Ready","status":"False","reason":"BuildFailed","message":"kustomize build failed","lastTransitionTime":"2026-11-28T19:00:00Z","observedGeneration":1}"#
            : #"{"type":"Ready","status":"True","reason":"ReconciliationSucceeded","message":"ok","lastTransitionTime":"2026-11-28T19:00:00Z","observedGeneration":1}"#
        let object = """
            {"apiVersion":"kustomize.toolkit.fluxcd.io/v1","kind":"Kustomization",\
            "metadata":{"name":"apps","namespace":"flux-system","generation":1},\
            "spec":{"interval":"5m","path":"./apps","prune":true,"sourceRef":{"kind":"GitRepository","name":"fleet"}},\
            "status":{"observedGeneration":1,"conditions":[\(condition)],"lastAttemptedRevision":"main@sha1:1"}}
            """
        try Data(object.utf8).write(to: directory.appendingPathComponent("apps.json"))
        return directory.path
    }

    /// A redis-server URL (the shared CI one, or a private server), an admin client on it, and a stand-in
    /// Errorbrain.
    static func withRedis(
        _ body: @Sendable (String, RedisClient, CountingErrorbrain) async throws -> Void
    ) async throws {
        try await CountingErrorbrain.withRunning { errorbrain in
            if let url = TestEnvironment.sharedRedisURL {
                try await withRedisClient(configuration: try RedisConfiguration(url: url), logger: quietLogger) {
                    admin in
                    try await body(url, admin, errorbrain)
                }
                return
            }
            try await RedisServerProcess.with { server in
                try await withRedisClient(configuration: try RedisConfiguration(url: server.url), logger: quietLogger) {
                    admin in
                    try await body(server.url, admin, errorbrain)
                }
            }
        }
    }
}

/// The run's parts, kept past its scope.
final class KeptParts: Sendable {
    private let value = Mutex<RuntimeParts?>(nil)
    var parts: RuntimeParts? { value.withLock { $0 } }
    func keep(_ parts: RuntimeParts) { value.withLock { $0 = parts } }
}

/// A stand-in Errorbrain on loopback that counts `GET /healthz` (answered 200) and rejects every event (400, which
/// Errorbrain's client does not retry).
final class CountingErrorbrain: Sendable {
    private let count = Mutex(0)
    private let port = Mutex(0)

    var healthChecks: Int { count.withLock { $0 } }
    var url: String { "http://127.0.0.1:\(port.withLock { $0 })" }

    static func withRunning(_ body: @Sendable (CountingErrorbrain) async throws -> Void) async throws {
        let fake = CountingErrorbrain()
        var logger = Logger(label: "counting-errorbrain")
        logger.logLevel = .critical
        try await withLoopbackServer(
            logger: logger,
            respond: { request in
                _ = try await RecordedRequest.read(request)
                guard request.uri.path == "/healthz" else { return fakeResponse(status: 400, body: "{}") }
                fake.count.withLock { $0 += 1 }
                return fakeResponse(status: 200, body: "ok")
            },
            body: { port in
                fake.port.withLock { $0 = port }
                try await body(fake)
            }
        )
    }
}
