import ArgumentParser
import FluxbrainService
import FluxbrainTestbed
import Foundation
import Logging

/// `fluxbrain sink`: an HTTP sink that records every webhook it receives (the testbed's receiver).
struct SinkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sink",
        abstract: "Record every webhook POSTed to it as JSON lines; GET /records returns them (testbed)."
    )

    @Option(name: .long, help: "HOST:PORT to listen on.")
    var listen = "127.0.0.1:9000"

    @Option(name: .long, help: "File to append records to (JSON lines).")
    var record: String?

    func run() async throws {
        let configuration = try loadConfiguration()
        let logger = bootstrapObservability(configuration)
        let address = try parseListen(listen)
        try await WebhookSink.serve(host: address.host, port: address.port, recordPath: record, logger: logger)
    }
}

/// Parses `--listen HOST:PORT`, exiting with code 2 on a bad value.
func parseListen(_ text: String) throws -> (host: String, port: Int) {
    do {
        return try FluxbrainConfiguration.parseAddress(text, variable: "--listen")
    } catch {
        printError(error.description)
        throw usageErrorExitCode
    }
}
