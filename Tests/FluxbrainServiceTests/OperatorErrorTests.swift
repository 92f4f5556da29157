import FluxbrainCore
import FluxbrainTestSupport
import FluxbrainTestbed
import Foundation
import Testing

/// Errors at the command line follow one rule: `fluxbrain: ` and one line saying what failed, why and which setting
/// to look at; the whole chain with throw sites only with `FLUXBRAIN_LOG_LEVEL=debug`. These pin the line for each
/// dependency an operator gets wrong.
@Suite struct OperatorErrorTests {
    /// The last line of standard error (log lines, if any, come before it).
    static func lastLine(_ text: String) -> String {
        text.split(separator: "\n").last.map(String.init) ?? ""
    }

    static let quiet = ["FLUXBRAIN_LOG_LEVEL": "error"]

    @Test func redisRefused() async throws {
        let result = try await FluxbrainProcess.run(
            ["queue", "stats"],
            environment: Self.quiet.merging(["FLUXBRAIN_REDIS_URL": "redis://127.0.0.1:1"]) { $1 }
        )
        #expect(result.status == 1)
        #expect(
            Self.lastLine(result.stderr)
                == "fluxbrain: cannot reach Redis at 127.0.0.1:1 (connection refused); check FLUXBRAIN_REDIS_URL"
        )
    }

    @Test func redisRefusedWithTheWholeChainAtDebugLevel() async throws {
        let result = try await FluxbrainProcess.run(
            ["queue", "stats"],
            environment: ["FLUXBRAIN_LOG_LEVEL": "debug", "FLUXBRAIN_REDIS_URL": "redis://127.0.0.1:1"]
        )
        #expect(result.status == 1)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        let index = try #require(lines.firstIndex { $0.hasPrefix("fluxbrain: cannot reach Redis at 127.0.0.1:1") })
        let chain = try #require(lines.dropFirst(index + 1).first)
        #expect(chain.hasPrefix("  "))
        #expect(chain.contains("RedisError(code: connectionRefused"))
        #expect(chain.contains("FluxbrainRedis/RedisLoopConnection.swift:"))
    }

    @Test func redisAuthenticationFailed() async throws {
        try await RedisServerProcess.with(.init(password: "right-one")) { server in
            let result = try await FluxbrainProcess.run(
                ["queue", "stats"],
                environment: Self.quiet.merging(["FLUXBRAIN_REDIS_URL": "redis://:wrong-one@127.0.0.1:\(server.port)"])
                { $1 }
            )
            #expect(result.status == 1)
            #expect(
                Self.lastLine(result.stderr)
                    == "fluxbrain: Redis at 127.0.0.1:\(server.port) refused the credentials (AUTH: WRONGPASS invalid "
                    + "username-password pair or user is disabled.); check FLUXBRAIN_REDIS_URL"
            )
            #expect(!result.stderr.contains("wrong-one"))
        }
    }

    @Test func redisTimeoutOnASocketThatNeverAnswers() async throws {
        let listener = try SilentListener()
        defer { listener.close() }
        let result = try await FluxbrainProcess.run(
            ["queue", "stats"],
            environment: Self.quiet.merging([
                "FLUXBRAIN_REDIS_URL": "redis://127.0.0.1:\(listener.port)", "FLUXBRAIN_REDIS_TIMEOUT": "300ms",
            ]) { $1 }
        )
        #expect(result.status == 1)
        #expect(
            Self.lastLine(result.stderr)
                == "fluxbrain: Redis at 127.0.0.1:\(listener.port) did not answer within 0.3 seconds (the command may "
                + "still have been applied) (during CLIENT SETNAME after connecting); check FLUXBRAIN_REDIS_URL and "
                + "FLUXBRAIN_REDIS_TIMEOUT"
        )
    }

    @Test func kubernetesUnreachable() async throws {
        let result = try await FluxbrainProcess.run(
            ["once"],
            environment: Self.quiet.merging([
                "FLUXBRAIN_KUBE_API_URL": "http://127.0.0.1:1", "FLUXBRAIN_CLUSTER": "prod",
            ]) { $1 }
        )
        #expect(result.status == 1)
        #expect(
            result.stderr.contains(
                "cluster prod: cannot reach http://127.0.0.1:1 (list kustomizations.kustomize.toolkit.fluxcd.io at the "
                    + "cluster scope) (connection refused); check FLUXBRAIN_KUBE_API_URL"
            ),
            "\(result.stderr)"
        )
    }

    @Test func kubernetesUnauthorizedAndForbidden() async throws {
        let state = FakeKubernetesState()
        await state.requireToken("t0ken")
        try await withFakeKubernetesServer(state: state) { _, url in
            let result = try await FluxbrainProcess.run(
                ["once"],
                environment: Self.quiet.merging([
                    "FLUXBRAIN_KUBE_API_URL": url.absoluteString, "FLUXBRAIN_CLUSTER": "prod",
                ]) { $1 }
            )
            #expect(result.status == 1)
            #expect(
                result.stderr.contains(
                    "cluster prod: unauthorized: the API server refused the credentials (Unauthorized) while trying to "
                        + "list kustomizations.kustomize.toolkit.fluxcd.io at the cluster scope; check the token, client "
                        + "certificate or exec plugin of this context (HTTP 401)"
                ),
                "\(result.stderr)"
            )
        }
        let forbidding = FakeKubernetesState()
        await forbidding.setForbidden(.kustomization)
        try await withFakeKubernetesServer(state: forbidding) { _, url in
            let result = try await FluxbrainProcess.run(
                ["once"],
                environment: Self.quiet.merging([
                    "FLUXBRAIN_KUBE_API_URL": url.absoluteString, "FLUXBRAIN_CLUSTER": "prod",
                ]) { $1 }
            )
            #expect(result.status == 1)
            #expect(
                result.stderr.contains(
                    "cluster prod: forbidden: User \"system:serviceaccount:flux-system:fluxbrain\" cannot list "
                        + "kustomizations.kustomize.toolkit.fluxcd.io at the cluster scope — grant the ClusterRole "
                        + "\"list\" on \"kustomizations\" in API group \"kustomize.toolkit.fluxcd.io\" (HTTP 403)"
                ),
                "\(result.stderr)"
            )
        }
    }

    @Test func slackRefusingItsWebhook() async throws {
        try await FakeSlack.withRunning { fake, url in
            fake.enqueue(.error(status: 403, code: "invalid_token"))
            let result = try await FluxbrainProcess.run(
                ["notify-test"],
                environment: Self.quiet.merging(["FLUXBRAIN_SLACK_WEBHOOK": url.absoluteString]) { $1 }
            )
            #expect(result.status == 1)
            #expect(
                result.stdout.contains(
                    "slack    FAILED HTTP 403  Slack refused the message: invalid_token (HTTP 403); check FLUXBRAIN_SLACK_WEBHOOK"
                ),
                "\(result.stdout)"
            )
            #expect(!(result.stdout + result.stderr).contains("XXXXSECRET"))
        }
    }

    @Test func gitHubRefusingItsToken() async throws {
        try await FakeGitHub.withRunning { _, url in
            let result = try await FluxbrainProcess.run(
                ["notify-test"],
                environment: Self.quiet.merging([
                    "FLUXBRAIN_GITHUB_API_URL": url.absoluteString, "FLUXBRAIN_GITHUB_OWNER": "acme",
                    "FLUXBRAIN_GITHUB_REPO": "platform", "FLUXBRAIN_GITHUB_TOKEN": "ghp_wrong",
                ]) { $1 }
            )
            #expect(result.status == 1)
            #expect(
                result.stdout.contains("Bad credentials (HTTP 401); check FLUXBRAIN_GITHUB_TOKEN"),
                "\(result.stdout)"
            )
            #expect(!(result.stdout + result.stderr).contains("ghp_wrong"))
        }
    }
}

/// A TCP socket on loopback that accepts connections (the kernel completes the handshake) and never answers.
struct SilentListener {
    let descriptor: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0, listen(fd, 16) == 0 else { throw CoreError(.unavailable, "cannot listen on loopback") }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        descriptor = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { _ = Glibc.close(descriptor) }
}
