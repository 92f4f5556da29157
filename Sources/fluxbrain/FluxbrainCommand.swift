import ArgumentParser

@main
struct FluxbrainCommand: AsyncParsableCommand {
    mutating func run() async throws {}
}
