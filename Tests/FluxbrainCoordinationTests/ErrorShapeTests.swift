import FluxbrainCoordination
import FluxbrainCore
import FluxbrainRedis
import FluxbrainTestSupport
import Logging
import Testing

/// The one error shape: every layer's error reads as one line saying what failed, why and which setting to look
/// at; the debug rendering keeps the whole chain with its throw sites.
@Suite struct ErrorShapeTests {
    @Test func aWrappedRedisFailureReadsAsTheRedisFailure() {
        let redis = RedisError(.connectionRefused, "cannot reach Redis at 127.0.0.1:6399 (connection refused)")
        let error = CoordinationError(.redis, "lock_acquire failed", underlying: redis)
        #expect(
            error.description == "cannot reach Redis at 127.0.0.1:6399 (connection refused); check FLUXBRAIN_REDIS_URL"
        )
        #expect(error.isConnectionFailure == false)
        let debug = error.debugDescription
        #expect(
            debug.hasPrefix(
                "CoordinationError(code: redis, message: \"lock_acquire failed\", underlying: RedisError(code: connectionRefused"
            )
        )
        // Both throw sites, the inner one and the outer one.
        #expect(debug.components(separatedBy: "FluxbrainCoordinationTests/ErrorShapeTests.swift:").count == 3)
    }

    @Test func everyLayerSharesTheShape() {
        let core = CoreError(.invalidInput, "snapshot x.yaml: not YAML")
        #expect(core.description == "snapshot x.yaml: not YAML")
        #expect(core.debugDescription.hasPrefix("CoreError(code: invalidInput"))
        let notification = NotificationError(
            .rateLimited,
            "Slack: rate limited",
            httpStatus: 429,
            retryAfter: .seconds(120)
        )
        #expect(notification.description == "Slack: rate limited (HTTP 429) (retry after 2m)")
        #expect(notification.retryAfter == .seconds(120))
        #expect(notification.debugDescription.contains("httpStatus: 429, detail: retry after 2m"))
        let metadata = ErrorMetadataValue(
            CoordinationError(.redis, "x", underlying: RedisError(.io, "connection lost"))
        )
        #expect(metadata.description == "connection lost; check FLUXBRAIN_REDIS_URL")
        #expect(metadata.debugDescription.contains("RedisError(code: io"))
    }

    /// The log line a running replica writes when Redis fails: the readable line at info, the chain at debug.
    @Test(arguments: [Logger.Level.info, .debug])
    func aDependencyFailureLogsOneLineOrTheChainAtDebug(level: Logger.Level) {
        let logs = CapturedLogs()
        var handler = RedactingLogHandler(wrapping: CapturingLogHandler(logs: logs))
        handler.logLevel = level
        let logger = Logger(label: "replica") { _ in handler }
        let error = CoordinationError(
            .redis,
            "lock_acquire failed",
            underlying: RedisError(.connectionRefused, "cannot reach Redis at 127.0.0.1:1")
        )
        logger.warning("lock acquire failed", metadata: ["error": .error(error)])
        let logged = logs.entries.first?.metadata["error"] ?? ""
        if level == .info {
            #expect(logged == "cannot reach Redis at 127.0.0.1:1; check FLUXBRAIN_REDIS_URL")
        } else {
            #expect(
                logged.hasPrefix(
                    "CoordinationError(code: redis, message: \"lock_acquire failed\", underlying: RedisError("
                )
            )
            #expect(logged.contains("ErrorShapeTests.swift:"))
        }
    }
}
