import AsyncHTTPClient
import FluxbrainCore
import FluxbrainIntegrations
import FluxbrainTestSupport
import FluxbrainTestbed
import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// What a Kubernetes connection keeps while it idles (docs/kubernetes.md, "Memory per cluster"): no grown receive
/// buffer, and watch loops that do not keep the stack of their deepest request.
@Suite struct KubernetesConnectionMemoryTests {
    /// The receive options of `channel`: messages per read and whether its buffers are transient.
    static func receiveOptions(_ channel: any Channel) -> EventLoopFuture<Options> {
        channel.getOption(.maxMessagesPerRead).and(channel.getOption(.recvAllocator)).map { reads, allocator in
            Options(maxMessagesPerRead: reads, transient: allocator is TransientRecvByteBufferAllocator)
        }
    }

    struct Options: Equatable, Sendable {
        var maxMessagesPerRead: UInt
        var transient: Bool
    }

    static let kept = Options(maxMessagesPerRead: 1, transient: true)

    /// Every HTTP/1 connection of the Kubernetes configuration reads one buffer per wake-up into buffers it does
    /// not keep (NIO's default grows a buffer to 64 KiB after a large reply and pools up to four per connection);
    /// a list many times 64 KiB still arrives whole.
    @Test func connectionsKeepNoReceiveBufferAndListsStillArriveWhole() async throws {
        let state = FakeKubernetesState()
        for index in 0..<300 {
            try await state.apply(json: KubeTest.object(.kustomization, name: "app-\(index)", message: "applied"))
        }
        let seen = Mutex<[Options]>([])
        var configuration = KubernetesClient.httpConfiguration
        let configured = try #require(configuration.http1_1ConnectionDebugInitializer)
        configuration.http1_1ConnectionDebugInitializer = { channel in
            configured(channel).flatMap { Self.receiveOptions(channel) }.map { options in
                seen.withLock { $0.append(options) }
            }
        }
        let http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        let objects: [FluxObject]
        do {
            objects = try await withFakeKubernetesServer(state: state) { _, url in
                let client = try KubernetesClient(
                    cluster: "test",
                    config: .url(url),
                    httpClient: http,
                    logger: KubeTest.logger
                )
                return try await client.list(.kustomization, namespace: nil, pageSize: 500).objects
            }
        } catch {
            try? await http.shutdown()
            throw error
        }
        try await http.shutdown()
        #expect(objects.count == 300)
        #expect(Set(objects.map(\.metadata.name)).count == 300)
        #expect(seen.withLock { $0 } == [Self.kept])
    }

    /// An HTTP/2 connection (an HTTPS API server offering h2) gets the same buffers: its one connection carries
    /// every watch of the cluster.
    @Test func http2ConnectionsGetTheSameReceiveBuffers() async throws {
        let initializer = try #require(KubernetesClient.httpConfiguration.http2ConnectionDebugInitializer)
        try await withFakeKubernetesServer { _, url in
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: try #require(url.port)).get()
            defer { channel.close(promise: nil) }
            #expect(try await Self.receiveOptions(channel).get() != Self.kept)
            try await initializer(channel).get()
            #expect(try await Self.receiveOptions(channel).get() == Self.kept)
        }
    }

    /// The allocator hands out NIO's adaptive sizes (growing to 64 KiB while large reads fill them, shrinking when
    /// they get small) and never lets the channel's pool reuse, and so keep, a buffer: no size hint, and every read
    /// "may grow".
    @Test func transientBuffersFollowTheReadsAndAreNeverReused() {
        var recv = TransientRecvByteBufferAllocator()
        let allocator = ByteBufferAllocator()
        var sizes: [Int] = []
        for _ in 0..<8 {
            let size = recv.buffer(allocator: allocator).capacity
            sizes.append(size)
            let mayGrow = recv.record(actualReadBytes: size)
            #expect(mayGrow)
            #expect(recv.nextBufferSize() == nil)
        }
        #expect(sizes.first == 2048 && sizes.last == 65536)
        for _ in 0..<16 {
            let mayGrow = recv.record(actualReadBytes: 100)
            #expect(mayGrow)
        }
        #expect(recv.buffer(allocator: allocator).capacity < 2048)
    }

    struct Failure: Error, Equatable {}

    /// A watch loop runs its requests in a child task: the value and the error come back as they are.
    @Test func aChildTaskReturnsWhatItsOperationReturnsOrThrows() async throws {
        #expect(try await inChildTask { 42 } == 42)
        await #expect(throws: Failure.self) { try await inChildTask { () async throws -> Int in throw Failure() } }
    }

    /// Cancelling the watch loop cancels the request running in its child task.
    @Test func cancellingTheCallerCancelsTheChildTask() async throws {
        let started = AsyncStream<Void>.makeStream()
        let outcome = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                do {
                    try await inChildTask {
                        started.continuation.yield()
                        try await Task.sleep(for: .seconds(3600))
                    }
                    return false
                } catch {
                    return error is CancellationError
                }
            }
            var iterator = started.stream.makeAsyncIterator()
            await iterator.next()
            group.cancelAll()
            return await group.next() ?? false
        }
        #expect(outcome)
    }
}
