import ArgumentParser
import FluxbrainCore
import FluxbrainService
import Foundation
import Logging

/// Exit code for bad configuration or bad input files.
let usageErrorExitCode = ExitCode(2)

/// Prints `message` to standard error as `fluxbrain: error: …`.
func printError(_ message: String) {
    FileHandle.standardError.write(Data("fluxbrain: error: \(message)\n".utf8))
}

/// Reads the configuration, or prints the error naming the variable and exits with code 2.
func loadConfiguration() throws -> FluxbrainConfiguration {
    do {
        return try FluxbrainConfiguration(environment: EnvironmentReader(), isTerminal: isatty(STDERR_FILENO) == 1)
    } catch {
        printError(error.description)
        throw usageErrorExitCode
    }
}

/// Bootstraps logging once for the process: JSON lines unless configured or on a terminal.
func bootstrapLogging(_ configuration: FluxbrainConfiguration) -> Logger {
    let level = Logger.Level(rawValue: configuration.logLevel) ?? .info
    let format = configuration.logFormat
    LoggingSystem.bootstrap { label in
        var handler: any LogHandler
        switch format {
        case .json: handler = JSONLogHandler(label: label)
        case .text: handler = StreamLogHandler.standardError(label: label)
        }
        handler.logLevel = level
        return handler
    }
    return Logger(label: "fluxbrain")
}
