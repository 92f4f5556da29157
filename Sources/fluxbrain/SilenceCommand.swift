import ArgumentParser
import FluxbrainCore
import FluxbrainService
import Foundation
import Logging

/// `fluxbrain silence add|list|expire`: quiet incidents for a while, in the silences every replica reads from Redis.
struct SilenceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "silence",
        abstract: "Silence incidents for a while: tracked, not notified (needs FLUXBRAIN_REDIS_URL).",
        discussion: """
            Silences are shared state: the running replicas read them from the Redis at FLUXBRAIN_REDIS_URL \
            (under FLUXBRAIN_REDIS_PREFIX), so this command needs the same settings.
            """,
        subcommands: [Add.self, List.self, Expire.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a silence and print its id.",
            discussion: """
                --match takes key=value pairs separated by commas, all of which must match: cluster, kind, \
                namespace, name, state (retrying, stalled, stuck) and label.KEY (a label of the Flux object). \
                Values are globs (* and ?); a|b matches either. Example: \
                --match 'kind=HelmRelease,namespace=apps,name=podinfo*' --for 2h --comment 'upgrading podinfo'
                """
        )

        @Option(name: .long, help: "What to silence: key=value[,key=value…] (repeatable; all must match).")
        var match: [String] = []

        @Option(name: .customLong("for"), help: "How long, e.g. 30m, 2h, 1h30m.")
        var duration: String

        @Option(name: .long, help: "Why (shown by 'silence list').")
        var comment: String

        @Option(name: .long, help: "Who (default: $USER, else the login name).")
        var author: String?

        func run() async throws {
            let configuration = try loadConfiguration()
            let logger = bootstrapObservability(configuration)
            let now = Date()
            let silence = try usage {
                try Self.makeSilence(
                    match: match,
                    duration: duration,
                    comment: comment,
                    author: author ?? currentUser(),
                    now: now
                )
            }
            try await withSilences(configuration: configuration, logger: logger) { store in
                try await store.add(silence)
                print(silence.id)
            }
        }

        /// The silence the arguments describe, starting `now`; throws `CoreError(.invalidInput)` naming the bad
        /// argument.
        static func makeSilence(
            match: [String],
            duration text: String,
            comment: String,
            author: String,
            now: Date
        ) throws -> Silence {
            let matchers = try IncidentSelector(matching: match)
            guard let duration = DurationParser.parse(text), duration > .zero else {
                throw CoreError(
                    .invalidInput,
                    "invalid --for '\(text)': expected a positive duration such as 30m, 2h or 1h30m"
                )
            }
            guard !comment.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw CoreError(.invalidInput, "--comment is empty: say why, for whoever finds the silence")
            }
            return Silence(
                id: UUID().uuidString.lowercased(),
                matchers: matchers,
                startsAt: now,
                endsAt: now.addingTimeInterval(duration.timeInterval),
                createdBy: author,
                comment: comment
            )
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the active silences, the soonest to end first."
        )

        enum Output: String, ExpressibleByArgument, CaseIterable {
            case table
            case json
        }

        @Option(name: .long, help: "table (default) or json.")
        var output: Output = .table

        func run() async throws {
            let configuration = try loadConfiguration()
            let logger = bootstrapObservability(configuration)
            try await withSilences(configuration: configuration, logger: logger) { store in
                let silences = try await store.active(at: Date())
                print(output == .json ? try Silence.json(silences) : Silence.table(silences))
            }
        }
    }

    struct Expire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "End a silence now (exit 1 if there is no such active silence)."
        )

        @Argument(help: "The silence id, as 'silence add' printed it.")
        var id: String

        func run() async throws {
            let configuration = try loadConfiguration()
            let logger = bootstrapObservability(configuration)
            try await withSilences(configuration: configuration, logger: logger) { store in
                guard try await store.expire(id: id, at: Date()) else {
                    printError("no active silence \(id); see 'fluxbrain silence list'")
                    throw ExitCode.failure
                }
                print("expired \(id)")
            }
        }
    }
}

/// Runs `body`; a `CoreError` it throws (bad input) is printed and exits with code 2.
private func usage<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch {
        printError(String(describing: error))
        throw usageErrorExitCode
    }
}

/// The user running the command: `$USER`, else the login name, else the name of the real user id.
private func currentUser() -> String {
    if let user = ProcessInfo.processInfo.environment["USER"], !user.isEmpty { return user }
    if let login = getlogin() { return String(cString: login) }
    if let entry = getpwuid(getuid()), let name = entry.pointee.pw_name { return String(cString: name) }
    return "unknown"
}

/// Connects to the shared silence store (through the composition root's Redis wiring); exits 2 without
/// `FLUXBRAIN_REDIS_URL` or with a malformed one, 1 when the command fails.
private func withSilences(
    configuration: FluxbrainConfiguration,
    logger: Logger,
    _ body: (any SilenceStore) async throws -> Void
) async throws {
    do {
        try await Composition.withSilenceStore(configuration: configuration, logger: logger, body)
    } catch let error as ConfigurationError {
        printError(error.description)
        throw usageErrorExitCode
    }
}
