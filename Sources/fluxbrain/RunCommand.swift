import ArgumentParser
import FluxbrainService
import Foundation

/// `fluxbrain run`: the long-running service.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run continuously (or once, with FLUXBRAIN_RUN_MODE=once): collect, analyze, notify."
    )

    func run() async throws {
        let configuration = try loadConfiguration()
        _ = bootstrapLogging(configuration)
        printError("the continuous service is not wired yet")
        throw ExitCode(1)
    }
}
