import CHiredis
import Foundation
import Logging

/// One hiredis connection, confined to the OS thread that owns it.
///
/// You never create one: ``RedisClient/withConnection(_:)`` and ``RedisClient/withDedicatedConnection(_:)`` lend
/// one to a closure that runs synchronously **on the connection's own thread** (so blocking is fine there, and
/// the connection must not escape the closure). All methods block until Redis answers or the command timeout
/// expires.
///
/// Failure semantics: after a timeout or lost connection (`RedisError.Code.timeout`/`.io`) the hiredis context is
/// dead and freed; the call throws (the command may or may not have been applied, so it is **not** silently
/// re-sent) and the **next** call reconnects and re-applies the socket timeout, keepalive, `AUTH`, `SELECT` and
/// `CLIENT SETNAME`. Only commands marked ``RedisCommand/isIdempotent`` are re-sent once on a fresh connection
/// after an `io` failure of a previously established connection.
package final class RedisConnection {
    let environment: RedisEnvironment
    let id: Int
    let socket: RedisSocketSlot
    private var logger: Logger
    private var configuration: RedisConfiguration { environment.configuration }

    private var context: UnsafeMutablePointer<redisContext>?
    private var hasConnected = false
    /// Replies owed by the server for commands appended with ``append(_:)`` and not yet read.
    private var pendingReplies = 0
    // Session state changed by the user's commands; restored before the connection is lent again.
    private var currentDatabase: Int
    private var inTransaction = false
    private var watching = false
    // Reusable argv scratch buffers (no allocation per command).
    private var argv: UnsafeMutablePointer<UnsafePointer<CChar>?>
    private var argvLengths: UnsafeMutablePointer<Int>
    private var argvCapacity: Int

    init(environment: RedisEnvironment, id: Int, socket: RedisSocketSlot) {
        self.environment = environment
        self.id = id
        self.socket = socket
        self.logger = environment.logger
        self.logger[metadataKey: "redis.connection"] = "\(id)"
        self.currentDatabase = environment.configuration.database
        argvCapacity = 16
        argv = .allocate(capacity: argvCapacity)
        argvLengths = .allocate(capacity: argvCapacity)
    }

    deinit {
        close()
        argv.deallocate()
        argvLengths.deallocate()
    }

    /// `true` while a live hiredis context exists (it is created lazily by the first command).
    package var isConnected: Bool { context != nil }

    // MARK: - Commands

    /// Sends one command and returns its reply; an error reply throws ``RedisError/Code/server`` (or `noScript`)
    /// with the server's message. A command with a ``RedisCommand/blockingTimeout`` gets the socket timeout
    /// raised to `blockingTimeout + commandTimeout` for this call.
    @discardableResult
    package func send(_ command: RedisCommand) throws(RedisError) -> RedisReply {
        do {
            return try roundTrip(command).throwingServerError()
        } catch {
            environment.metrics.recordError(error)
            throw error
        }
    }

    /// Sends `name` with `arguments`; see ``send(_:)``.
    @discardableResult
    package func send<each Argument: RedisArgumentConvertible>(
        _ name: String,
        _ arguments: repeat each Argument
    ) throws(RedisError) -> RedisReply {
        try send(RedisCommand(name, repeat each arguments))
    }

    /// Sends all commands in one write and reads their replies in order. Error replies are returned as
    /// ``RedisReply/error(_:)`` in place; only a transport failure throws (and then all outstanding replies are
    /// lost with the connection).
    package func pipeline(_ commands: [RedisCommand]) throws(RedisError) -> [RedisReply] {
        do {
            return try pipelineThrowing(commands)
        } catch {
            environment.metrics.recordError(error)
            throw error
        }
    }

    /// Appends a command to the output buffer without sending it; read its reply later with ``readReply()``.
    /// For streaming pipelines. Every appended command must be read before the closure that lent the connection
    /// returns, or the connection is closed (its replies would otherwise go to the next user).
    package func append(_ command: RedisCommand) throws(RedisError) {
        do {
            try ensureConnected()
            try refuseUnsupported(command)
            try appendToContext(command)
            pendingReplies += 1
        } catch {
            environment.metrics.recordError(error)
            throw error
        }
    }

    /// Flushes the output buffer if needed and reads the next reply of an appended command. Error replies are
    /// returned as ``RedisReply/error(_:)``, not thrown.
    package func readReply() throws(RedisError) -> RedisReply {
        do throws(RedisError) {
            guard pendingReplies > 0 else {
                throw RedisError(.misuse, "readReply() called with no appended command")
            }
            let reply = try readFromContext()
            pendingReplies -= 1
            environment.metrics.commands.increment()
            return reply
        } catch {
            environment.metrics.recordError(error)
            throw error
        }
    }

    /// Runs `script` with `EVALSHA`, loading it with `SCRIPT LOAD` first if its SHA is not cached yet, and again
    /// (then retrying once) if Redis answers `NOSCRIPT` (after a restart or `SCRIPT FLUSH`). An error reply of
    /// the script throws ``RedisError/Code/server``.
    @discardableResult
    package func evalSHA(
        _ script: RedisScript,
        keys: [String] = [],
        arguments: [any RedisArgumentConvertible] = []
    ) throws(RedisError) -> RedisReply {
        // A pipeline of one script step: the loading and the `NOSCRIPT` reload are the pipeline's (it counts its own
        // errors; the script's error reply is counted here).
        let reply = try pipeline(steps: [.script(RedisScriptCall(script, keys: keys, arguments: arguments))])[0]
        do throws(RedisError) {
            return try reply.throwingServerError()
        } catch {
            environment.metrics.recordError(error)
            throw error
        }
    }

    /// Runs several scripts with `EVALSHA` in one write (one round trip) and returns their replies in order, error
    /// replies in place (like ``pipeline(_:)``). Scripts whose SHA is not cached are loaded first; a script Redis
    /// answers `NOSCRIPT` for (it did not run) is loaded and run again on its own, after the others.
    package func evalSHA(_ calls: [RedisScriptCall]) throws(RedisError) -> [RedisReply] {
        try pipeline(steps: calls.map { .script($0) })
    }

    /// Sends plain commands and script runs in one write (one round trip) and returns their replies in order, error
    /// replies in place. Scripts run as in ``evalSHA(_:)-([RedisScriptCall])``: loaded first if their SHA is not
    /// cached, and a script answered with `NOSCRIPT` (it did not run) is loaded and run again on its own, after the
    /// others (so after the steps that followed it).
    package func pipeline(steps: [RedisPipelineStep]) throws(RedisError) -> [RedisReply] {
        do throws(RedisError) {
            for script in steps.scriptsToLoad(in: environment.scripts) {
                _ = try loadScriptThrowing(script)
            }
            var replies = try pipelineThrowing(steps.commands(with: environment.scripts))
            for (index, call) in steps.scriptsToRunAgain(after: replies, logger: logger) {
                let sha = try loadScriptThrowing(call.script)
                replies[index] = try roundTrip(RedisCommand.evalSHA(sha, keys: call.keys, arguments: call.arguments))
            }
            return replies
        } catch {
            environment.metrics.recordError(error)
            throw error
        }
    }

    /// Loads `script` with `SCRIPT LOAD`, caches and returns its SHA1.
    @discardableResult
    package func loadScript(_ script: RedisScript) throws(RedisError) -> String {
        do {
            return try loadScriptThrowing(script)
        } catch {
            environment.metrics.recordError(error)
            throw error
        }
    }

    // MARK: - Lifecycle

    /// Frees the hiredis context (the next command reconnects).
    package func close() {
        guard let context else { return }
        socket.clear { redisFree(context) }
        self.context = nil
        pendingReplies = 0
        inTransaction = false
        watching = false
        currentDatabase = configuration.database
    }

    /// Restores the session state after a lender's closure: drops unread pipelined replies (by closing), discards
    /// an open `MULTI`, clears `WATCH`es and re-selects the configured database.
    func resetSessionState() {
        guard context != nil else { return }
        if pendingReplies > 0 {
            logger.warning(
                "Closing Redis connection: closure returned with unread pipelined replies",
                metadata: ["redis.pending": "\(pendingReplies)"]
            )
            close()
            return
        }
        do {
            if inTransaction {
                _ = try roundTrip(RedisCommand("DISCARD"))
            } else if watching {
                _ = try roundTrip(RedisCommand("UNWATCH"))
            }
            if currentDatabase != configuration.database {
                try roundTrip(RedisCommand("SELECT", configuration.database)).throwingServerError()
            }
        } catch {
            logger.warning("Closing Redis connection: could not restore session state", metadata: ["error": "\(error)"])
            close()
        }
    }

    // MARK: - Internals

    private func roundTrip(_ command: RedisCommand) throws(RedisError) -> RedisReply {
        guard pendingReplies == 0 else {
            throw RedisError(
                .misuse,
                "send called with \(pendingReplies) unread appended replies; call readReply() first"
            )
        }
        let wasConnected = context != nil
        do {
            return try attempt(command)
        } catch  where error.code == .io && command.isIdempotent && wasConnected {
            logger.debug(
                "Re-sending idempotent Redis command on a fresh connection",
                metadata: ["redis.command": "\(command.name)"]
            )
            return try attempt(command)
        }
    }

    private func attempt(_ command: RedisCommand) throws(RedisError) -> RedisReply {
        try ensureConnected()
        try refuseUnsupported(command)
        if let blockingTimeout = command.blockingTimeout {
            try raiseTimeout(for: blockingTimeout)
        }
        try appendToContext(command)
        let reply = try readFromContext()
        environment.metrics.commands.increment()
        if command.blockingTimeout != nil {
            try restoreTimeout()
        }
        trackSessionState(command, reply)
        return reply
    }

    private func pipelineThrowing(_ commands: [RedisCommand]) throws(RedisError) -> [RedisReply] {
        guard pendingReplies == 0 else {
            throw RedisError(.misuse, "pipeline called with \(pendingReplies) unread appended replies")
        }
        if commands.isEmpty { return [] }
        try ensureConnected()
        var longestBlock: Duration?
        for command in commands {
            try refuseUnsupported(command)
            if let block = command.blockingTimeout { longestBlock = max(longestBlock ?? block, block) }
        }
        if let longestBlock { try raiseTimeout(for: longestBlock) }
        for command in commands {
            try appendToContext(command)
        }
        var replies: [RedisReply] = []
        replies.reserveCapacity(commands.count)
        for command in commands {
            let reply = try readFromContext()
            trackSessionState(command, reply)
            replies.append(reply)
        }
        environment.metrics.commands.increment(by: Int64(commands.count))
        if longestBlock != nil { try restoreTimeout() }
        return replies
    }

    private func loadScriptThrowing(_ script: RedisScript) throws(RedisError) -> String {
        let reply = try roundTrip(RedisCommand.scriptLoad(script))
        let sha = try script.sha(fromLoadReply: reply)
        environment.scripts.store(sha, for: script)
        return sha
    }

    private func refuseUnsupported(_ command: RedisCommand) throws(RedisError) {
        if let refusal = command.refusal { throw refusal }
    }

    private func trackSessionState(_ command: RedisCommand, _ reply: RedisReply) {
        if case .error = reply { return }
        switch command.argumentCount > 0 ? command.ends[0] : 0 {
        case 4 where command.nameEquals("EXEC"):
            inTransaction = false
            watching = false
        case 5 where command.nameEquals("MULTI"):
            inTransaction = true
        case 5 where command.nameEquals("WATCH"):
            watching = true
        case 6 where command.nameEquals("SELECT"):
            if let argument = command.arguments.dropFirst().first,
                let database = Int(String(decoding: argument, as: UTF8.self))
            {
                currentDatabase = database
            }
        case 7 where command.nameEquals("DISCARD"):
            inTransaction = false
            watching = false
        case 7 where command.nameEquals("UNWATCH"):
            watching = false
        default:
            break
        }
    }

    // MARK: - hiredis boundary

    private func ensureConnected() throws(RedisError) {
        if context != nil { return }
        let configuration = self.configuration
        if hasConnected {
            environment.metrics.reconnects.increment()
            logger.info("Reconnecting to Redis")
        } else {
            logger.debug("Connecting to Redis")
        }
        guard
            let newContext = redisConnectWithTimeout(
                configuration.host,
                Int32(configuration.port),
                makeTimeval(configuration.connectTimeout)
            )
        else {
            throw RedisError(.connectFailed, "Could not connect to Redis at \(configuration.endpoint): out of memory")
        }
        if newContext.pointee.err != 0 {
            let reason = errorString(newContext)
            redisFree(newContext)
            let code: RedisError.Code
            if reason.contains("refused") {
                code = .connectionRefused
            } else if reason.contains("timed out") || reason == String(cString: strerror(EAGAIN)) {
                code = .timeout
            } else {
                code = .connectFailed
            }
            let error = RedisError.cannotConnect(code, to: configuration, reason: reason)
            logger.warning("Redis connect failed", metadata: ["error": "\(error.message)"])
            throw error
        }
        context = newContext
        socket.set(newContext.pointee.fd)
        pendingReplies = 0
        inTransaction = false
        watching = false
        currentDatabase = configuration.database

        // 0.14's connect timeout applies to connect only; the socket timeout and keepalive must be set (again).
        if redisSetTimeout(newContext, makeTimeval(configuration.commandTimeout)) != REDIS_OK {
            let reason = errorString(newContext)
            close()
            throw RedisError(.connectFailed, "Could not set the socket timeout on \(configuration.endpoint): \(reason)")
        }
        if redisEnableKeepAlive(newContext) != REDIS_OK {
            let reason = errorString(newContext)
            close()
            throw RedisError(.connectFailed, "Could not enable TCP keepalive on \(configuration.endpoint): \(reason)")
        }
        for step in RedisSetupStep.steps(for: configuration) {
            let reply = try setupCommand(step.command, step: step.name)
            if case .error(let message) = reply {
                close()
                throw step.failure(message)
            }
        }
        hasConnected = true
    }

    /// A command during connection setup; transport failures are annotated with the setup step.
    private func setupCommand(_ command: RedisCommand, step: String) throws(RedisError) -> RedisReply {
        do {
            try appendToContext(command)
            return try readFromContext()
        } catch {
            throw error.duringSetup(step)
        }
    }

    private func appendToContext(_ command: RedisCommand) throws(RedisError) {
        guard let context else {
            throw RedisError(.io, "Redis connection to \(configuration.endpoint) is closed")
        }
        let count = command.argumentCount
        if count > argvCapacity {
            argv.deallocate()
            argvLengths.deallocate()
            argvCapacity = max(count, argvCapacity * 2)
            argv = .allocate(capacity: argvCapacity)
            argvLengths = .allocate(capacity: argvCapacity)
        }
        let status = command.withArgv(argv: argv, lengths: argvLengths) {
            redisAppendCommandArgv(context, Int32(count), argv, argvLengths)
        }
        if status != REDIS_OK {
            throw transportFailure(context)
        }
    }

    private func readFromContext() throws(RedisError) -> RedisReply {
        guard let context else {
            throw RedisError(.io, "Redis connection to \(configuration.endpoint) is closed")
        }
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(context, &raw) == REDIS_OK, let raw else {
            throw transportFailure(context)
        }
        defer { freeReplyObject(raw) }
        guard let reply = RedisReply.copying(raw.assumingMemoryBound(to: redisReply.self)) else {
            close()
            throw RedisError(.protocol, "Redis at \(configuration.endpoint) sent a reply of an unknown type")
        }
        return reply
    }

    /// Converts the context's error into a `RedisError` and frees the (now unusable) context.
    private func transportFailure(_ context: UnsafeMutablePointer<redisContext>) -> RedisError {
        let kind = context.pointee.err
        let reason = errorString(context)
        close()
        let error: RedisError
        switch kind {
        case REDIS_ERR_IO
        where reason == String(cString: strerror(EAGAIN)) || reason == String(cString: strerror(EWOULDBLOCK)):
            error = .unanswered(configuration)
        case REDIS_ERR_IO, REDIS_ERR_EOF:
            error = .lostConnection(to: configuration.endpoint, reason: reason)
        default:
            error = RedisError(
                .protocol,
                "Redis connection to \(configuration.endpoint) failed: \(reason) (err \(kind))"
            )
        }
        logger.warning(
            "Redis connection failed; it will reconnect on the next command",
            metadata: ["error": "\(error.message)"]
        )
        return error
    }

    private func raiseTimeout(for blockingTimeout: Duration) throws(RedisError) {
        guard let context else { return }
        if redisSetTimeout(context, makeTimeval(blockingTimeout + configuration.commandTimeout)) != REDIS_OK {
            throw transportFailure(context)
        }
    }

    private func restoreTimeout() throws(RedisError) {
        guard let context else { return }
        if redisSetTimeout(context, makeTimeval(configuration.commandTimeout)) != REDIS_OK {
            throw transportFailure(context)
        }
    }

    private func errorString(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: &context.pointee.errstr) { buffer in
            let bytes = buffer.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    private func makeTimeval(_ duration: Duration) -> timeval {
        let (seconds, attoseconds) = duration.components
        let microseconds = seconds * 1_000_000 + attoseconds / 1_000_000_000_000
        return fluxbrain_timeval_from_usec(max(microseconds, 1))
    }
}

@available(*, unavailable, message: "A RedisConnection is confined to its own thread")
extension RedisConnection: Sendable {}
