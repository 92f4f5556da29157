import Logging

extension RedisPipelineStep {
    /// A command that blocks or changes the connection's session: a pipeline holding one runs on a connection lent to
    /// it alone (``RedisClient/withConnection(_:)``), not on a shared event-loop connection.
    var needsLentConnection: Bool {
        guard case .command(let command) = self else { return false }
        return command.blockingTimeout != nil || command.changesSessionState
    }
}

/// What both kinds of connection do with a pipeline of steps around sending it: load the scripts whose SHA is not
/// cached yet, turn the steps into commands (a script into `EVALSHA` of its SHA), and after the replies, find the
/// scripts Redis answered `NOSCRIPT` for (they did not run) to load and run again on their own.
extension [RedisPipelineStep] {
    /// The scripts among the steps whose SHA `scripts` does not know: to load before ``commands(with:)``.
    func scriptsToLoad(in scripts: RedisScriptCache) -> [RedisScript] {
        var seen = Set<RedisScript>()
        return compactMap { step in
            guard case .script(let call) = step, scripts.sha(for: call.script) == nil,
                seen.insert(call.script).inserted
            else { return nil }
            return call.script
        }
    }

    /// The steps as commands; every script's SHA must be cached (``scriptsToLoad(in:)`` loaded), else `misuse`.
    func commands(with scripts: RedisScriptCache) throws(RedisError) -> [RedisCommand] {
        var commands: [RedisCommand] = []
        commands.reserveCapacity(count)
        for step in self {
            switch step {
            case .command(let command):
                commands.append(command)
            case .script(let call):
                guard let sha = scripts.sha(for: call.script) else {
                    throw RedisError(.misuse, "script '\(call.script.name)' was not loaded before the pipeline")
                }
                commands.append(RedisCommand.evalSHA(sha, keys: call.keys, arguments: call.arguments))
            }
        }
        return commands
    }

    /// The script steps answered with `NOSCRIPT` in `replies` (logged, each to load and run again on its own).
    func scriptsToRunAgain(after replies: [RedisReply], logger: Logger) -> [(index: Int, call: RedisScriptCall)] {
        replies.indices.compactMap { index in
            guard case .error(let message) = replies[index], message.hasPrefix("NOSCRIPT"),
                case .script(let call) = self[index]
            else { return nil }
            logger.info("Redis script cache miss, reloading script", metadata: ["redis.script": "\(call.script.name)"])
            return (index, call)
        }
    }
}
