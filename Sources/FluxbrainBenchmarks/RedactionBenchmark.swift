import FluxbrainCore
import FluxbrainTestSupport
import Foundation

/// `fluxbrain-bench redaction [--messages N] [--rounds N]`
///
/// Throughput of `Redactor` (byte-level pre-scan, patterns only where a trigger is found) against `LegacyRedactor`
/// (every pattern over every string, the implementation before issue 13) in the same run, over N generated Flux-like
/// messages (`FluxMessageGenerator`, seeded) without secrets, N with one secret each, and N/4 object statuses as
/// JSON values. Each figure is the best of `--rounds` passes (default 5) in MB/s of UTF-8 input; the last column is
/// new ÷ old. Both implementations are checked to give the same output first.
enum RedactionBenchmark {
    static let usage = "redaction [--messages N] [--rounds N]: MB/s of the Redactor vs the regex-only one, same run"

    static func run(_ arguments: [String]) async throws {
        var messages = 2_000
        var rounds = 5
        var index = 0
        while index < arguments.count {
            let value = index + 1 < arguments.count ? arguments[index + 1] : ""
            switch arguments[index] {
            case "--messages": messages = Int(value) ?? messages
            case "--rounds": rounds = Int(value) ?? rounds
            default: throw DetectionBenchmark.BenchmarkError("unknown option \(arguments[index])")
            }
            index += 2
        }
        var generator = FluxMessageGenerator(seed: 13)
        let plain = (0..<messages).map { _ in generator.message(secret: false) }
        let secret = (0..<messages).map { _ in generator.message(secret: true) }
        let statuses = (0..<max(1, messages / 4)).map { _ in generator.status() }
        let redactor = Redactor()
        let legacy = LegacyRedactor()
        for text in plain + secret where redactor.redact(text) != legacy.redact(text) {
            throw DetectionBenchmark.BenchmarkError("the implementations differ on: \(text)")
        }
        for status in statuses where redactor.redact(status) != legacy.redact(status) {
            throw DetectionBenchmark.BenchmarkError("the implementations differ on a status")
        }

        print("input: \(messages) messages without secrets, \(messages) with one, \(statuses.count) statuses")
        print("corpus                      MB      new MB/s   old MB/s   new/old")
        let corpora: [(String, Int, (Redactor) -> Int, (LegacyRedactor) -> Int)] = [
            (
                "messages without secrets", plain.reduce(0) { $0 + $1.utf8.count },
                { r in plain.reduce(0) { $0 &+ r.redact($1).utf8.count } },
                { r in plain.reduce(0) { $0 &+ r.redact($1).utf8.count } }
            ),
            (
                "messages with a secret", secret.reduce(0) { $0 + $1.utf8.count },
                { r in secret.reduce(0) { $0 &+ r.redact($1).utf8.count } },
                { r in secret.reduce(0) { $0 &+ r.redact($1).utf8.count } }
            ),
            (
                "statuses (JSON values)", statuses.reduce(0) { $0 + ((try? StableJSON.encode($1).count) ?? 0) },
                { r in statuses.reduce(0) { $0 &+ (r.redact($1).objectValue?.count ?? 0) } },
                { r in statuses.reduce(0) { $0 &+ (r.redact($1).objectValue?.count ?? 0) } }
            ),
        ]
        for (name, bytes, new, old) in corpora {
            let newSeconds = best(of: rounds) { new(redactor) }
            let oldSeconds = best(of: max(1, rounds / 2)) { old(legacy) }
            let megabytes = Double(bytes) / 1_000_000
            print(
                name.padding(toLength: 26, withPad: " ", startingAt: 0)
                    + String(
                        format: " %6.2f %10.1f %10.2f %9.1f×",
                        megabytes,
                        megabytes / newSeconds,
                        megabytes / oldSeconds,
                        oldSeconds / newSeconds
                    )
            )
        }
    }

    /// The fastest of `rounds` runs of `body`, in seconds.
    private static func best(of rounds: Int, _ body: () -> Int) -> Double {
        var fastest = Double.infinity
        var sink = 0
        for _ in 0..<rounds {
            let start = ContinuousClock.now
            sink &+= body()
            let elapsed = ContinuousClock.now - start
            fastest = min(fastest, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
        if sink == 42 { print("") }  // keeps the work from being optimised away
        return fastest
    }
}
