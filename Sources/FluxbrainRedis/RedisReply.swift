import CHiredis

/// A RESP2 reply, copied out of hiredis (so it outlives the C reply object).
///
/// ``RedisConnection/send(_:)`` throws a top-level `.error` reply as a ``RedisError`` with code
/// ``RedisError/Code/server``; error replies nested in arrays (`EXEC`, Lua tables) and replies read with
/// ``RedisConnection/pipeline(_:)`` or ``RedisConnection/readReply()`` stay visible as `.error`.
package enum RedisReply: Sendable, Hashable, CustomStringConvertible {
    /// A status reply such as `OK` or `PONG` (`+OK`).
    case status(String)
    /// An error reply such as `ERR unknown command 'FOO'` (`-ERR ...`).
    case error(String)
    /// An integer reply (`:42`).
    case integer(Int64)
    /// A bulk string, binary safe (`$3\r\nabc`).
    case bulk([UInt8])
    /// The nil bulk string or nil array (`$-1`, `*-1`).
    case null
    /// An array reply, possibly nested.
    case array([RedisReply])

    /// The text of a bulk string (decoded as UTF-8, invalid bytes repaired) or of a status; otherwise `nil`.
    package var string: String? {
        switch self {
        case .bulk(let bytes): String(decoding: bytes, as: UTF8.self)
        case .status(let text): text
        default: nil
        }
    }

    /// The bytes of a bulk string or status; otherwise `nil`.
    package var bytes: [UInt8]? {
        switch self {
        case .bulk(let bytes): bytes
        case .status(let text): Array(text.utf8)
        default: nil
        }
    }

    /// The value of an integer reply, or of a bulk string holding a decimal integer; otherwise `nil`.
    package var integer: Int64? {
        switch self {
        case .integer(let value): value
        case .bulk(let bytes): Int64(String(decoding: bytes, as: UTF8.self))
        default: nil
        }
    }

    /// The elements of an array reply; otherwise `nil`.
    package var array: [RedisReply]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// `true` for the nil reply.
    package var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The message of an error reply; otherwise `nil`.
    package var errorMessage: String? {
        if case .error(let message) = self { return message }
        return nil
    }

    /// Throws a `server` (or `noScript`) ``RedisError`` for an error reply, returns `self` otherwise.
    @discardableResult
    package func throwingServerError(file: String = #fileID, line: UInt = #line) throws(RedisError) -> RedisReply {
        if case .error(let message) = self {
            throw RedisError(message.hasPrefix("NOSCRIPT") ? .noScript : .server, message, file: file, line: line)
        }
        return self
    }

    /// A compact rendering for logs and test failures (bulk strings shown as text when printable).
    package var description: String {
        switch self {
        case .status(let text): "+\(text)"
        case .error(let text): "-\(text)"
        case .integer(let value): ":\(value)"
        case .bulk(let bytes): "\"\(String(decoding: bytes, as: UTF8.self))\""
        case .null: "(nil)"
        case .array(let elements): "[" + elements.map(\.description).joined(separator: ", ") + "]"
        }
    }

    /// Copies a hiredis reply tree into Swift values. Returns `nil` for an unknown reply type.
    static func copying(_ reply: UnsafePointer<redisReply>) -> RedisReply? {
        let type = reply.pointee.type
        switch type {
        case REDIS_REPLY_STATUS:
            return .status(text(reply))
        case REDIS_REPLY_ERROR:
            return .error(text(reply))
        case REDIS_REPLY_INTEGER:
            return .integer(reply.pointee.integer)
        case REDIS_REPLY_STRING:
            let length = reply.pointee.len
            guard length > 0, let pointer = reply.pointee.str else { return .bulk([]) }
            return .bulk(
                [UInt8](
                    unsafeUninitializedCapacity: length,
                    initializingWith: { buffer, count in
                        UnsafeMutableRawPointer(buffer.baseAddress!).copyMemory(from: pointer, byteCount: length)
                        count = length
                    }
                )
            )
        case REDIS_REPLY_NIL:
            return .null
        case REDIS_REPLY_ARRAY:
            let count = reply.pointee.elements
            var elements: [RedisReply] = []
            elements.reserveCapacity(count)
            for index in 0..<count {
                guard let element = fluxbrain_reply_element(reply, index),
                    let copied = copying(element)
                else { return nil }
                elements.append(copied)
            }
            return .array(elements)
        default:
            return nil
        }
    }

    private static func text(_ reply: UnsafePointer<redisReply>) -> String {
        guard let pointer = reply.pointee.str, reply.pointee.len > 0 else { return "" }
        return String(
            decoding: UnsafeRawBufferPointer(start: pointer, count: reply.pointee.len),
            as: UTF8.self
        )
    }
}

/// A Lua script run with `EVALSHA`; the client loads it with `SCRIPT LOAD` on first use and again on `NOSCRIPT`.
///
/// The SHA1 is not computed locally: `SCRIPT LOAD` returns it, and the client caches it per source text.
package struct RedisScript: Sendable, Hashable, CustomStringConvertible {
    /// A short name for logs and metrics (`"claim"`, `"enqueue"`).
    package var name: String
    /// The Lua source.
    package var source: String

    /// Creates a script.
    package init(name: String, source: String) {
        self.name = name
        self.source = source
    }

    /// `RedisScript(name)`.
    package var description: String { "RedisScript(\(name))" }
}

/// One script run of a pipeline (``RedisClient/evalSHA(_:)``): the script, its keys and its arguments as bytes.
package struct RedisScriptCall: Sendable {
    package var script: RedisScript
    package var keys: [String]
    package var arguments: [[UInt8]]

    /// Encodes `arguments` as Redis arguments at once (so the call is `Sendable`).
    package init(_ script: RedisScript, keys: [String] = [], arguments: [any RedisArgumentConvertible] = []) {
        self.script = script
        self.keys = keys
        self.arguments = arguments.map { argument in
            var bytes: [UInt8] = []
            argument.appendRedisArgument(to: &bytes)
            return bytes
        }
    }
}

/// One step of a mixed pipeline (``RedisClient/pipeline(steps:)``): a plain command or a script run.
package enum RedisPipelineStep: Sendable {
    /// A plain command.
    case command(RedisCommand)
    /// A script run with `EVALSHA` (loaded first if needed, reloaded and run again after `NOSCRIPT`).
    case script(RedisScriptCall)
}
