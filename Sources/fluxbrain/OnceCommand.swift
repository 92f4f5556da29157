import ArgumentParser
import FluxbrainCore
import FluxbrainService
import Foundation

/// `fluxbrain once`: one collection pass, then exit.
struct OnceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "once",
        abstract: "Collect once, report every failing Flux object, and exit.",
        discussion: """
            With --snapshot, reads Flux objects saved from a cluster (a directory or a file; JSON or YAML; \
            single objects, typed lists or kind: List documents) and needs neither a cluster nor Redis.
            """
    )

    @Option(name: .long, help: "A file or directory of Flux objects saved with kubectl (-o yaml or -o json).")
    var snapshot: String?

    @Option(name: .long, help: "text (readable) or json (one incident per line).")
    var output: ReportFormatArgument = .text

    @Flag(name: .long, help: "Exit with code 1 when any incident is found.")
    var failOnIncident = false

    func run() async throws {
        let configuration = try loadConfiguration()
        let logger = bootstrapLogging(configuration)
        guard let snapshot else {
            printError("live clusters are not wired into 'once' yet: pass --snapshot PATH")
            throw usageErrorExitCode
        }
        let run = SnapshotRun(
            path: snapshot, cluster: configuration.cluster ?? "snapshot",
            detector: Detector(stuckAfter: configuration.stuckAfter))
        let report: CollectionReport
        do {
            report = try run.collect(logger: logger)
        } catch {
            printError(error.description)
            throw usageErrorExitCode
        }
        let rendered = try report.render(format: output.format)
        FileHandle.standardOutput.write(Data(rendered.output.utf8))
        FileHandle.standardError.write(Data((rendered.summary + "\n").utf8))
        if failOnIncident, !report.incidents.isEmpty { throw ExitCode(1) }
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
