import ArgumentParser
import FluxbrainCore
import FluxbrainIntegrations
import FluxbrainService
import Foundation
import Logging

/// `fluxbrain once`: one collection pass through the whole pipeline, then exit.
struct OnceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "once",
        abstract: "Collect once, analyze and notify every incident, and exit.",
        discussion: """
            With --snapshot, reads Flux objects saved from a cluster (a directory or a file; JSON or YAML; \
            single objects, typed lists or kind: List documents) and needs neither a cluster nor Redis. \
            Incidents are reported on the console (readable, or one JSON object per line with --output json) \
            and on every configured channel. With --dry-run, runs collection, detection, folding and routing only, \
            sends nothing anywhere (no channel, no Errorbrain) and prints for each incident the routes that matched, \
            the channels it would reach and why not the others.
            """
    )

    @Option(name: .long, help: "A file or directory of Flux objects saved with kubectl (-o yaml or -o json).")
    var snapshot: String?

    @Option(name: .long, help: "Console format: text (readable) or json (one notification per line).")
    var output: ConsoleFormatArgument = .text

    @Flag(name: .long, help: "Exit with code 1 when any incident is found.")
    var failOnIncident = false

    @Flag(name: .long, help: "Route only: print where each incident would go, send nothing (not even to Errorbrain).")
    var dryRun = false

    func run() async throws {
        let configuration = try loadConfiguration()
        let logger = bootstrapObservability(configuration)
        let loaded = try snapshot.map { try loadSnapshot($0, configuration: configuration, logger: logger) }
        if dryRun {
            // With Redis, the silences the replicas honour (read only); without, there are none.
            let runDry = { @Sendable (silences: any SilenceStore) in
                try await Composition.dryRun(
                    configuration: configuration,
                    snapshot: loaded.map(SnapshotSource.Input.loaded),
                    silences: silences,
                    logger: logger
                )
            }
            let result =
                configuration.redisURL == nil
                ? try await runDry(InMemorySilenceStore())
                : try await Composition.withSilenceStore(configuration: configuration, logger: logger, runDry)
            var text = "dry run: nothing is sent\n"
            for (incident, decision) in result.decisions {
                let title = "\(incident.object) (cluster \(incident.object.cluster), \(incident.state.rawValue))"
                text += "\n" + decision.explained(title: title, router: configuration.routing.router) + "\n"
            }
            if result.decisions.isEmpty { text += "no incidents\n" }
            for unread in result.unread { text += "not read: \(unread)\n" }
            FileHandle.standardOutput.write(Data(text.utf8))
            if failOnIncident, !result.decisions.isEmpty { throw ExitCode(1) }
            return
        }
        let outcome = try await withParts(
            configuration,
            snapshot: loaded.map(SnapshotSource.Input.loaded),
            console: output.format,
            mode: .once,
            logger: logger
        ) { parts in
            try await FluxbrainRuntime.runOnce(configuration: configuration, parts: parts, logger: logger)
        }
        try finishOnce(outcome, failOnIncident: failOnIncident, logger: logger)
    }

    /// Reads the snapshot once, up front, and prints its summary: a malformed file is a usage error (exit 2) naming
    /// the file. The pipeline then assesses the snapshot loaded here.
    private func loadSnapshot(_ path: String, configuration: FluxbrainConfiguration, logger: Logger) throws -> Snapshot
    {
        let run: SnapshotRun
        // A plain `catch`: the block throws only `CoreError`, and `catch let error as CoreError` on it crashes the
        // Swift 6.3.1 compiler (SILGenCleanup: "Found ownership error?!").
        do {
            run = try SnapshotRun.load(
                path: path,
                cluster: configuration.cluster ?? "snapshot",
                detector: Detector(stuckAfter: configuration.stuckAfter, gitHosts: configuration.gitHosts)
            )
        } catch {
            printError(error.description)
            throw usageErrorExitCode
        }
        FileHandle.standardError.write(Data((run.report(logger: logger).summary + "\n").utf8))
        return run.snapshot
    }
}

/// `--output` values.
struct ConsoleFormatArgument: ExpressibleByArgument {
    var format: ConsoleFormat

    static let text = ConsoleFormatArgument(format: .text)

    init(format: ConsoleFormat) { self.format = format }

    init?(argument: String) {
        guard let format = ConsoleFormat(rawValue: argument) else { return nil }
        self.format = format
    }

    static var allValueStrings: [String] { ConsoleFormat.allCases.map(\.rawValue) }

    var defaultValueDescription: String { format.rawValue }
}
