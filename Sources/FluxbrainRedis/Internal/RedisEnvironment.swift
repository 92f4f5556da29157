import CoreMetrics
import Foundation
import Logging
import Synchronization

/// What all connections of one ``RedisClient`` share: configuration, logger, metrics and the script SHA cache.
final class RedisEnvironment: Sendable {
    let configuration: RedisConfiguration
    let logger: Logger
    let metrics: RedisMetrics
    let scripts = RedisScriptCache()
    private let nextConnectionID = Atomic<Int>(0)

    init(configuration: RedisConfiguration, logger: Logger, metricsFactory: any MetricsFactory) {
        RedisEnvironment.ignoreSIGPIPE()
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "redis.endpoint"] = "\(configuration.endpoint)"
        logger[metadataKey: "redis.db"] = "\(configuration.database)"
        self.logger = logger
        self.metrics = RedisMetrics(factory: metricsFactory)
    }

    func makeConnectionID() -> Int {
        nextConnectionID.add(1, ordering: .relaxed).newValue
    }

    /// hiredis 0.14 writes with `write(2)`: a write to a reset socket raises SIGPIPE, which kills the process unless
    /// ignored. Done once per process, before the first connection.
    static func ignoreSIGPIPE() {
        _ = sigpipeIgnored
    }

    private static let sigpipeIgnored: Bool = {
        signal(SIGPIPE, SIG_IGN)
        return true
    }()
}

/// `fluxbrain_redis_commands_total`, `fluxbrain_redis_errors_total{kind}`, `fluxbrain_redis_reconnects_total`.
struct RedisMetrics: Sendable {
    let commands: Counter
    let reconnects: Counter
    private let errors: [RedisError.Code: Counter]

    init(factory: any MetricsFactory) {
        commands = Counter(label: "fluxbrain_redis_commands_total", factory: factory)
        reconnects = Counter(label: "fluxbrain_redis_reconnects_total", factory: factory)
        var errors: [RedisError.Code: Counter] = [:]
        for code in RedisError.Code.allCases {
            errors[code] = Counter(
                label: "fluxbrain_redis_errors_total",
                dimensions: [("kind", code.description)],
                factory: factory
            )
        }
        self.errors = errors
    }

    func recordError(_ error: RedisError) {
        errors[error.code]?.increment()
    }
}

/// Script source → SHA1 as returned by `SCRIPT LOAD`, shared by the connections of one client.
final class RedisScriptCache: Sendable {
    private let shas = Mutex<[String: String]>([:])

    func sha(for script: RedisScript) -> String? {
        shas.withLock { $0[script.source] }
    }

    func store(_ sha: String, for script: RedisScript) {
        shas.withLock { $0[script.source] = sha }
    }
}

/// The file descriptor of a connection's socket, readable from other threads so that ``RedisClient/shutdown()``
/// can `shutdown(2)` a socket blocked in a long command. Closing the context clears it under the same lock, so a
/// descriptor is never shut down after it was closed (and possibly reused).
final class RedisSocketSlot: Sendable {
    private let fd = Mutex<Int32>(-1)

    func set(_ value: Int32) {
        fd.withLock { $0 = value }
    }

    /// Runs `close` while holding the lock after clearing the descriptor.
    func clear(then close: () -> Void) {
        fd.withLock {
            $0 = -1
            close()
        }
    }

    /// Shuts the socket down in both directions, which makes a blocked `read` return at once.
    func interrupt() {
        fd.withLock { fd in
            if fd >= 0 {
                _ = shutdown(fd, Int32(SHUT_RDWR))
            }
        }
    }
}
