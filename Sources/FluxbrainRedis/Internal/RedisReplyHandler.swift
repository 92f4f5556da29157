import CHiredis
import NIOCore

/// Commands for one ``RedisLoopConnection``, already in Redis' wire format, and the promise of their replies.
struct RedisLoopRequest: Sendable {
    /// The commands, formatted by hiredis (`redisFormatCommandArgv`), one after another.
    var bytes: ByteBuffer
    /// How many commands `bytes` holds: as many replies complete the request.
    var count: Int
    var promise: EventLoopPromise<[RedisReply]>
}

/// The channel handler of a ``RedisLoopConnection``: writes requests, reads the replies with hiredis' reply reader
/// (`redisReaderFeed`/`redisReaderGetReply`, the parsing API hiredis offers for bindings that do their own I/O) and
/// completes the requests in the order they were written, as Redis answers them.
///
/// Each request has the command timeout from its write. When it passes, the request fails with
/// ``RedisError/Code/timeout``, every other request in flight with ``RedisError/Code/io``, and the connection closes:
/// the replies still owed would otherwise answer the wrong requests. A lost connection fails every request in flight
/// with `io` (their commands may have been applied). All of this runs on the channel's event loop.
final class RedisReplyHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = RedisLoopRequest
    typealias OutboundOut = ByteBuffer

    private struct Pending {
        let expected: Int
        var replies: [RedisReply]
        let promise: EventLoopPromise<[RedisReply]>
        let deadline: NIODeadline
    }

    private let configuration: RedisConfiguration
    private var endpoint: String { configuration.endpoint }
    private let reader: UnsafeMutablePointer<redisReader>
    private var pending = CircularBuffer<Pending>()
    /// The one timer of the connection, due at the oldest request's deadline or earlier (requests are answered in
    /// order and all get the same timeout, so the oldest one times out first): one timer per command timeout while
    /// requests flow, not one per request.
    private var timer: Scheduled<Void>?
    /// Set once the connection can no longer carry requests: what later writes fail with.
    private var closedError: RedisError?

    /// Called once, on the loop, when the connection can carry no more requests: before the requests in flight fail,
    /// so that a caller they resume finds the connection gone and opens a new one.
    private var onClose: (() -> Void)?

    init(configuration: RedisConfiguration, onClose: @escaping () -> Void) {
        self.configuration = configuration
        self.onClose = onClose
        guard let reader = redisReaderCreate() else { fatalError("hiredis could not allocate a reply reader") }
        self.reader = reader
    }

    deinit {
        redisReaderFree(reader)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if let closedError {
            request.promise.fail(closedError)
            promise?.fail(closedError)
            return
        }
        var replies: [RedisReply] = []
        replies.reserveCapacity(request.count)
        let deadline = NIODeadline.now() + TimeAmount(configuration.commandTimeout)
        pending.append(Pending(expected: request.count, replies: replies, promise: request.promise, deadline: deadline))
        if timer == nil { arm(at: deadline, context: context) }
        context.write(wrapOutboundOut(request.bytes), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        let fed = buffer.withUnsafeReadableBytes { bytes in
            redisReaderFeed(reader, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), bytes.count)
        }
        guard fed == REDIS_OK else {
            fail(context: context, RedisError(.protocol, "Redis connection to \(endpoint) failed: \(readerError)"))
            return
        }
        while true {
            var raw: UnsafeMutableRawPointer?
            guard redisReaderGetReply(reader, &raw) == REDIS_OK else {
                fail(context: context, RedisError(.protocol, "Redis connection to \(endpoint) failed: \(readerError)"))
                return
            }
            guard let raw else { return }
            let reply = RedisReply.copying(raw.assumingMemoryBound(to: redisReply.self))
            freeReplyObject(raw)
            guard let reply else {
                fail(context: context, RedisError(.protocol, "Redis at \(endpoint) sent a reply of an unknown type"))
                return
            }
            guard !pending.isEmpty else {
                fail(context: context, RedisError(.protocol, "Redis at \(endpoint) sent a reply nothing asked for"))
                return
            }
            let first = pending.startIndex
            pending[first].replies.append(reply)
            if pending[first].replies.count == pending[first].expected {
                let done = pending.removeFirst()
                done.promise.succeed(done.replies)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(lost("the server closed the connection"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(context: context, lost("\(error)"))
    }

    private func arm(at deadline: NIODeadline, context: ChannelHandlerContext) {
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.timer = nil
            self.checkDeadline(context: context)
        }
    }

    /// When the oldest request is past its deadline, fails it with a timeout, the others with `io`, and closes the
    /// connection; otherwise waits for the oldest request's deadline.
    private func checkDeadline(context: ChannelHandlerContext) {
        guard let oldest = pending.first else { return }
        guard oldest.deadline <= .now() else {
            arm(at: oldest.deadline, context: context)
            return
        }
        let late = pending.removeFirst()
        late.promise.fail(RedisError.unanswered(configuration))
        fail(context: context, lost("closed after a command timed out"))
    }

    private func fail(context: ChannelHandlerContext, _ error: RedisError) {
        failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: RedisError) {
        if closedError == nil { closedError = error }
        if let onClose {
            self.onClose = nil
            onClose()
        }
        timer?.cancel()
        timer = nil
        while let next = pending.popFirst() {
            next.promise.fail(error)
        }
    }

    private func lost(_ reason: String) -> RedisError {
        .lostConnection(to: endpoint, reason: reason)
    }

    private var readerError: String {
        withUnsafeBytes(of: &reader.pointee.errstr) { buffer in
            String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
