import FluxbrainCore
import FluxbrainIntegrations
import Foundation
import Testing

@Suite struct ErrorbrainEventBuilderTests {
    let builder = ErrorEventBuilder(environment: .production)

    @Test func mapsTheIncidentIntoTheSchemaKeysOnly() throws {
        let incident = ErrorbrainFixtures.incident()
        let event = builder.event(for: incident)
        let json = try JSONDecoder().decode(JSONValue.self, from: StableJSON.encode(event))
        let top = try #require(json.objectValue)
        let allowed: Set = [
            "id", "timestamp", "source", "message", "stack_trace", "error_type", "severity", "metadata", "evidence",
        ]
        #expect(Set(top.keys).isSubset(of: allowed))
        #expect(
            Set(try #require(json["source"]?.objectValue).keys).isSubset(of: [
                "language", "name", "version", "environment", "hostname", "tags",
            ])
        )
        for item in try #require(json["evidence"]?.arrayValue) {
            #expect(Set(try #require(item.objectValue).keys).isSubset(of: ["type", "data", "timestamp"]))
        }
        #expect(event.id == event.id.lowercased())
        #expect(event.id.count == 36)
        #expect(event.timestamp == "2027-01-15T07:43:20Z")
        #expect(
            event.source
                == ErrorEvent.Source(
                    name: "kustomize-controller",
                    environment: .production,
                    hostname: "kustomize-controller-7c9d8f6b5-x2x9q",
                    tags: ["flux", "kustomization", "prod-eu-1"]
                )
        )
        #expect(event.errorType == "BuildFailed")
        #expect(event.severity == .error)
        let metadata = try #require(event.metadata)
        #expect(metadata["cluster"] == .string("prod-eu-1"))
        #expect(metadata["kind"] == .string("Kustomization"))
        #expect(metadata["namespace"] == .string("flux-system"))
        #expect(metadata["name"] == .string("infra"))
        #expect(metadata["revision"] == .string("main@sha1:4f6c1b2d9e0a7c3b5d8e1f2a3b4c5d6e7f8a9b0c"))
        #expect(metadata["source_ref"] == .string("GitRepository/flux-system/flux-system"))
        #expect(metadata["depends_on"] == .array([.string("Kustomization/flux-system/crds")]))
        #expect(metadata["affected"] == .array([.string("Kustomization/flux-system/apps")]))
        #expect(metadata["fingerprint"] == .string(incident.fingerprint.hex))
        #expect(metadata["component"] == .string("Kustomization/flux-system/infra"))
        #expect(event.evidence?.map(\.type) == [.custom, .event, .logLine])
        #expect(event.evidence?[2].data["level"] == .string("error"))
        #expect(event.evidence?[2].timestamp == "2027-01-15T07:58:20.250Z")
    }

    @Test(arguments: [(FailureState.stalled, ErrorEvent.Severity.error), (.retrying, .error), (.stuck, .warning)])
    func severityFollowsTheFluxState(state: FailureState, severity: ErrorEvent.Severity) {
        #expect(ErrorEventBuilder.severity(for: state) == severity)
    }

    @Test func environmentIsOmittedUnlessConfigured() throws {
        let event = ErrorEventBuilder().event(for: ErrorbrainFixtures.incident())
        #expect(event.source.environment == nil)
        #expect(!(try StableJSON.string(event)).contains("environment"))
    }

    @Test func eventIDIsAStableLowercaseUUID() {
        let incident = ErrorbrainFixtures.incident()
        let id = ErrorEventBuilder.eventID(for: incident.fingerprint)
        #expect(id == ErrorEventBuilder.eventID(for: incident.fingerprint))
        #expect(UUID(uuidString: id) != nil)
        #expect(id == id.lowercased())
        #expect(id != ErrorEventBuilder.eventID(for: ErrorbrainFixtures.incident(name: "other").fingerprint))
    }

    /// The first 128 bits of the fingerprint, version digit `8`, the variant digit's two high bits `10`: every value
    /// of the variant digit and known fingerprints give the ids Errorbrain has already seen.
    @Test(arguments: [
        (String(repeating: "0", count: 64), "00000000-0000-8000-8000-000000000000"),
        (String(repeating: "f", count: 64), "ffffffff-ffff-8fff-bfff-ffffffffffff"),
        (
            "0123456789abcdef" + "0123456789abcdef" + String(repeating: "7", count: 32),
            "01234567-89ab-8def-8123-456789abcdef"
        ),
        (
            "9364ddc2cbd48d06549c2fb92383d8a9183c46c0f32434a23339e3a966014227",
            "9364ddc2-cbd4-8d06-949c-2fb92383d8a9"
        ),
    ])
    func eventIDIsTheFingerprintsFirstHalfAsAVersion8UUID(_ hex: String, _ expected: String) throws {
        let fingerprint = try #require(Fingerprint(hex: hex))
        #expect(ErrorEventBuilder.eventID(for: fingerprint) == expected)
    }

    @Test func eventIDsVariantDigitKeepsItsLowTwoBits() throws {
        for digit in Array("0123456789abcdef") {
            let hex = String(repeating: "1", count: 16) + String(digit) + String(repeating: "1", count: 47)
            let id = ErrorEventBuilder.eventID(for: try #require(Fingerprint(hex: hex)))
            let variant = Array(id)[19]
            let expected = Array("89ab")[Int(String(digit), radix: 16)! & 3]
            #expect(variant == expected, "digit \(digit)")
        }
    }

    @Test func capsFieldsAndTotalSizeWithExplicitMarkers() throws {
        let limits = ErrorEventLimits(messageBytes: 100, fieldBytes: 50, arrayItems: 3, totalBytes: 4000)
        let long = String(repeating: "x", count: 500)
        var incident = ErrorbrainFixtures.incident(
            message: long,
            eventMessage: long,
            status: .object(["inventory": .array((0..<10).map { .string("entry-\($0)") })])
        )
        incident.events = Array(repeating: incident.events[0], count: 10)
        incident.logLines = Array(repeating: incident.logLines[0], count: 20)
        let event = ErrorEventBuilder(limits: limits).event(for: incident)
        #expect(event.message == String(repeating: "x", count: 100) + "… [truncated 400 bytes]")
        #expect(
            event.evidence?.first?.data["status"]?["inventory"]?.arrayValue?.last == .string("… [truncated 7 items]")
        )
        #expect(
            event.evidence?[1].data["message"] == .string(String(repeating: "x", count: 50) + "… [truncated 450 bytes]")
        )
        #expect(try StableJSON.encode(event).count <= 4000)
        let omitted = try #require(event.metadata?["evidence_omitted"])
        #expect(omitted != .int(0))
        #expect(event.evidence?.first?.type == .custom)
    }
}
