import ArgumentParser
import FluxbrainCore
import FluxbrainService
import Foundation

/// `fluxbrain routes`: look at the routing of the routes file (or of the `FLUXBRAIN_*` channel variables).
struct RoutesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "routes",
        abstract: "Inspect the notification routes.",
        subcommands: [Test.self]
    )

    /// `fluxbrain routes test`: the routing decision for a made-up incident (like `amtool config routes test`).
    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "test",
            abstract: "Print where a made-up incident would be notified, and why not elsewhere.",
            discussion: """
                Example: fluxbrain routes test --kind HelmRelease --namespace apps --name podinfo --state stalled \\
                --labels team=platform. Silences are not consulted (the incident is made up).
                """
        )

        @Option(help: "The Flux kind, e.g. HelmRelease.") var kind: String
        @Option(help: "The object's namespace.") var namespace: String
        @Option(help: "The object's name.") var name: String
        @Option(help: "retrying, stalled or stuck.") var state: String
        @Option(help: "The cluster (default FLUXBRAIN_CLUSTER, else 'default').") var cluster: String?
        @Option(help: "The object's labels: k=v,k=v.") var labels: String?
        @Option(help: "The object's annotations: k=v,k=v (e.g. fluxbrain.io/notify=false).") var annotations: String?
        @Option(help: "The condition message.") var message: String = ""

        func run() async throws {
            let configuration = try loadConfiguration()
            guard let failureState = FailureState(rawValue: state) else {
                printError("--state: '\(state)' is not one of retrying, stalled, stuck")
                throw usageErrorExitCode
            }
            let subject = RoutingSubject(
                cluster: cluster ?? configuration.cluster ?? "default",
                kind: kind,
                namespace: namespace,
                name: name,
                labels: try Self.pairs(labels, option: "--labels"),
                state: failureState,
                message: message
            )
            let router = configuration.routing.router
            let decision = router.decide(
                subject,
                annotations: try Self.pairs(annotations, option: "--annotations"),
                silences: [],
                now: Date()
            )
            let title = "\(kind)/\(namespace)/\(name) (cluster \(subject.cluster), \(state))"
            FileHandle.standardOutput.write(Data((decision.explained(title: title, router: router) + "\n").utf8))
        }

        static func pairs(_ text: String?, option: String) throws -> [String: String] {
            guard let text, !text.isEmpty else { return [:] }
            var result: [String: String] = [:]
            for entry in text.split(separator: ",") {
                guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex else {
                    printError("\(option): '\(entry)' is not key=value")
                    throw usageErrorExitCode
                }
                result[String(entry[..<equals])] = String(entry[entry.index(after: equals)...])
            }
            return result
        }
    }
}
