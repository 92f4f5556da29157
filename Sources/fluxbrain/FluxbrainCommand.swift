import ArgumentParser
import FluxbrainCore
import FluxbrainService
import Foundation

/// The `fluxbrain` command line.
@main
struct FluxbrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fluxbrain",
        abstract: "Notices failing Flux reconciliations, gathers their context, asks Errorbrain, tells people.",
        discussion: "Configuration comes from FLUXBRAIN_* environment variables; see README.md.",
        version: BuildInfo.description,
        subcommands: [
            RunCommand.self, OnceCommand.self, CheckConfigCommand.self, NotifyTestCommand.self, QueueCommand.self,
            SilenceCommand.self, RoutesCommand.self,
        ]
    )

    /// Runs the command under the one rule of ``runCommand(_:)``: a bad flag or argument exits 2 like a bad
    /// setting (ArgumentParser's own code for that is 64); a failure of the run itself is one line and exit 1.
    static func main() async {
        await runCommand(self)
    }
}
