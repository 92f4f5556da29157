import ArgumentParser
import FluxbrainTestbed
import Foundation

/// `fluxbrain-testbed sink`: an HTTP sink that records every webhook it receives.
struct SinkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sink",
        abstract: "Record every webhook POSTed to it as JSON lines; GET /records returns them."
    )

    @Option(name: .long, help: "HOST:PORT to listen on.")
    var listen = "127.0.0.1:9000"

    @Option(name: .long, help: "File to append records to (JSON lines).")
    var record: String?

    func run() async throws {
        let address = try parseListen(listen)
        let logger = bootstrapTestbedLogging(label: "fluxbrain-testbed")
        try await WebhookSink.serve(host: address.host, port: address.port, recordPath: record, logger: logger)
    }
}
