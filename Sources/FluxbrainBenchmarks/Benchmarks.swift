import Foundation

/// `fluxbrain-bench <name> [options]`: runs one named benchmark, or `all` of them in name order.
///
/// To add a benchmark, write `enum MyBenchmark { static func run(_ arguments: [String]) async throws }` in its own
/// file and register it in ``benchmarks``. Each benchmark parses its own options and prints its own table.
@main
enum Benchmarks {
    /// A benchmark entry point; receives the arguments after its name.
    typealias Benchmark = @Sendable ([String]) async throws -> Void

    /// The registry: name → entry point and a one-line usage.
    static let benchmarks: [String: (usage: String, run: Benchmark)] = [
        "redis": (RedisBenchmark.usage, RedisBenchmark.run),
        "detection": (DetectionBenchmark.usage, { try await DetectionBenchmark.run($0) }),
        "redaction": (RedactionBenchmark.usage, RedactionBenchmark.run),
        "pipeline": (PipelineBenchmark.usage, PipelineBenchmark.run),
        "central": (CentralBenchmark.usage, CentralBenchmark.run),
        "latency": (LatencyBenchmark.usage, LatencyBenchmark.run),
    ]

    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        guard let name = arguments.first, !["-h", "--help", "help"].contains(name) else {
            printUsage()
            exit(arguments.isEmpty ? 2 : 0)
        }
        let rest = Array(arguments.dropFirst())
        let selected: [(String, Benchmark)]
        if name == "all" {
            selected = benchmarks.keys.sorted().map { ($0, benchmarks[$0]!.run) }
        } else if let benchmark = benchmarks[name] {
            selected = [(name, benchmark.run)]
        } else {
            FileHandle.standardError.write(Data("unknown benchmark '\(name)'\n".utf8))
            printUsage()
            exit(2)
        }
        for (name, run) in selected {
            print("== \(name) ==")
            do {
                try await run(rest)
            } catch {
                FileHandle.standardError.write(Data("benchmark \(name) failed: \(error)\n".utf8))
                exit(1)
            }
        }
    }

    static func printUsage() {
        print("usage: fluxbrain-bench <benchmark> [options] | all [options]")
        for name in benchmarks.keys.sorted() {
            print("  \(name): \(benchmarks[name]!.usage)")
        }
    }
}
