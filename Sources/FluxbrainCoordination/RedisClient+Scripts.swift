import FluxbrainRedis

extension RedisClient {
    /// Runs `script` with `EVALSHA`, once more after a second `NOSCRIPT`: the one script runner of this module.
    ///
    /// The client itself reloads a script once on `NOSCRIPT`; a second flush between its reload and its retry (a
    /// restart storm) lands here. `NOSCRIPT` means the script did not run, so one more try is safe. Callers wrap the
    /// `RedisError` in their own layer's error.
    func runScript(
        _ script: RedisScript,
        keys: [String],
        arguments: [any RedisArgumentConvertible]
    ) async throws(RedisError) -> RedisReply {
        do {
            return try await evalSHA(script, keys: keys, arguments: arguments)
        } catch  where error.code == .noScript {
            return try await evalSHA(script, keys: keys, arguments: arguments)
        }
    }
}
