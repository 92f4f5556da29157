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

    /// Parses and runs the command; a failure of the run itself is reported by the one rule of
    /// ``reportFailure(_:)`` (one line, exit 1), while usage errors and exit codes stay ArgumentParser's.
    static func main() async {
        var command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exit(withError: error)
        }
        do {
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch let exit as ExitCode {
            Self.exit(withError: exit)
        } catch {
            reportFailure(error)
            Self.exit(withError: ExitCode.failure)
        }
    }
}
