import FluxbrainCore
import Testing

@Suite struct FingerprintTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        var fields: [String]
        var revision: String?
        var hex: String
        var testDescription: String { fields.joined(separator: "/") }
    }

    // Computed independently (Python hashlib over the netstring encoding in docs/fingerprint.md). Fixed forever:
    // changing them changes every stored incident identity.
    static let vectors: [Vector] = [
        Vector(
            fields: ["prod-eu", "Kustomization", "flux-system", "apps", "BuildFailed"],
            revision: "main@sha1:4f6c1b2d9e0a7c3b5d8e1f2a3b4c5d6e7f8a9b0c",
            hex: "2ce31323011d46fd86cc31de3cc7a35018d4049b6d6ebf14f61b3c7e920f40ea"
        ),
        Vector(
            fields: ["snapshot", "HelmRelease", "podinfo", "podinfo", "UpgradeFailed"],
            revision: "6.9.3",
            hex: "09503b8fb9b0969e01310605fbe3dc715e6cd4233016779cf5f299ece7e89845"
        ),
        Vector(
            fields: ["", "", "", "", ""],
            revision: nil,
            hex: "14a33971542e4d03c7702984d64260ed350c228c78f782e7f82e128360d74c95"
        ),
        Vector(
            fields: ["prod", "GitRepository", "flux-system", "flux-system", "GitOperationFailed"],
            revision: nil,
            hex: "abb8766ea3621abac4250b299048ce906b36f764e2ca69085f4c9def219e2da4"
        ),
        Vector(
            fields: ["集群", "Kustomization", "ns", "name", "BuildFailed"],
            revision: "main@sha1:0",
            hex: "ca9ee6c22f3955494050387c3c1e9ddcf738fcf5228428e9d44d906409e2b4ff"
        ),
    ]

    @Test(arguments: vectors)
    func matchesFixedVector(_ vector: Vector) {
        let fingerprint = Fingerprint(
            cluster: vector.fields[0],
            kind: vector.fields[1],
            namespace: vector.fields[2],
            name: vector.fields[3],
            reason: vector.fields[4],
            revision: vector.revision
        )
        #expect(fingerprint.hex == vector.hex)
    }

    @Test func fieldBoundariesCannotCollide() {
        // "a,b"+"c" and "a"+"b,c" concatenate to the same text; netstrings keep them apart.
        let first = Fingerprint(cluster: "a,b", kind: "c", namespace: "", name: "", reason: "", revision: nil)
        let second = Fingerprint(cluster: "a", kind: "b,c", namespace: "", name: "", reason: "", revision: nil)
        #expect(first.hex == "7c8c1786a67a8a378b826d4bc67c95ed5f911a9db4af9c1a87d801dd947735a8")
        #expect(second.hex == "f680229341a1c95127814add90456f1e299d8d81a6c24b312b2e828fcd7caa08")
    }

    @Test func newRevisionIsNewIncident() {
        let old = Fingerprint(
            cluster: "c",
            kind: "Kustomization",
            namespace: "n",
            name: "x",
            reason: "BuildFailed",
            revision: "main@sha1:aaa"
        )
        let new = Fingerprint(
            cluster: "c",
            kind: "Kustomization",
            namespace: "n",
            name: "x",
            reason: "BuildFailed",
            revision: "main@sha1:bbb"
        )
        #expect(old != new)
    }

    @Test func parsesOnlyLowercaseHex() {
        #expect(Fingerprint(hex: String(repeating: "a", count: 64)) != nil)
        #expect(Fingerprint(hex: String(repeating: "A", count: 64)) == nil)
        #expect(Fingerprint(hex: String(repeating: "a", count: 63)) == nil)
        #expect(Fingerprint(hex: String(repeating: "g", count: 64)) == nil)
    }
}
