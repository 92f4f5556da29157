import FluxbrainCoordination
import FluxbrainCore
import FluxbrainRedis
import FluxbrainTestSupport
import Foundation
import Logging
import Testing

@testable import FluxbrainService

/// Every way out of `once` releases the scheduler lock it took and closes the Redis connections the composition
/// opened: checked on a real redis-server through `CLIENT LIST` (the client is named `fluxbrain-<replica>`).
@Suite struct OnceScopeTests {
    @Test func successReleasesTheLockAndClosesTheClients() async throws {
        try await Self.withRedis { url, admin in
            let directory = try Self.snapshot(failing: true)
            let configuration = try Self.configuration(redisURL: url, replica: "once-\(UUID().uuidString.prefix(8))")
            let outcome = try await Composition.withParts(
                configuration: configuration,
                snapshot: .path(directory),
                console: nil,
                mode: .once,
                logger: quietLogger
            ) { parts in
                #expect(try await Self.connections(named: "fluxbrain-\(configuration.replicaID)", admin: admin) > 0)
                return try await FluxbrainRuntime.runOnce(
                    configuration: configuration,
                    parts: parts,
                    logger: quietLogger
                )
            }
            #expect(outcome == .completed(enqueued: 1, deadLettered: 0, unread: []))
            try await Self.expectClosedAndUnlocked(configuration, admin: admin)
        }
    }

    @Test func anErrorReleasesTheLockAndClosesTheClients() async throws {
        try await Self.withRedis { url, admin in
            let configuration = try Self.configuration(redisURL: url, replica: "once-\(UUID().uuidString.prefix(8))")
            await #expect(throws: (any Error).self) {
                // The snapshot directory does not exist: the pass fails after the lock was taken.
                try await Composition.withParts(
                    configuration: configuration,
                    snapshot: .path("/nonexistent/\(UUID().uuidString)"),
                    console: nil,
                    mode: .once,
                    logger: quietLogger
                ) { parts in
                    try await FluxbrainRuntime.runOnce(configuration: configuration, parts: parts, logger: quietLogger)
                }
            }
            try await Self.expectClosedAndUnlocked(configuration, admin: admin)
        }
    }

    @Test func anotherLeaderKeepsItsLockAndTheClientsAreClosed() async throws {
        try await Self.withRedis { url, admin in
            let directory = try Self.snapshot(failing: true)
            let configuration = try Self.configuration(redisURL: url, replica: "once-\(UUID().uuidString.prefix(8))")
            let other = RedisCoordination(
                client: admin,
                configuration: .init(keyPrefix: configuration.redisPrefix, maxAttempts: 3),
                logger: quietLogger
            )
            let held = try #require(try await other.acquire(replicaID: "other", ttl: .seconds(60)))
            let outcome = try await Composition.withParts(
                configuration: configuration,
                snapshot: .path(directory),
                console: nil,
                mode: .once,
                logger: quietLogger
            ) { parts in
                try await FluxbrainRuntime.runOnce(configuration: configuration, parts: parts, logger: quietLogger)
            }
            #expect(outcome == .anotherReplicaLeads(holder: "other"))
            #expect(try await other.holder() == held)
            #expect(try await other.stats().pending == 0)
            #expect(
                await eventually {
                    (try? await Self.connections(named: "fluxbrain-\(configuration.replicaID)", admin: admin)) == 0
                }
            )
        }
    }

    // MARK: Helpers

    static func expectClosedAndUnlocked(_ configuration: FluxbrainConfiguration, admin: RedisClient) async throws {
        let coordination = RedisCoordination(
            client: admin,
            configuration: .init(keyPrefix: configuration.redisPrefix, maxAttempts: 3),
            logger: quietLogger
        )
        #expect(try await coordination.holder() == nil, "the scheduler lock is still held")
        #expect(
            await eventually {
                (try? await connections(named: "fluxbrain-\(configuration.replicaID)", admin: admin)) == 0
            },
            "connections of the run are still open"
        )
    }

    static func connections(named name: String, admin: RedisClient) async throws -> Int {
        let list = try await admin.send("CLIENT", "LIST").string ?? ""
        return list.split(separator: "\n").filter { $0.contains(" name=\(name) ") }.count
    }

    static func configuration(redisURL: String, replica: String) throws -> FluxbrainConfiguration {
        try FluxbrainConfiguration(
            environment: EnvironmentReader([
                "FLUXBRAIN_REDIS_URL": redisURL, "FLUXBRAIN_REDIS_PREFIX": "fbonce-\(UUID().uuidString.prefix(8))",
                "FLUXBRAIN_REPLICA_ID": replica, "FLUXBRAIN_CLUSTER": "once", "FLUXBRAIN_WORKERS": "1",
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

    /// A redis-server URL (the shared CI one, or a private server) and an admin client on it.
    static func withRedis(_ body: (String, RedisClient) async throws -> Void) async throws {
        if let url = TestEnvironment.sharedRedisURL {
            try await withRedisClient(configuration: try RedisConfiguration(url: url), logger: quietLogger) { admin in
                try await body(url, admin)
            }
            return
        }
        try await RedisServerProcess.with { server in
            try await withRedisClient(configuration: try RedisConfiguration(url: server.url), logger: quietLogger) {
                admin in
                try await body(server.url, admin)
            }
        }
    }
}
