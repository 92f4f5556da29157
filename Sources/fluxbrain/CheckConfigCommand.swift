import ArgumentParser
import FluxbrainService
import Foundation

/// `fluxbrain check-config`: validate the environment and print the effective configuration, secrets masked.
struct CheckConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate FLUXBRAIN_* variables and print the effective configuration with secrets masked."
    )

    func run() async throws {
        let configuration = try loadConfiguration()
        let rows = configuration.describe()
        let width = rows.map(\.0.count).max() ?? 0
        var text = ""
        for (name, value) in rows {
            text += name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value + "\n"
        }
        text += "configuration OK\n"
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
