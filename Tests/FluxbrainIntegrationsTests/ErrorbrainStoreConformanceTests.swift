import FluxbrainCore
import FluxbrainTestSupport
import Testing

@Suite struct ErrorbrainStoreConformanceTests {
    @Test func inMemoryStorePassesTheConformanceSuiteOnAManualClock() async throws {
        try await AnalysisStoreConformance.run(InMemoryAnalysisStore(clock: ManualClock().wall))
    }

    @Test func inMemoryStorePassesTheConformanceSuiteOnTheSystemClock() async throws {
        try await AnalysisStoreConformance.run(InMemoryAnalysisStore())
    }
}
