import Synchronization

/// A connection plus the OS thread that owns it.
final class RedisConnectionHandle: @unchecked Sendable {
    let id: Int
    private let worker: RedisWorkerThread
    /// Touched only by jobs running on `worker` (hence `@unchecked Sendable`).
    private let connection: RedisConnection
    private let socket: RedisSocketSlot

    init(environment: RedisEnvironment, label: String) {
        id = environment.makeConnectionID()
        socket = RedisSocketSlot()
        connection = RedisConnection(environment: environment, id: id, socket: socket)
        worker = RedisWorkerThread(name: "redis-\(label)-\(id)")
    }

    /// Runs `body` on the connection's thread and suspends (without blocking a thread) until it returns.
    /// Afterwards the connection's session state (`MULTI`, `WATCH`, `SELECT`, unread replies) is restored.
    func run<T: Sendable>(_ body: @Sendable (RedisConnection) throws -> T) async -> Result<T, any Error> {
        await withoutActuallyEscaping(body) { escapingBody in
            // The job must drop its reference to `escapingBody` *before* resuming the caller, who leaves the
            // `withoutActuallyEscaping` scope right after (which checks that the closure did not escape).
            let box = BodyBox(escapingBody)
            return await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, any Error>, Never>) in
                let connection = self.connection
                let accepted = worker.submit {
                    let result: Result<T, any Error>
                    do {
                        let body = box.take()
                        result = Result { try body(connection) }
                    }
                    connection.resetSessionState()
                    continuation.resume(returning: result)
                }
                if !accepted {
                    _ = box.take()
                    continuation.resume(returning: .failure(RedisError(.poolClosed, "Redis client is shut down")))
                }
            }
        }
    }

    /// Aborts a command blocked in `read`/`write` (used by shutdown).
    func interrupt() {
        socket.interrupt()
    }

    /// Closes the connection on its thread and lets the thread exit; returns at once.
    func stop() {
        let connection = self.connection
        worker.stop { connection.close() }
    }

    /// Suspends until the thread has exited (after ``stop()``).
    func waitForExit() async {
        await worker.waitForExit()
    }
}

/// Holds a closure until the worker takes it, so the worker's job keeps no reference to it afterwards.
private final class BodyBox<T>: @unchecked Sendable {
    private var body: (@Sendable (RedisConnection) throws -> T)?

    init(_ body: @escaping @Sendable (RedisConnection) throws -> T) {
        self.body = body
    }

    /// Returns the closure and forgets it (called once, on the worker thread).
    func take() -> @Sendable (RedisConnection) throws -> T {
        defer { body = nil }
        return body!
    }
}

/// A bounded set of connections leased one caller at a time; waiters suspend on continuations (FIFO).
final class RedisConnectionPool: Sendable {
    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<RedisConnectionHandle, any Error>
    }

    private struct State {
        var idle: [RedisConnectionHandle] = []
        var all: [Int: RedisConnectionHandle] = [:]
        var leased: Set<Int> = []
        var waiters: [Waiter] = []
        var nextWaiterID: UInt64 = 0
        var closed = false
    }

    private let environment: RedisEnvironment
    private let label: String
    private let maxConnections: Int
    private let maxIdle: Int
    private let state = Mutex(State())

    init(environment: RedisEnvironment, label: String, maxConnections: Int, maxIdle: Int) {
        self.environment = environment
        self.label = label
        self.maxConnections = maxConnections
        self.maxIdle = maxIdle
    }

    /// Open connection count (idle plus leased), for tests and diagnostics.
    var connectionCount: Int { state.withLock { $0.all.count } }

    /// Leases a connection exclusively: an idle one, a new one if below the limit, or waits for a release.
    func lease() async throws(RedisError) -> RedisConnectionHandle {
        enum Decision {
            case use(RedisConnectionHandle)
            case create
            case wait
        }
        let decision: Decision = try state.withLock { (state) throws(RedisError) -> Decision in
            if state.closed { throw RedisError(.poolClosed, "Redis client is shut down") }
            if let handle = state.idle.popLast() {
                state.leased.insert(handle.id)
                return .use(handle)
            }
            if state.all.count < maxConnections {
                return .create
            }
            return .wait
        }
        switch decision {
        case .use(let handle):
            return handle
        case .create:
            let handle = RedisConnectionHandle(environment: environment, label: label)
            let closed = state.withLock { state in
                if state.closed { return true }
                state.all[handle.id] = handle
                state.leased.insert(handle.id)
                return false
            }
            if closed {
                handle.stop()
                throw RedisError(.poolClosed, "Redis client is shut down")
            }
            return handle
        case .wait:
            return try await waitForRelease()
        }
    }

    private func waitForRelease() async throws(RedisError) -> RedisConnectionHandle {
        let waiterID = state.withLock { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        do {
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation {
                    (continuation: CheckedContinuation<RedisConnectionHandle, any Error>) in
                    enum Outcome {
                        case queued
                        case handle(RedisConnectionHandle)
                        case failure(RedisError)
                    }
                    let outcome: Outcome = state.withLock { state in
                        if state.closed { return .failure(RedisError(.poolClosed, "Redis client is shut down")) }
                        if Task.isCancelled {
                            return .failure(RedisError(.cancelled, "cancelled while waiting for a Redis connection"))
                        }
                        // A connection may have been released between the first check and now.
                        if let handle = state.idle.popLast() {
                            state.leased.insert(handle.id)
                            return .handle(handle)
                        }
                        state.waiters.append(Waiter(id: waiterID, continuation: continuation))
                        return .queued
                    }
                    switch outcome {
                    case .queued: break
                    case .handle(let handle): continuation.resume(returning: handle)
                    case .failure(let error): continuation.resume(throwing: error)
                    }
                }
            } onCancel: {
                let waiter = state.withLock { state -> Waiter? in
                    guard let index = state.waiters.firstIndex(where: { $0.id == waiterID }) else { return nil }
                    return state.waiters.remove(at: index)
                }
                waiter?.continuation.resume(
                    throwing: RedisError(.cancelled, "cancelled while waiting for a Redis connection")
                )
            }
        } catch let error as RedisError {
            throw error
        } catch {
            throw RedisError(.cancelled, "waiting for a Redis connection failed", underlying: error)
        }
    }

    /// Returns a leased connection: to the next waiter, to the idle list, or closes it.
    func release(_ handle: RedisConnectionHandle) {
        enum Decision {
            case handOver(Waiter)
            case keep
            case close
        }
        let decision: Decision = state.withLock { state in
            if state.closed {
                state.leased.remove(handle.id)
                return .close
            }
            if !state.waiters.isEmpty {
                return .handOver(state.waiters.removeFirst())
            }
            state.leased.remove(handle.id)
            if state.idle.count < maxIdle {
                state.idle.append(handle)
                return .keep
            }
            state.all[handle.id] = nil
            return .close
        }
        switch decision {
        case .handOver(let waiter): waiter.continuation.resume(returning: handle)
        case .keep: break
        case .close: handle.stop()
        }
    }

    /// Closes the pool: fails waiters with `poolClosed`, interrupts connections busy in a command (their callers
    /// get an `io` error), closes every connection and waits until all their threads have exited.
    func shutdown() async {
        let (waiters, handles, busy) = state.withLock { state in
            state.closed = true
            let waiters = state.waiters
            state.waiters = []
            let handles = Array(state.all.values)
            let busy = handles.filter { state.leased.contains($0.id) }
            state.idle = []
            state.all = [:]
            return (waiters, handles, busy)
        }
        for waiter in waiters {
            waiter.continuation.resume(throwing: RedisError(.poolClosed, "Redis client is shut down"))
        }
        for handle in busy { handle.interrupt() }
        for handle in handles { handle.stop() }
        for handle in handles { await handle.waitForExit() }
    }

    /// Closes every connection without waiting (used when a client is deinitialized without `shutdown()`).
    func closeDetached() {
        let handles = state.withLock { state in
            state.closed = true
            let handles = Array(state.all.values)
            state.idle = []
            state.all = [:]
            return handles
        }
        for handle in handles { handle.stop() }
    }
}
