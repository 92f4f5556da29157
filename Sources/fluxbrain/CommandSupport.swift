import ArgumentParser
import FluxbrainCore
import FluxbrainService
import Foundation
import Logging
import Metrics
import Prometheus

/// Exit code for bad configuration or bad input files.
let usageErrorExitCode = ExitCode(2)

/// The process's Prometheus registry, exported on `/metrics`.
let metricsRegistry = PrometheusCollectorRegistry()

/// Prints `message` to standard error as `fluxbrain: …`.
func printError(_ message: String) {
    FileHandle.standardError.write(Data("fluxbrain: \(message)\n".utf8))
}

/// The one rule for a command that fails (every command, `fluxbrain: …` on standard error, exit 1): one line saying
/// what failed, why and which setting to look at (the error's `description`, e.g. `fluxbrain: cannot reach Redis at
/// 127.0.0.1:6399 (connection refused); check FLUXBRAIN_REDIS_URL`); with `FLUXBRAIN_LOG_LEVEL=debug` (or `trace`)
/// the whole chain with the place each error was thrown on the next line. Secrets are redacted either way.
func reportFailure(_ error: any Error) {
    let redactor = Redactor()
    var text = redactor.redact(String(describing: error))
    // The log level the process was bootstrapped with (info before bootstrap: a configuration error).
    if Logger(label: "fluxbrain").logLevel <= .debug {
        text += "\n  " + redactor.redact(String(reflecting: error))
    }
    printError(text)
}

/// Reads the configuration, or prints the error naming the variable and exits with code 2.
func loadConfiguration() throws -> FluxbrainConfiguration {
    unblockSignals()
    do {
        return try FluxbrainConfiguration(environment: EnvironmentReader(), isTerminal: isatty(STDERR_FILENO) == 1)
    } catch {
        printError(error.description)
        throw usageErrorExitCode
    }
}

/// A parent may have started us with signals blocked (test runners do); SIGTERM must reach the service group.
private func unblockSignals() {
    var set = sigset_t()
    sigemptyset(&set)
    sigprocmask(SIG_SETMASK, &set, nil)
}

/// Bootstraps logging (JSON lines unless configured or on a terminal; secrets redacted) and metrics (Prometheus),
/// once for the process.
func bootstrapObservability(_ configuration: FluxbrainConfiguration) -> Logger {
    let level = Logger.Level(rawValue: configuration.logLevel) ?? .info
    let format = configuration.logFormat
    LoggingSystem.bootstrap { label in
        let inner: any LogHandler
        switch format {
        case .json: inner = JSONLogHandler(label: label)
        case .text: inner = StreamLogHandler.standardError(label: label)
        }
        var handler = RedactingLogHandler(wrapping: inner)
        handler.logLevel = level
        return handler
    }
    MetricsSystem.bootstrap(FluxbrainMetricsFactory(registry: metricsRegistry))
    var logger = Logger(label: "fluxbrain")
    logger[metadataKey: "replica"] = "\(configuration.replicaID)"
    return logger
}

/// Builds the run's parts and runs `body` with them, closing their clients afterwards; configuration problems found
/// here exit with code 2 too.
func withParts<T>(
    _ configuration: FluxbrainConfiguration,
    snapshot: SnapshotSource.Input?,
    console: ConsoleFormat?,
    mode: FluxbrainConfiguration.RunMode,
    logger: Logger,
    _ body: (RuntimeParts) async throws -> T
) async throws -> T {
    do {
        return try await Composition.withParts(
            configuration: configuration,
            snapshot: snapshot,
            console: console,
            mode: mode,
            logger: logger,
            body
        )
    } catch let error as ConfigurationError {
        printError(error.description)
        throw usageErrorExitCode
    }
}

/// Reports how a once run ended and picks the exit code: 0 when done (or another replica leads), 1 otherwise.
func finishOnce(_ outcome: OnceOutcome, failOnIncident: Bool, logger: Logger) throws {
    switch outcome {
    case .anotherReplicaLeads(let holder):
        logger.notice(
            "another replica holds the scheduler lock; nothing to do",
            metadata: ["holder": "\(holder ?? "?")"]
        )
    case .completed(let enqueued, let dead, let unread):
        logger.info(
            "once run complete",
            metadata: ["items": "\(enqueued)", "deadLettered": "\(dead)", "unread": "\(unread.count)"]
        )
        if dead > 0 {
            printError("\(dead) item(s) were dead-lettered; see 'fluxbrain queue dead'")
        }
        if !unread.isEmpty {
            // What could be read was reported; the rest was not looked at, which a CronJob must not pass off as fine.
            printError(
                "could not read everything, so these were not checked:\n"
                    + unread.map { "  \($0)" }.joined(separator: "\n")
            )
        }
        if dead > 0 || !unread.isEmpty { throw ExitCode(1) }
        if failOnIncident, enqueued > 0 { throw ExitCode(1) }
    case .timedOut(let pending):
        printError("\(pending) item(s) still pending at the deadline")
        throw ExitCode(1)
    }
}

/// Parses and runs `command`'s command line, the one rule for every subcommand: a usage error (unknown flag, bad
/// value, missing argument) prints ArgumentParser's message and usage and exits with code 2 instead of
/// ArgumentParser's 64; an `ExitCode` thrown by the run is kept; any other failure is reported by
/// ``reportFailure(_:)`` (one line, the chain at debug level) and exits 1.
func runCommand<Command: AsyncParsableCommand>(_ command: Command.Type) async {
    var parsed: any ParsableCommand
    do {
        parsed = try Command.parseAsRoot()
    } catch {
        if Command.exitCode(for: error) == .validationFailure {
            FileHandle.standardError.write(Data((Command.fullMessage(for: error) + "\n").utf8))
            exit(usageErrorExitCode.rawValue)
        }
        Command.exit(withError: error)
    }
    do {
        if var asyncCommand = parsed as? any AsyncParsableCommand {
            try await asyncCommand.run()
        } else {
            try parsed.run()
        }
    } catch let exitCode as ExitCode {
        Command.exit(withError: exitCode)
    } catch {
        reportFailure(error)
        Command.exit(withError: ExitCode.failure)
    }
}
