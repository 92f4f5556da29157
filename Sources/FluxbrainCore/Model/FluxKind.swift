/// A Flux custom resource kind, with the API coordinates Fluxbrain reads it at.
///
/// Only the current served versions are used (see docs/flux-kinds.md); a cluster on Flux 2.7 or newer serves them.
package struct FluxKind: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    /// The five names, in one shared box: a kind is one pointer wide, so an ``ObjectReference`` (the key of every
    /// watch-cache entry, incident and assessment set) is 56 bytes instead of 128, and hashes one string, not five.
    private final class Names: Sendable {
        let name: String
        let group: String
        let version: String
        let plural: String
        let controller: String

        init(name: String, group: String, version: String, plural: String, controller: String) {
            self.name = name
            self.group = group
            self.version = version
            self.plural = plural
            self.controller = controller
        }
    }

    private let names: Names

    /// The kind name, e.g. `Kustomization`.
    package var name: String { names.name }
    /// The API group, e.g. `kustomize.toolkit.fluxcd.io`.
    package var group: String { names.group }
    /// The served version Fluxbrain asks for, e.g. `v1`.
    package var version: String { names.version }
    /// The REST plural, e.g. `kustomizations`.
    package var plural: String { names.plural }
    /// The Flux controller that reconciles this kind, e.g. `kustomize-controller`.
    package var controller: String { names.controller }

    package init(name: String, group: String, version: String, plural: String, controller: String) {
        names = Names(name: name, group: group, version: version, plural: plural, controller: controller)
    }

    package static func == (lhs: FluxKind, rhs: FluxKind) -> Bool {
        lhs.names === rhs.names
            || (lhs.name == rhs.name && lhs.group == rhs.group && lhs.version == rhs.version
                && lhs.plural == rhs.plural && lhs.controller == rhs.controller)
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(name)
    }

    package static let kustomization = FluxKind(
        name: "Kustomization",
        group: "kustomize.toolkit.fluxcd.io",
        version: "v1",
        plural: "kustomizations",
        controller: "kustomize-controller"
    )
    package static let helmRelease = FluxKind(
        name: "HelmRelease",
        group: "helm.toolkit.fluxcd.io",
        version: "v2",
        plural: "helmreleases",
        controller: "helm-controller"
    )
    package static let gitRepository = FluxKind(
        name: "GitRepository",
        group: "source.toolkit.fluxcd.io",
        version: "v1",
        plural: "gitrepositories",
        controller: "source-controller"
    )
    package static let ociRepository = FluxKind(
        name: "OCIRepository",
        group: "source.toolkit.fluxcd.io",
        version: "v1",
        plural: "ocirepositories",
        controller: "source-controller"
    )
    package static let helmRepository = FluxKind(
        name: "HelmRepository",
        group: "source.toolkit.fluxcd.io",
        version: "v1",
        plural: "helmrepositories",
        controller: "source-controller"
    )
    package static let helmChart = FluxKind(
        name: "HelmChart",
        group: "source.toolkit.fluxcd.io",
        version: "v1",
        plural: "helmcharts",
        controller: "source-controller"
    )
    package static let bucket = FluxKind(
        name: "Bucket",
        group: "source.toolkit.fluxcd.io",
        version: "v1",
        plural: "buckets",
        controller: "source-controller"
    )
    package static let imageRepository = FluxKind(
        name: "ImageRepository",
        group: "image.toolkit.fluxcd.io",
        version: "v1",
        plural: "imagerepositories",
        controller: "image-reflector-controller"
    )
    package static let imagePolicy = FluxKind(
        name: "ImagePolicy",
        group: "image.toolkit.fluxcd.io",
        version: "v1",
        plural: "imagepolicies",
        controller: "image-reflector-controller"
    )
    package static let imageUpdateAutomation = FluxKind(
        name: "ImageUpdateAutomation",
        group: "image.toolkit.fluxcd.io",
        version: "v1",
        plural: "imageupdateautomations",
        controller: "image-automation-controller"
    )

    /// Every kind Fluxbrain watches, in a stable order.
    package static let all: [FluxKind] = [
        .kustomization, .helmRelease, .gitRepository, .ociRepository, .helmRepository, .helmChart, .bucket,
        .imageRepository, .imagePolicy, .imageUpdateAutomation,
    ]

    /// The kind called `name` (case-sensitive, as Kubernetes writes it), or `nil` for a kind Fluxbrain does not know.
    package static func named(_ name: String) -> FluxKind? {
        byName[name]
    }

    private static let byName: [String: FluxKind] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    /// `group/version`, as in an object's `apiVersion`.
    package var apiVersion: String { "\(group)/\(version)" }

    /// `true` for the source kinds that produce artifacts for others.
    package var isSource: Bool { group == FluxKind.gitRepository.group }

    package var description: String { name }

    package static func < (lhs: FluxKind, rhs: FluxKind) -> Bool { lhs.name < rhs.name }

    // Encoded as the bare kind name.
    package init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let name = try container.decode(String.self)
        guard let kind = FluxKind.named(name) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "unknown Flux kind \(name)")
        }
        self = kind
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(name)
    }
}
