import ArgumentParser
import FluxbrainCore
import FluxbrainService
import Foundation
import Logging

/// The `fluxbrain-testbed` command line: the fake cluster and the webhook sink that the docker-compose testbed,
/// `scripts/testbed.sh` and demos run next to Fluxbrain. Not part of the product: the `fluxbrain` binary does not
/// contain them.
@main
struct TestbedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fluxbrain-testbed",
        abstract: "Fakes for trying Fluxbrain: a Flux cluster served from a snapshot, and a webhook sink.",
        discussion:
            "Logs are JSON lines unless standard error is a terminal (FLUXBRAIN_LOG_FORMAT=json|text overrides).",
        version: BuildInfo.description,
        subcommands: [FakeClusterCommand.self, SinkCommand.self]
    )
}

/// Bootstraps logging for a testbed command: JSON lines, or text on a terminal; `FLUXBRAIN_LOG_FORMAT` overrides.
func bootstrapTestbedLogging(label: String) -> Logger {
    let format = ProcessInfo.processInfo.environment["FLUXBRAIN_LOG_FORMAT"]
    let json = format.map { $0 == "json" } ?? (isatty(STDERR_FILENO) == 0)
    LoggingSystem.bootstrap { label -> any LogHandler in
        json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
    }
    return Logger(label: label)
}

/// Parses `--listen HOST:PORT`, exiting with code 2 on a bad value.
func parseListen(_ text: String) throws -> (host: String, port: Int) {
    do {
        return try FluxbrainConfiguration.parseAddress(text, variable: "--listen")
    } catch {
        FileHandle.standardError.write(Data("fluxbrain-testbed: error: \(error.description)\n".utf8))
        throw ExitCode(2)
    }
}
