import ArgumentParser
import FluxbrainTestbed
import Foundation

/// `fluxbrain-testbed fake-cluster`: serve a snapshot's Flux objects over a plain-HTTP Kubernetes API.
struct FakeClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fake-cluster",
        abstract:
            "Serve a snapshot's Flux objects over the Kubernetes API (discovery, list, watch, events), without auth.",
        discussion: """
            Point FLUXBRAIN_KUBE_API_URL (or a kubeconfig's server, for kubectl) at it. For testbeds and demos; it \
            changes nothing anywhere.
            """
    )

    @Option(name: .long, help: "A file or directory of Flux objects saved with kubectl.")
    var snapshot: String

    @Option(name: .long, help: "HOST:PORT to listen on.")
    var listen = "127.0.0.1:6443"

    func run() async throws {
        let address = try parseListen(listen)
        let logger = bootstrapTestbedLogging(label: "fluxbrain-testbed")
        try await FakeCluster.serve(snapshotPath: snapshot, host: address.host, port: address.port, logger: logger) {
            port in
            logger.notice("fake cluster listening", metadata: ["url": "http://\(address.host):\(port)"])
        }
    }
}
