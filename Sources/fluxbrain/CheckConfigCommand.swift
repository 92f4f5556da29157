import ArgumentParser
import FluxbrainService
import Foundation

/// `fluxbrain check-config`: validate the configuration and print the effective values, secrets masked, with where
/// each came from (`env`, `file <VAR>_FILE (path)` or `default`).
struct CheckConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate the configuration and print it, secrets masked, with where each value came from."
    )

    func run() async throws {
        let configuration = try loadConfiguration()
        let rows = configuration.describe()
        let nameWidth = rows.map(\.name.count).max() ?? 0
        let valueWidth = rows.map(\.value.count).max() ?? 0
        var text = ""
        for row in rows {
            text +=
                row.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0) + "  "
                + row.value.padding(toLength: valueWidth, withPad: " ", startingAt: 0) + "  " + row.source + "\n"
        }
        for line in configuration.routing.describe() { text += line + "\n" }
        text += "configuration OK\n"
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
