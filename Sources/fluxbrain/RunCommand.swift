import ArgumentParser
import FluxbrainService
import Foundation
import Prometheus

/// `fluxbrain run`: the long-running service.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run continuously (or once, with FLUXBRAIN_RUN_MODE=once): collect, analyze, notify.",
        discussion: """
            Serves /healthz, /readyz and /metrics on FLUXBRAIN_HTTP_ADDR. With FLUXBRAIN_REDIS_URL, replicas share \
            state and one of them schedules; without it, one process keeps everything in memory.
            """
    )

    @Option(name: .long, help: "Watch a snapshot directory or file instead of a cluster (re-read on each pass).")
    var snapshot: String?

    func run() async throws {
        let configuration = try loadConfiguration()
        let logger = bootstrapObservability(configuration)
        try await withParts(
            configuration,
            snapshot: snapshot.map(SnapshotSource.Input.path),
            console: nil,
            mode: configuration.runMode,
            logger: logger
        ) { parts in
            switch configuration.runMode {
            case .once:
                let outcome = try await FluxbrainRuntime.runOnce(
                    configuration: configuration,
                    parts: parts,
                    logger: logger
                )
                try finishOnce(outcome, failOnIncident: false, logger: logger)
            case .continuous:
                try await FluxbrainRuntime.runContinuous(
                    configuration: configuration,
                    parts: parts,
                    registry: metricsRegistry,
                    logger: logger
                )
            }
        }
    }
}
