import CoreMetrics
import Logging

/// A pool of hiredis connections, each owned by its own OS thread, for async callers.
///
/// - Shared connections (``RedisConfiguration/poolSize``, default 4) serve ``withConnection(_:)``, ``send(_:)``,
///   ``pipeline(_:)`` and ``evalSHA(_:keys:arguments:)``. Each call leases one connection exclusively; when all are
///   busy, callers suspend (no thread is blocked) until one is released, in FIFO order.
/// - Dedicated connections (up to ``RedisConfiguration/maxDedicatedConnections``) serve blocking commands
///   (`BLPOP`, `BLMOVE`, ...) through ``withDedicatedConnection(_:)`` or ``send(_:)`` of a command with a
///   ``RedisCommand/blockingTimeout``, so a long blocking pop never holds a shared connection.
/// - Connections are opened lazily by their first command and rebuilt after a failure by the next command.
///   A command that failed with a timeout or lost connection throws and is **not** re-sent (its effect is
///   unknown), except commands marked ``RedisCommand/idempotent()``.
///
/// Call ``shutdown()`` (or use ``withRedisClient(configuration:logger:metricsFactory:_:)``) to close all
/// connections and stop their threads.
package final class RedisClient: Sendable {
    /// The configuration the client was created with.
    package let configuration: RedisConfiguration
    private let environment: RedisEnvironment
    private let shared: RedisConnectionPool
    private let dedicated: RedisConnectionPool

    /// Creates a client; no connection is opened until the first command.
    /// - Parameters:
    ///   - configuration: where Redis is and the timeouts and pool sizes.
    ///   - logger: used for connection events; never logs the password or command arguments.
    ///   - metricsFactory: where `fluxbrain_redis_*` counters go (default: the bootstrapped `MetricsSystem`).
    package init(
        configuration: RedisConfiguration,
        logger: Logger,
        metricsFactory: any MetricsFactory = MetricsSystem.factory
    ) {
        self.configuration = configuration
        environment = RedisEnvironment(configuration: configuration, logger: logger, metricsFactory: metricsFactory)
        shared = RedisConnectionPool(
            environment: environment,
            label: "shared",
            maxConnections: configuration.poolSize,
            maxIdle: configuration.poolSize
        )
        dedicated = RedisConnectionPool(
            environment: environment,
            label: "dedicated",
            maxConnections: configuration.maxDedicatedConnections,
            maxIdle: configuration.idleDedicatedConnections
        )
    }

    deinit {
        shared.closeDetached()
        dedicated.closeDetached()
    }

    /// Leases a shared connection and runs `body` on its thread (hence `@Sendable`), synchronously; `body` may
    /// send several commands (a pipeline, `MULTI`/`EXEC`, `WATCH`). The connection must not escape `body`. Session
    /// state left behind (open `MULTI`, `WATCH`, another `SELECT`ed db, unread appended replies) is cleaned up
    /// before the next lease.
    /// Do not run blocking commands here; use ``withDedicatedConnection(_:)``.
    package func withConnection<T: Sendable>(_ body: @Sendable (RedisConnection) throws -> T) async throws -> T {
        let handle = try await shared.lease()
        defer { shared.release(handle) }
        return try await handle.run(body).get()
    }

    /// Like ``withConnection(_:)`` but on a connection outside the shared pool, for blocking commands and other long
    /// calls. Up to ``RedisConfiguration/maxDedicatedConnections`` exist at once; idle ones beyond
    /// ``RedisConfiguration/idleDedicatedConnections`` are closed.
    package func withDedicatedConnection<T: Sendable>(
        _ body: @Sendable (RedisConnection) throws -> T
    ) async throws -> T {
        let handle = try await dedicated.lease()
        defer { dedicated.release(handle) }
        return try await handle.run(body).get()
    }

    /// Sends one command; a blocking command (with ``RedisCommand/blockingTimeout``) runs on a dedicated
    /// connection. An error reply throws ``RedisError/Code/server``.
    @discardableResult
    package func send(_ command: RedisCommand) async throws(RedisError) -> RedisReply {
        try await typed {
            if command.blockingTimeout != nil {
                try await withDedicatedConnection { try $0.send(command) }
            } else {
                try await withConnection { try $0.send(command) }
            }
        }
    }

    /// Sends `name` with `arguments`; see ``send(_:)``.
    @discardableResult
    package func send<each Argument: RedisArgumentConvertible>(
        _ name: String,
        _ arguments: repeat each Argument
    ) async throws(RedisError) -> RedisReply {
        try await send(RedisCommand(name, repeat each arguments))
    }

    /// Sends the commands in one write on one connection and returns the replies in order, error replies in place.
    package func pipeline(_ commands: [RedisCommand]) async throws(RedisError) -> [RedisReply] {
        try await typed {
            if commands.contains(where: { $0.blockingTimeout != nil }) {
                try await withDedicatedConnection { try $0.pipeline(commands) }
            } else {
                try await withConnection { try $0.pipeline(commands) }
            }
        }
    }

    /// Runs a Lua script with `EVALSHA`, loading it on first use and reloading it once on `NOSCRIPT`.
    @discardableResult
    package func evalSHA(
        _ script: RedisScript,
        keys: [String] = [],
        arguments: [any RedisArgumentConvertible] = []
    ) async throws(RedisError) -> RedisReply {
        let call = RedisScriptCall(script, keys: keys, arguments: arguments)
        return try await typed {
            try await withConnection { try $0.evalSHA(call.script, keys: call.keys, arguments: call.arguments) }
        }
    }

    /// Runs several scripts in one round trip on one connection (pipelined `EVALSHA`); replies in order, error replies
    /// in place. A script Redis did not know (`NOSCRIPT`, so it did not run) is loaded and run again on its own.
    package func evalSHA(_ calls: [RedisScriptCall]) async throws(RedisError) -> [RedisReply] {
        try await typed {
            try await withConnection { try $0.evalSHA(calls) }
        }
    }

    /// Sends plain commands and script runs in one round trip on one connection; replies in order, error replies in
    /// place. Scripts run as in ``evalSHA(_:)-([RedisScriptCall])`` (a `NOSCRIPT` one is loaded and run again on its
    /// own, after the others). No step may block.
    package func pipeline(steps: [RedisPipelineStep]) async throws(RedisError) -> [RedisReply] {
        try await typed {
            try await withConnection { try $0.pipeline(steps: steps) }
        }
    }

    /// Closes every connection and stops their threads; waiting callers get ``RedisError/Code/poolClosed`` and
    /// commands in flight are interrupted (their callers get an `io` error). Later calls throw `poolClosed`.
    package func shutdown() async {
        await shared.shutdown()
        await dedicated.shutdown()
    }

    /// Number of open connections (shared, dedicated), for diagnostics and tests.
    package var connectionCounts: (shared: Int, dedicated: Int) {
        (shared.connectionCount, dedicated.connectionCount)
    }

    private func typed<T>(_ body: () async throws -> T) async throws(RedisError) -> T {
        do {
            return try await body()
        } catch let error as RedisError {
            throw error
        } catch {
            throw RedisError(.protocol, "unexpected error", underlying: error)
        }
    }
}

/// Creates a ``RedisClient``, runs `body` with it and shuts it down afterwards, also when `body` throws.
package func withRedisClient<T>(
    configuration: RedisConfiguration,
    logger: Logger,
    metricsFactory: any MetricsFactory = MetricsSystem.factory,
    isolation: isolated (any Actor)? = #isolation,
    _ body: (RedisClient) async throws -> T
) async throws -> T {
    let client = RedisClient(configuration: configuration, logger: logger, metricsFactory: metricsFactory)
    let result: T
    do {
        result = try await body(client)
    } catch {
        await client.shutdown()
        throw error
    }
    await client.shutdown()
    return result
}
