import CHiredis
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// One connection to Redis on one NIO event loop, shared by every caller on that loop: what serves
/// ``RedisClient``'s `send`, `pipeline` and `evalSHA`.
///
/// Requests are written as they come and Redis answers them in order (``RedisReplyHandler``), so callers never wait
/// for a connection of a pool and no thread is handed a job: a worker running on the loop writes its commands and is
/// resumed by the reply, on the same thread. The connection opens with the first request and again after it was
/// lost, re-applying `AUTH`, `SELECT` and `CLIENT SETNAME` (sent together, before any request) each time.
///
/// Everything but ``send(_:)``, ``shutdown()`` and ``closeDetached()`` runs on ``eventLoop`` (hence
/// `@unchecked Sendable`: the state is confined to that loop).
final class RedisLoopConnection: @unchecked Sendable {
    private enum State {
        /// No connection; the next request opens one.
        case idle
        /// Connecting and setting up; these requests are written once that succeeded.
        case connecting([RedisLoopRequest])
        case ready(any Channel)
        case closed
    }

    let eventLoop: any EventLoop
    private let environment: RedisEnvironment
    private let logger: Logger
    private var state = State.idle
    private var hasConnected = false
    private var configuration: RedisConfiguration { environment.configuration }

    init(environment: RedisEnvironment, eventLoop: any EventLoop) {
        self.environment = environment
        self.eventLoop = eventLoop
        var logger = environment.logger
        logger[metadataKey: "redis.connection"] = "\(environment.makeConnectionID())"
        self.logger = logger
    }

    /// Sends `commands` together and returns their replies in order, error replies in place; a lost connection,
    /// a timeout or a failed connect throws.
    func send(_ commands: [RedisCommand]) async throws(RedisError) -> [RedisReply] {
        let promise = eventLoop.makePromise(of: [RedisReply].self)
        let request = RedisLoopRequest(bytes: Self.format(commands), count: commands.count, promise: promise)
        if eventLoop.inEventLoop {
            submit(request)
        } else {
            eventLoop.execute { self.submit(request) }
        }
        do {
            return try await promise.futureResult.get()
        } catch let error as RedisError {
            throw error
        } catch {
            throw RedisError(.io, "Redis request to \(configuration.endpoint) failed", underlying: error)
        }
    }

    /// Closes the connection: requests in flight fail with `io`, later ones with `poolClosed`.
    func shutdown() async {
        let channel: (any Channel)? = try? await eventLoop.submit { self.close() }.get()
        try? await channel?.close()
    }

    /// Closes the connection without waiting.
    func closeDetached() {
        eventLoop.execute {
            self.close()?.close(promise: nil)
        }
    }

    /// Marks the connection closed and fails the requests waiting for it; returns the channel to close.
    private func close() -> (any Channel)? {
        let previous = state
        state = .closed
        switch previous {
        case .ready(let channel):
            return channel
        case .connecting(let waiting):
            for request in waiting {
                request.promise.fail(RedisError(.poolClosed, "Redis client is shut down"))
            }
            return nil
        case .idle, .closed:
            return nil
        }
    }

    private func submit(_ request: RedisLoopRequest) {
        switch state {
        case .closed:
            request.promise.fail(RedisError(.poolClosed, "Redis client is shut down"))
        case .ready(let channel) where channel.isActive:
            channel.writeAndFlush(request, promise: nil)
        case .connecting(var waiting):
            waiting.append(request)
            state = .connecting(waiting)
        case .idle, .ready:
            state = .connecting([request])
            connect()
        }
    }

    private func connect() {
        if hasConnected {
            environment.metrics.reconnects.increment()
            logger.info("Reconnecting to Redis")
        } else {
            logger.debug("Connecting to Redis")
        }
        let configuration = configuration
        ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = RedisReplyHandler(configuration: configuration) {
                        self.lost(channel)
                    }
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
            .connect(host: configuration.host, port: configuration.port)
            .whenComplete { result in
                switch result {
                case .success(let channel): self.connected(channel)
                case .failure(let error): self.failConnecting(self.connectError(error), close: nil)
                }
            }
    }

    private func connected(_ channel: any Channel) {
        guard case .connecting = state else {
            channel.close(promise: nil)
            return
        }
        let setup = RedisSetupStep.steps(for: configuration)
        guard !setup.isEmpty else {
            ready(channel)
            return
        }
        let promise = eventLoop.makePromise(of: [RedisReply].self)
        let request = RedisLoopRequest(bytes: Self.format(setup.map(\.command)), count: setup.count, promise: promise)
        channel.writeAndFlush(request, promise: nil)
        promise.futureResult.assumeIsolated().whenComplete { result in
            switch result {
            case .success(let replies):
                for (step, reply) in zip(setup, replies) {
                    if case .error(let message) = reply {
                        self.failConnecting(step.failure(message), close: channel)
                        return
                    }
                }
                self.ready(channel)
            case .failure(let error):
                let error = error as? RedisError ?? RedisError(.io, "\(error)")
                let steps = setup.map(\.name).joined(separator: ", ")
                self.failConnecting(error.duringSetup(steps), close: channel)
            }
        }
    }

    /// The connection `channel` can carry no more requests (it was closed, lost or timed out): the next request
    /// opens a new one.
    private func lost(_ channel: any Channel) {
        if case .ready(let current) = state, current === channel { state = .idle }
    }

    private func ready(_ channel: any Channel) {
        guard case .connecting(let waiting) = state else {
            channel.close(promise: nil)
            return
        }
        hasConnected = true
        state = .ready(channel)
        for request in waiting {
            channel.write(request, promise: nil)
        }
        channel.flush()
    }

    private func failConnecting(_ error: RedisError, close channel: (any Channel)?) {
        channel?.close(promise: nil)
        guard case .connecting(let waiting) = state else { return }
        state = .idle
        logger.warning("Redis connect failed", metadata: ["error": "\(error.message)"])
        for request in waiting {
            request.promise.fail(error)
        }
    }

    /// The connect's failure as the thread connections word it (``RedisError/cannotConnect(_:to:reason:file:line:)``).
    private func connectError(_ error: any Error) -> RedisError {
        if let error = error as? ChannelError, case .connectTimeout = error {
            return .cannotConnect(.timeout, to: configuration, reason: "timed out")
        }
        guard let errno = Self.errno(of: error) else {
            return .cannotConnect(.connectFailed, to: configuration, reason: "\(error)")
        }
        let code: RedisError.Code = errno == ECONNREFUSED ? .connectionRefused : .connectFailed
        return .cannotConnect(code, to: configuration, reason: String(cString: strerror(errno)))
    }

    private static func errno(of error: any Error) -> Int32? {
        if let error = error as? IOError { return error.errnoCode }
        if let error = error as? NIOConnectionError {
            for failure in error.connectionErrors {
                if let errno = Self.errno(of: failure.error) { return errno }
            }
        }
        return nil
    }

    /// The commands in Redis' wire format, as hiredis writes them (`redisFormatCommandArgv`).
    private static func format(_ commands: [RedisCommand]) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: 256)
        for command in commands {
            let count = command.argumentCount
            withUnsafeTemporaryAllocation(of: UnsafePointer<CChar>?.self, capacity: count) { argv in
                withUnsafeTemporaryAllocation(of: Int.self, capacity: count) { lengths in
                    var formatted: UnsafeMutablePointer<CChar>?
                    let length = command.withArgv(argv: argv.baseAddress!, lengths: lengths.baseAddress!) {
                        redisFormatCommandArgv(&formatted, Int32(count), argv.baseAddress!, lengths.baseAddress!)
                    }
                    guard length > 0, let formatted else { fatalError("hiredis could not format a command") }
                    buffer.writeBytes(UnsafeRawBufferPointer(start: formatted, count: Int(length)))
                    redisFreeCommand(formatted)
                }
            }
        }
        return buffer
    }
}

/// The ``RedisLoopConnection``s of one client: one for each event loop its callers run on, and one on a home loop
/// of the group for callers that run elsewhere (Swift's own threads).
final class RedisLoopConnections: Sendable {
    private struct State {
        var connections: [ObjectIdentifier: RedisLoopConnection] = [:]
        var closed = false
    }

    private let environment: RedisEnvironment
    private let group: any EventLoopGroup
    private let home: any EventLoop
    private let state = Mutex(State())

    init(environment: RedisEnvironment, group: any EventLoopGroup) {
        self.environment = environment
        self.group = group
        self.home = group.next()
    }

    /// The caller's loop's connection when it runs on a loop of the group, else the home loop's.
    func current() throws(RedisError) -> RedisLoopConnection {
        let candidate = group.any()
        let loop = candidate.inEventLoop ? candidate : home
        return try state.withLock { (state) throws(RedisError) -> RedisLoopConnection in
            if state.closed { throw RedisError(.poolClosed, "Redis client is shut down") }
            let key = ObjectIdentifier(loop)
            if let connection = state.connections[key] { return connection }
            let connection = RedisLoopConnection(environment: environment, eventLoop: loop)
            state.connections[key] = connection
            return connection
        }
    }

    /// How many connections exist (open or not yet opened).
    var count: Int { state.withLock { $0.connections.count } }

    /// Closes every connection; later calls throw `poolClosed`.
    func shutdown() async {
        for connection in takeAll() { await connection.shutdown() }
    }

    /// Closes every connection without waiting.
    func closeDetached() {
        for connection in takeAll() { connection.closeDetached() }
    }

    /// Marks the client closed (``current()`` throws from now on) and hands over every connection, to close.
    private func takeAll() -> [RedisLoopConnection] {
        state.withLock { state in
            state.closed = true
            defer { state.connections = [:] }
            return Array(state.connections.values)
        }
    }
}
