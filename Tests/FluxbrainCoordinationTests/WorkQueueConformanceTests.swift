import FluxbrainCoordination
import FluxbrainTestSupport
import Testing

/// The shared behaviour of the coordination ports, run against both implementations.
@Suite struct WorkQueueConformanceTests {
    @Test(arguments: WorkQueueConformance.cases)
    func inMemory(_ check: WorkQueueConformance.Case) async throws {
        try await check.run(on: .inMemory())
    }

    @Test(arguments: WorkQueueConformance.cases)
    func redis(_ check: WorkQueueConformance.Case) async throws {
        try await check.run(on: .redis())
    }
}
