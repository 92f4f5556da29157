import ArgumentParser
import AsyncHTTPClient
import FluxbrainIntegrations
import FluxbrainService
import Foundation

/// `fluxbrain notify-test`: send a labelled sample through every configured channel and say what happened.
struct NotifyTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notify-test",
        abstract: "Send a clearly labelled sample incident through every configured channel and report each result."
    )

    func run() async throws {
        let configuration = try loadConfiguration()
        let logger = bootstrapObservability(configuration)
        let clients = HTTPClients(proxies: configuration.proxies)
        let notifiers = Composition.makeNotifiers(
            routing: configuration.routing,
            console: nil,
            httpClients: clients,
            logger: logger
        )
        let results = await NotifyTest.run(
            notifiers: notifiers,
            cluster: configuration.cluster ?? "notify-test",
            logger: logger
        )
        await clients.shutdown()
        for result in results {
            FileHandle.standardOutput.write(Data((result.line + "\n").utf8))
        }
        if results.contains(where: { !$0.ok }) { throw ExitCode(1) }
    }
}
