/// A value that can be one argument of a Redis command (binary safe).
package protocol RedisArgumentConvertible {
    /// Appends the argument's bytes to `buffer`.
    func appendRedisArgument(to buffer: inout [UInt8])
}

extension String: RedisArgumentConvertible {
    /// Appends the UTF-8 bytes.
    package func appendRedisArgument(to buffer: inout [UInt8]) { buffer.append(contentsOf: utf8) }
}

extension Substring: RedisArgumentConvertible {
    /// Appends the UTF-8 bytes.
    package func appendRedisArgument(to buffer: inout [UInt8]) { buffer.append(contentsOf: utf8) }
}

extension Array: RedisArgumentConvertible where Element == UInt8 {
    /// Appends the bytes unchanged (binary safe, NUL bytes included).
    package func appendRedisArgument(to buffer: inout [UInt8]) { buffer.append(contentsOf: self) }
}

extension ArraySlice: RedisArgumentConvertible where Element == UInt8 {
    /// Appends the bytes unchanged.
    package func appendRedisArgument(to buffer: inout [UInt8]) { buffer.append(contentsOf: self) }
}

extension Int: RedisArgumentConvertible {
    /// Appends the decimal representation.
    package func appendRedisArgument(to buffer: inout [UInt8]) { buffer.append(contentsOf: String(self).utf8) }
}

extension Int64: RedisArgumentConvertible {
    /// Appends the decimal representation.
    package func appendRedisArgument(to buffer: inout [UInt8]) { buffer.append(contentsOf: String(self).utf8) }
}

extension UInt64: RedisArgumentConvertible {
    /// Appends the decimal representation.
    package func appendRedisArgument(to buffer: inout [UInt8]) { buffer.append(contentsOf: String(self).utf8) }
}

extension Double: RedisArgumentConvertible {
    /// Appends the shortest round-tripping decimal representation, `+inf`/`-inf` for infinities.
    package func appendRedisArgument(to buffer: inout [UInt8]) {
        let text: String
        if isInfinite {
            text = self > 0 ? "+inf" : "-inf"
        } else {
            text = String(self)
        }
        buffer.append(contentsOf: text.utf8)
    }
}

/// One Redis command: its arguments as raw bytes, stored contiguously (one allocation for the bytes, one for the
/// argument boundaries) so that appending it to hiredis needs no per-argument allocation.
///
/// ```swift
/// let set = RedisCommand("SET", "key", [0x61, 0x00, 0x62] as [UInt8], "PX", 1500)
/// let pop = RedisCommand.blpop(["queue"], timeout: .seconds(2))   // a blocking command
/// ```
package struct RedisCommand: Sendable, Hashable, CustomStringConvertible {
    /// All argument bytes, concatenated.
    private(set) var bytes: [UInt8]
    /// End offset (exclusive) of each argument in ``bytes``.
    private(set) var ends: [Int]
    /// For blocking commands (`BLPOP`, `BLMOVE`, ...): the server-side timeout, which the client adds to the
    /// command timeout for this call's socket timeout, and which routes ``RedisClient/send(_:)`` to a dedicated
    /// connection. `nil` for ordinary commands.
    package var blockingTimeout: Duration?
    /// Whether the command may be re-sent once, on a fresh connection, after the connection was lost (`io`) while
    /// sending it. Mark only commands whose repetition is harmless (reads, idempotent writes). Default `false`.
    package var isIdempotent: Bool

    /// Creates a command from its name and arguments.
    /// (A parameter pack: no array of existentials is allocated and each argument is appended statically.)
    package init<each Argument: RedisArgumentConvertible>(_ name: String, _ arguments: repeat each Argument) {
        bytes = []
        bytes.reserveCapacity(32)
        ends = []
        ends.reserveCapacity(4)
        blockingTimeout = nil
        isIdempotent = false
        append(name)
        for argument in repeat each arguments {
            append(argument)
        }
    }

    /// Creates a command from its name and an array of arguments.
    package init(_ name: String, arguments: [any RedisArgumentConvertible]) {
        bytes = []
        bytes.reserveCapacity(16 + arguments.count * 16)
        ends = []
        ends.reserveCapacity(arguments.count + 1)
        blockingTimeout = nil
        isIdempotent = false
        append(name)
        for argument in arguments { append(argument) }
    }

    /// Creates a command from raw argument byte strings (the first one is the command name).
    package init(rawArguments: [[UInt8]]) {
        bytes = []
        ends = []
        blockingTimeout = nil
        isIdempotent = false
        for argument in rawArguments { append(argument) }
    }

    /// Appends one more argument.
    package mutating func append(_ argument: some RedisArgumentConvertible) {
        argument.appendRedisArgument(to: &bytes)
        ends.append(bytes.count)
    }

    /// Returns a copy marked as safe to re-send after a lost connection (see ``isIdempotent``).
    package func idempotent() -> RedisCommand {
        var copy = self
        copy.isIdempotent = true
        return copy
    }

    /// Returns a copy marked as blocking with the given server-side timeout (see ``blockingTimeout``).
    package func blocking(serverTimeout: Duration) -> RedisCommand {
        var copy = self
        copy.blockingTimeout = serverTimeout
        return copy
    }

    /// Number of arguments including the command name.
    package var argumentCount: Int { ends.count }

    /// The arguments as separate byte arrays (allocates; for inspection and tests).
    package var arguments: [[UInt8]] {
        var start = 0
        return ends.map { end in
            defer { start = end }
            return Array(bytes[start..<end])
        }
    }

    /// The command name, upper-cased.
    package var name: String {
        guard let end = ends.first else { return "" }
        return String(decoding: bytes[0..<end], as: UTF8.self).uppercased()
    }

    /// The command name only: arguments may hold secrets or large values, so they are never printed.
    package var description: String { "RedisCommand(\(name), \(argumentCount - 1) arguments)" }

    /// Calls `body` with hiredis-style `argv`/`argvlen` arrays; the pointers are valid only during the call.
    /// `argv` and `lengths` are caller-provided scratch buffers with room for ``argumentCount`` entries.
    func withArgv<R>(
        argv: UnsafeMutablePointer<UnsafePointer<CChar>?>,
        lengths: UnsafeMutablePointer<Int>,
        _ body: () -> R
    ) -> R {
        // An all-empty command has no storage; give hiredis a valid pointer anyway.
        let storage = bytes.isEmpty ? [0] : bytes
        return storage.withUnsafeBufferPointer { buffer in
            let base = UnsafeRawPointer(buffer.baseAddress!)
            var start = 0
            for (index, end) in ends.enumerated() {
                argv[index] = base.advanced(by: start).assumingMemoryBound(to: CChar.self)
                lengths[index] = end - start
                start = end
            }
            return body()
        }
    }

    /// Whether the name equals `upperName` (ASCII, case-insensitive), cheaply.
    func nameEquals(_ upperName: StaticString) -> Bool {
        guard let end = ends.first, end == upperName.utf8CodeUnitCount else { return false }
        let expected = UnsafeBufferPointer(start: upperName.utf8Start, count: end)
        for index in 0..<end {
            var byte = bytes[index]
            if byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") { byte -= 32 }
            if byte != expected[index] { return false }
        }
        return true
    }
}

extension RedisCommand {
    /// `EVALSHA sha numkeys key... argument...`.
    static func evalSHA(
        _ sha: String,
        keys: [any RedisArgumentConvertible],
        arguments: [any RedisArgumentConvertible]
    ) -> RedisCommand {
        var command = RedisCommand("EVALSHA", sha, keys.count)
        for key in keys { command.append(key) }
        for argument in arguments { command.append(argument) }
        return command
    }

    /// `SCRIPT LOAD source`.
    static func scriptLoad(_ script: RedisScript) -> RedisCommand {
        RedisCommand("SCRIPT", "LOAD", script.source)
    }

    /// Why the wrapper refuses to send this command, or `nil`: an empty command, one that puts the connection in push
    /// mode, or a blocking command without a bounded server-side timeout.
    var refusal: RedisError? {
        if argumentCount == 0 {
            return RedisError(.misuse, "empty Redis command")
        }
        if nameEquals("SUBSCRIBE") || nameEquals("PSUBSCRIBE") || nameEquals("SSUBSCRIBE") || nameEquals("MONITOR") {
            return RedisError(.misuse, "\(name) puts the connection in push mode and is not supported")
        }
        if let block = blockingTimeout, block <= .zero {
            return RedisError(
                .misuse,
                "\(name) with server-side timeout \(block) would block forever; use a bounded timeout"
            )
        }
        return nil
    }

    /// Whether the command changes the connection's session (`SELECT`, `MULTI`, `EXEC`, `DISCARD`, `WATCH`,
    /// `UNWATCH`, `AUTH`, `HELLO`, `RESET`, and `CLIENT REPLY`, `SETNAME`, `TRACKING`, `CACHING`, `NO-EVICT`,
    /// `NO-TOUCH`): such commands run on a connection lent to one caller at a time, whose state is restored
    /// afterwards, never on a connection that other callers share at the same moment.
    var changesSessionState: Bool {
        switch ends.first ?? 0 {
        case 4:
            return nameEquals("EXEC") || nameEquals("AUTH")
        case 5:
            return nameEquals("MULTI") || nameEquals("WATCH") || nameEquals("HELLO") || nameEquals("RESET")
        case 6:
            if nameEquals("SELECT") { return true }
            guard nameEquals("CLIENT"), ends.count > 1 else { return false }
            let subcommand = String(decoding: bytes[ends[0]..<ends[1]], as: UTF8.self).uppercased()
            return ["REPLY", "SETNAME", "TRACKING", "CACHING", "NO-EVICT", "NO-TOUCH"].contains(subcommand)
        case 7:
            return nameEquals("DISCARD") || nameEquals("UNWATCH")
        default:
            return false
        }
    }
}

extension RedisScript {
    /// The SHA1 in a `SCRIPT LOAD` reply; a server error or any other reply throws.
    func sha(fromLoadReply reply: RedisReply) throws(RedisError) -> String {
        let reply = try reply.throwingServerError()
        guard let sha = reply.string, sha.utf8.count == 40 else {
            throw RedisError(.protocol, "SCRIPT LOAD of script '\(name)' returned \(reply), not a SHA1")
        }
        return sha
    }
}

extension RedisCommand {
    /// `BLPOP key... timeout`, marked blocking with `timeout` (sent with millisecond precision in seconds).
    package static func blpop(_ keys: [String], timeout: Duration) -> RedisCommand {
        var command = RedisCommand("BLPOP", arguments: keys)
        command.append(secondsArgument(timeout))
        return command.blocking(serverTimeout: timeout)
    }

    /// `BRPOP key... timeout`, marked blocking with `timeout`.
    package static func brpop(_ keys: [String], timeout: Duration) -> RedisCommand {
        var command = RedisCommand("BRPOP", arguments: keys)
        command.append(secondsArgument(timeout))
        return command.blocking(serverTimeout: timeout)
    }

    /// `BLMOVE source destination from to timeout` (`from`/`to` are `LEFT` or `RIGHT`), marked blocking.
    package static func blmove(
        from source: String,
        to destination: String,
        sourceSide: String = "RIGHT",
        destinationSide: String = "LEFT",
        timeout: Duration
    ) -> RedisCommand {
        RedisCommand("BLMOVE", source, destination, sourceSide, destinationSide, secondsArgument(timeout))
            .blocking(serverTimeout: timeout)
    }

    /// Formats a duration as decimal seconds with millisecond precision (`1.5`), as blocking commands expect.
    package static func secondsArgument(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        let whole = milliseconds / 1000
        let fraction = milliseconds % 1000
        if fraction == 0 { return String(whole) }
        var fractionText = String(fraction)
        while fractionText.count < 3 { fractionText = "0" + fractionText }
        while fractionText.hasSuffix("0") { fractionText.removeLast() }
        return "\(whole).\(fractionText)"
    }
}
