import CoreMetrics
import Logging
import NIOCore
import NIOPosix

/// A Redis client over hiredis for async callers.
///
/// - ``send(_:)``, ``pipeline(_:)``, ``pipeline(steps:)`` and ``evalSHA(_:keys:arguments:)`` run on event-loop
///   connections: one per NIO event loop the callers run on (a worker on the outbound HTTP loop writes its commands
///   and is resumed by the reply on that same thread), plus one on a home loop for callers on Swift's own threads.
///   Requests share the connection and Redis answers them in order; hiredis' reply reader parses the replies and
///   its formatter writes the commands. Nothing blocks.
/// - Shared connections (``RedisConfiguration/poolSize``, default 4), each owned by an OS thread of its own, serve
///   ``withConnection(_:)`` (a closure sending several commands synchronously: `MULTI`/`EXEC`, `WATCH`) and commands
///   that change a connection's session (`SELECT`, `MULTI`, `CLIENT REPLY`, …), whose state is restored before the
///   connection is lent again. Each call leases one connection exclusively; when all are busy, callers suspend (no
///   thread is blocked) until one is released, in FIFO order.
/// - Dedicated connections (up to ``RedisConfiguration/maxDedicatedConnections``), also on threads of their own,
///   serve blocking commands (`BLPOP`, `BLMOVE`, ...) through ``withDedicatedConnection(_:)`` or ``send(_:)`` of a
///   command with a ``RedisCommand/blockingTimeout``, so a long blocking pop never holds up other commands.
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
    private let loops: RedisLoopConnections
    private let shared: RedisConnectionPool
    private let dedicated: RedisConnectionPool

    /// Creates a client; no connection is opened until the first command.
    /// - Parameters:
    ///   - configuration: where Redis is and the timeouts and pool sizes.
    ///   - logger: used for connection events; never logs the password or command arguments.
    ///   - metricsFactory: where `fluxbrain_redis_*` counters go (default: the bootstrapped `MetricsSystem`).
    ///   - eventLoopGroup: the loops of the event-loop connections (default: NIO's shared group, whose loops also
    ///     carry async-http-client's connections).
    package init(
        configuration: RedisConfiguration,
        logger: Logger,
        metricsFactory: any MetricsFactory = MetricsSystem.factory,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.configuration = configuration
        environment = RedisEnvironment(configuration: configuration, logger: logger, metricsFactory: metricsFactory)
        loops = RedisLoopConnections(environment: environment, group: eventLoopGroup)
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
        loops.closeDetached()
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
        if command.blockingTimeout != nil {
            return try await typed { try await withDedicatedConnection { try $0.send(command) } }
        }
        if command.changesSessionState {
            return try await typed { try await withConnection { try $0.send(command) } }
        }
        return try await recording { () async throws(RedisError) -> RedisReply in
            try await run([command])[0].throwingServerError()
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
        if commands.contains(where: { $0.blockingTimeout != nil }) {
            return try await typed { try await withDedicatedConnection { try $0.pipeline(commands) } }
        }
        if commands.contains(where: \.changesSessionState) {
            return try await typed { try await withConnection { try $0.pipeline(commands) } }
        }
        if commands.isEmpty { return [] }
        return try await recording { () async throws(RedisError) -> [RedisReply] in try await run(commands) }
    }

    /// Runs a Lua script with `EVALSHA`, loading it on first use and reloading it once on `NOSCRIPT`.
    @discardableResult
    package func evalSHA(
        _ script: RedisScript,
        keys: [String] = [],
        arguments: [any RedisArgumentConvertible] = []
    ) async throws(RedisError) -> RedisReply {
        let call = RedisScriptCall(script, keys: keys, arguments: arguments)
        return try await recording { () async throws(RedisError) -> RedisReply in
            try await run(steps: [.script(call)])[0].throwingServerError()
        }
    }

    /// Runs several scripts in one round trip on one connection (pipelined `EVALSHA`); replies in order, error replies
    /// in place. A script Redis did not know (`NOSCRIPT`, so it did not run) is loaded and run again on its own.
    package func evalSHA(_ calls: [RedisScriptCall]) async throws(RedisError) -> [RedisReply] {
        try await pipeline(steps: calls.map { .script($0) })
    }

    /// Sends plain commands and script runs in one round trip on one connection; replies in order, error replies in
    /// place. Scripts are loaded first if their SHA is not cached yet, and a script answered with `NOSCRIPT` (it did
    /// not run) is loaded and run again on its own, after the others (so after the steps that followed it). No step
    /// may block.
    package func pipeline(steps: [RedisPipelineStep]) async throws(RedisError) -> [RedisReply] {
        if steps.contains(where: \.needsLentConnection) {
            return try await typed { try await withConnection { try $0.pipeline(steps: steps) } }
        }
        if steps.isEmpty { return [] }
        return try await recording { () async throws(RedisError) -> [RedisReply] in try await run(steps: steps) }
    }

    /// Closes every connection and stops their threads; waiting callers get ``RedisError/Code/poolClosed`` and
    /// commands in flight are interrupted (their callers get an `io` error). Later calls throw `poolClosed`.
    package func shutdown() async {
        await loops.shutdown()
        await shared.shutdown()
        await dedicated.shutdown()
    }

    /// Number of open connections (shared, dedicated), for diagnostics and tests.
    package var connectionCounts: (shared: Int, dedicated: Int) {
        (shared.connectionCount, dedicated.connectionCount)
    }

    /// Number of event-loop connections, for diagnostics and tests.
    package var eventLoopConnectionCount: Int { loops.count }

    // MARK: - Event-loop connections

    /// `steps` on the caller's event-loop connection, with the scripts' loading and `NOSCRIPT` reloads.
    private func run(steps: [RedisPipelineStep]) async throws(RedisError) -> [RedisReply] {
        for script in steps.scriptsToLoad(in: environment.scripts) {
            _ = try await loadScript(script)
        }
        var replies = try await run(steps.commands(with: environment.scripts))
        for (index, call) in steps.scriptsToRunAgain(after: replies, logger: environment.logger) {
            let sha = try await loadScript(call.script)
            replies[index] = try await run([RedisCommand.evalSHA(sha, keys: call.keys, arguments: call.arguments)])[0]
        }
        return replies
    }

    private func loadScript(_ script: RedisScript) async throws(RedisError) -> String {
        let sha = try script.sha(fromLoadReply: try await run([RedisCommand.scriptLoad(script)])[0])
        environment.scripts.store(sha, for: script)
        return sha
    }

    /// `commands` on the caller's event-loop connection; re-sent once after a lost connection when every one of them
    /// is idempotent.
    private func run(_ commands: [RedisCommand]) async throws(RedisError) -> [RedisReply] {
        for command in commands {
            if let refusal = command.refusal { throw refusal }
        }
        let connection = try loops.current()
        let replies: [RedisReply]
        do {
            replies = try await connection.send(commands)
        } catch  where error.code == .io && commands.allSatisfy(\.isIdempotent) {
            environment.logger.debug(
                "Re-sending idempotent Redis command on a fresh connection",
                metadata: ["redis.command": "\(commands[0].name)"]
            )
            replies = try await connection.send(commands)
        }
        environment.metrics.commands.increment(by: Int64(commands.count))
        return replies
    }

    /// Counts the error `body` throws in `fluxbrain_redis_errors_total`, as the thread connections count theirs.
    private func recording<T>(_ body: () async throws(RedisError) -> T) async throws(RedisError) -> T {
        do {
            return try await body()
        } catch {
            environment.metrics.recordError(error)
            throw error
        }
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
