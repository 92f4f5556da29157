/// What this binary is: the release version and the git revision it was built from.
///
/// The revision is written at build time by `BuildRevisionPlugin` (`FLUXBRAIN_REVISION`, else the package's
/// `git rev-parse --short=12 HEAD`, else `unknown`). It shows in `fluxbrain --version`, the `User-Agent` of every
/// request and the `fluxbrain_build_info` metric.
package enum BuildInfo {
    /// The release version.
    package static let version = "0.1.0"

    /// The git revision (12 hex digits), or `unknown` when built outside a git checkout without `FLUXBRAIN_REVISION`.
    package static let revision = buildRevision

    /// `fluxbrain 0.1.0 (revision 3fb2533a1b2c)`: what `--version` prints.
    package static var description: String { "fluxbrain \(version) (revision \(revision))" }

    /// `fluxbrain/0.1.0 (3fb2533a1b2c)`: the `User-Agent` of every HTTP request Fluxbrain makes.
    package static var userAgent: String { "fluxbrain/\(version) (\(revision))" }
}
