/// The commands both kinds of connection send after connecting (`AUTH`, `SELECT`, `CLIENT SETNAME`, as the
/// configuration asks), and the errors both word the same way for an operator: one place for each message.
struct RedisSetupStep {
    /// The command to send.
    var command: RedisCommand
    /// `AUTH`, `SELECT` or `CLIENT SETNAME`: how a failure during the step names it.
    var name: String
    /// The error for the server's refusal `message`.
    var failure: (_ message: String) -> RedisError

    /// The steps `configuration` asks for, in the order they are sent.
    static func steps(for configuration: RedisConfiguration) -> [RedisSetupStep] {
        let endpoint = configuration.endpoint
        var steps: [RedisSetupStep] = []
        if let password = configuration.password {
            var auth = RedisCommand("AUTH")
            if let username = configuration.username { auth.append(username) }
            auth.append(password)
            steps.append(
                RedisSetupStep(command: auth, name: "AUTH") {
                    RedisError(.authenticationFailed, "Redis at \(endpoint) refused the credentials (AUTH: \($0))")
                }
            )
        }
        if configuration.database != 0 {
            let database = configuration.database
            steps.append(
                RedisSetupStep(command: RedisCommand("SELECT", database), name: "SELECT") {
                    RedisError(.server, "Redis SELECT \(database) failed on \(endpoint): \($0)")
                }
            )
        }
        if let name = configuration.clientName {
            steps.append(
                RedisSetupStep(command: RedisCommand("CLIENT", "SETNAME", name), name: "CLIENT SETNAME") {
                    RedisError(.server, "Redis CLIENT SETNAME failed on \(endpoint): \($0)")
                }
            )
        }
        return steps
    }
}

extension FluxbrainError where Code == RedisErrorCode {
    /// `error` with the set-up `steps` it happened during: `… (during CLIENT SETNAME after connecting)`.
    func duringSetup(_ steps: String) -> RedisError {
        var annotated = self
        annotated.message = "\(message) (during \(steps) after connecting)"
        return annotated
    }

    /// A connect that failed, in one line for an operator: what (Redis at host:port) and why (`reason`, its first
    /// letter lower-cased); a `timeout` names the connect timeout.
    static func cannotConnect(
        _ code: RedisErrorCode,
        to configuration: RedisConfiguration,
        reason: String,
        file: String = #fileID,
        line: UInt = #line
    ) -> RedisError {
        let why = reason.prefix(1).lowercased() + reason.dropFirst()
        let endpoint = configuration.endpoint
        let message =
            code == .timeout
            ? "cannot reach Redis at \(endpoint): no connection within \(configuration.connectTimeout) (\(why))"
            : "cannot reach Redis at \(endpoint) (\(why))"
        return RedisError(code, message, file: file, line: line)
    }

    /// No answer within the command timeout.
    static func unanswered(
        _ configuration: RedisConfiguration,
        file: String = #fileID,
        line: UInt = #line
    ) -> RedisError {
        RedisError(
            .timeout,
            "Redis at \(configuration.endpoint) did not answer within \(configuration.commandTimeout) "
                + "(the command may still have been applied)",
            file: file,
            line: line
        )
    }

    /// The connection was lost (`reason`) while commands were outstanding.
    static func lostConnection(
        to endpoint: String,
        reason: String,
        file: String = #fileID,
        line: UInt = #line
    ) -> RedisError {
        RedisError(
            .io,
            "lost the connection to Redis at \(endpoint): \(reason) (the command may have been applied)",
            file: file,
            line: line
        )
    }
}
