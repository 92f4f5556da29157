import ArgumentParser
import FluxbrainCore
import FluxbrainService
import Foundation

/// `fluxbrain once`: one collection pass through the whole pipeline, then exit.
struct OnceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "once",
        abstract: "Collect once, analyze and notify every incident, and exit.",
        discussion: """
            With --snapshot, reads Flux objects saved from a cluster (a directory or a file; JSON or YAML; \
            single objects, typed lists or kind: List documents) and needs neither a cluster nor Redis. \
            Incidents are reported on the console (readable, or one JSON object per line with --output json) \
            and on every configured channel.
            """
    )

    @Option(name: .long, help: "A file or directory of Flux objects saved with kubectl (-o yaml or -o json).")
    var snapshot: String?

    @Option(name: .long, help: "Console format: text (readable) or json (one notification per line).")
    var output: ReportFormatArgument = .text

    @Flag(name: .long, help: "Exit with code 1 when any incident is found.")
    var failOnIncident = false

    func run() async throws {
        let configuration = try loadConfiguration()
        let logger = bootstrapObservability(configuration)
        if let snapshot {
            // Check the snapshot up front: a malformed file is a usage error (exit 2) naming the file.
            do {
                let report = try SnapshotRun(
                    path: snapshot, cluster: configuration.cluster ?? "snapshot",
                    detector: Detector(stuckAfter: configuration.stuckAfter)
                ).collect(logger: logger)
                FileHandle.standardError.write(Data((try report.render(format: .text).summary + "\n").utf8))
            } catch let error as CoreError {
                printError(error.description)
                throw usageErrorExitCode
            }
        }
        let parts = try await makeParts(
            configuration, snapshot: snapshot, console: output.format == .json ? .json : .text, mode: .once,
            logger: logger)
        let outcome = try await FluxbrainRuntime.runOnce(configuration: configuration, parts: parts, logger: logger)
        try finishOnce(outcome, failOnIncident: failOnIncident, logger: logger)
    }
}

/// `--output` values.
struct ReportFormatArgument: ExpressibleByArgument {
    var format: ReportFormat

    static let text = ReportFormatArgument(format: .text)

    init(format: ReportFormat) { self.format = format }

    init?(argument: String) {
        guard let format = ReportFormat(rawValue: argument) else { return nil }
        self.format = format
    }

    static var allValueStrings: [String] { ReportFormat.allCases.map(\.rawValue) }
}
