import ArgumentParser
import FluxbrainCoordination
import FluxbrainCore
import FluxbrainService
import Foundation
import Logging

/// `fluxbrain queue stats|dead|requeue`: inspect and recover the shared work queue in Redis.
struct QueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "Inspect and recover the shared work queue (needs FLUXBRAIN_REDIS_URL).",
        subcommands: [Stats.self, Dead.self, Requeue.self]
    )

    struct Options: ParsableArguments {
        @Flag(name: .long, help: "Print JSON instead of text.")
        var json = false
    }

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Queue depths: ready, delayed, leased, dead, pending."
        )
        @OptionGroup var options: Options

        func run() async throws {
            try await withQueue { queue in
                try print(QueueCommand.render(QueueReport(stats: try await queue.stats()), json: options.json))
            }
        }
    }

    struct Dead: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Dead-lettered items with their last error.")
        @OptionGroup var options: Options
        @Option(name: .long, help: "How many to show.")
        var limit = 100

        func run() async throws {
            try await withQueue { queue in
                let letters = try await queue.deadLetters(limit: limit)
                try print(
                    QueueCommand.render(
                        QueueReport(deadLetters: letters, includeItems: options.json),
                        json: options.json
                    )
                )
            }
        }
    }

    struct Requeue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move dead letters back to the queue with their attempts reset (all, or --key KEY)."
        )
        @OptionGroup var options: Options
        @Option(name: .long, help: "Only the dead letter with this key (<fingerprint>:<transition>).")
        var key: String?

        func run() async throws {
            try await withQueue { queue in
                let moved = try await queue.requeueDead(key: key)
                try print(QueueCommand.render(QueueReport(requeued: moved), json: options.json))
            }
        }
    }

    static func render(_ report: QueueReport, json: Bool) throws -> String {
        json ? try report.json() : report.text()
    }
}

/// Connects to the configured Redis for an operator command (through the composition root's Redis wiring); exits 2
/// without `FLUXBRAIN_REDIS_URL` or with a malformed one, 1 when the command fails.
private func withQueue(_ body: (RedisCoordination) async throws -> Void) async throws {
    let configuration = try loadConfiguration()
    let logger = bootstrapObservability(configuration)
    do {
        try await Composition.withRedisCoordination(configuration: configuration, logger: logger) { queue, _ in
            try await body(queue)
        }
    } catch let error as ConfigurationError {
        printError(error.description)
        throw usageErrorExitCode
    }
    // Any other failure is reported by the one rule (`reportFailure`), after the client is closed.
}
