import ArgumentParser
import FluxbrainService
import Foundation

/// The `fluxbrain` command line.
@main
struct FluxbrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fluxbrain",
        abstract: "Notices failing Flux reconciliations, gathers their context, asks Errorbrain, tells people.",
        discussion: "Configuration comes from FLUXBRAIN_* environment variables; see README.md.",
        subcommands: [
            RunCommand.self, OnceCommand.self, CheckConfigCommand.self, NotifyTestCommand.self, QueueCommand.self,
            SinkCommand.self, FakeClusterCommand.self,
        ]
    )
}
