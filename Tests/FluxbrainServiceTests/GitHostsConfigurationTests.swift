import FluxbrainCore
import FluxbrainService
import Testing

@Suite struct GitHostsConfigurationTests {
    @Test func selfHostedGitHostsAreAddedToTheBuiltInOnes() throws {
        let configuration = try FluxbrainConfiguration(
            environment: EnvironmentReader(["FLUXBRAIN_GIT_HOSTS": "git.acme.corp=gitlab, code.acme.corp=forgejo"])
        )
        #expect(configuration.gitHosts.kind(of: "git.acme.corp") == .gitlab)
        #expect(configuration.gitHosts.kind(of: "code.acme.corp") == .gitea)
        #expect(configuration.gitHosts.kind(of: "github.com") == .github)
        let described = configuration.describe().first { $0.0 == "FLUXBRAIN_GIT_HOSTS" }?.1
        #expect(described == "code.acme.corp=gitea,git.acme.corp=gitlab")
        let defaults = try FluxbrainConfiguration(environment: EnvironmentReader([:]))
        #expect(defaults.gitHosts == .builtIn)
    }

    @Test(arguments: ["git.acme.corp", "git.acme.corp=svn", "https://git.acme.corp=gitlab", "=gitlab"])
    func aBadHostListNamesTheVariable(value: String) {
        let error = #expect(throws: ConfigurationError.self) {
            try FluxbrainConfiguration(environment: EnvironmentReader(["FLUXBRAIN_GIT_HOSTS": value]))
        }
        #expect(error?.variable == "FLUXBRAIN_GIT_HOSTS")
        #expect(error?.description.hasPrefix("FLUXBRAIN_GIT_HOSTS") == true)
    }
}
