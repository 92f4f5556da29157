import Testing

@testable import FluxbrainRedis

@Suite struct RedisConfigurationTests {
    struct ValidCase: Sendable, CustomTestStringConvertible {
        var url: String
        var host: String
        var port: Int
        var username: String?
        var password: String?
        var database: Int
        var redacted: String
        var testDescription: String { url.replacingOccurrences(of: "p%40w", with: "…") }
    }

    static let validCases: [ValidCase] = [
        ValidCase(
            url: "redis://h:1/2",
            host: "h",
            port: 1,
            username: nil,
            password: nil,
            database: 2,
            redacted: "redis://h:1/2"
        ),
        ValidCase(
            url: "redis://:pw@h",
            host: "h",
            port: 6379,
            username: nil,
            password: "pw",
            database: 0,
            redacted: "redis://:***@h:6379/0"
        ),
        ValidCase(
            url: "redis://user:p%40w@h:1/0",
            host: "h",
            port: 1,
            username: "user",
            password: "p@w",
            database: 0,
            redacted: "redis://user:***@h:1/0"
        ),
        ValidCase(
            url: "REDIS://127.0.0.1:6390/",
            host: "127.0.0.1",
            port: 6390,
            username: nil,
            password: nil,
            database: 0,
            redacted: "redis://127.0.0.1:6390/0"
        ),
        ValidCase(
            url: "redis://:a@b:c@h:7/15",
            host: "h",
            port: 7,
            username: nil,
            password: "a@b:c",
            database: 15,
            redacted: "redis://:***@h:7/15"
        ),
        ValidCase(
            url: "redis://[::1]:6380/1",
            host: "::1",
            port: 6380,
            username: nil,
            password: nil,
            database: 1,
            redacted: "redis://[::1]:6380/1"
        ),
    ]

    @Test(arguments: validCases)
    func parsesValidURLs(_ testCase: ValidCase) throws {
        let configuration = try RedisConfiguration(url: testCase.url)
        #expect(configuration.host == testCase.host)
        #expect(configuration.port == testCase.port)
        #expect(configuration.username == testCase.username)
        #expect(configuration.password == testCase.password)
        #expect(configuration.database == testCase.database)
        #expect(configuration.redactedURL == testCase.redacted)
        if let password = testCase.password {
            #expect(!configuration.redactedURL.contains(password))
            #expect(!configuration.description.contains(password))
            #expect(!String(reflecting: configuration).contains(password))
            var dumped = ""
            dump(configuration, to: &dumped)
            #expect(!dumped.contains(password))
        }
    }

    struct InvalidCase: Sendable, CustomTestStringConvertible {
        var url: String
        var code: RedisError.Code
        /// A fragment the message must contain (it must name what is wrong).
        var mentions: String
        var testDescription: String { url }
    }

    static let invalidCases: [InvalidCase] = [
        InvalidCase(url: "rediss://:secretpw@h:6380/0", code: .unsupportedScheme, mentions: "TLS"),
        InvalidCase(url: "http://h:6379", code: .unsupportedScheme, mentions: "'http://'"),
        InvalidCase(url: "h:6379", code: .invalidURL, mentions: "missing scheme"),
        InvalidCase(url: "redis://h:abc/0", code: .invalidURL, mentions: "port 'abc'"),
        InvalidCase(url: "redis://h:70000", code: .invalidURL, mentions: "port '70000'"),
        InvalidCase(url: "redis://h:0", code: .invalidURL, mentions: "port '0'"),
        InvalidCase(url: "redis://h:1/x", code: .invalidURL, mentions: "database 'x'"),
        InvalidCase(url: "redis://h:1/-1", code: .invalidURL, mentions: "database '-1'"),
        InvalidCase(url: "redis://:secretpw@:1", code: .invalidURL, mentions: "missing host"),
        InvalidCase(url: "redis://secretpw@h", code: .invalidURL, mentions: "no ':'"),
        InvalidCase(url: "redis://:secret%zzpw@h", code: .invalidURL, mentions: "invalid percent escape"),
        InvalidCase(url: "redis://h?db=1", code: .invalidURL, mentions: "query"),
    ]

    @Test(arguments: invalidCases)
    func rejectsInvalidURLsNamingTheProblem(_ testCase: InvalidCase) {
        #expect {
            _ = try RedisConfiguration(url: testCase.url)
        } throws: { error in
            guard let error = error as? RedisError else { return false }
            return error.code == testCase.code && error.message.contains(testCase.mentions)
                && !error.description.contains("secret")
        }
    }

    @Test func rejectsOutOfRangeSettings() {
        #expect(throws: RedisError.self) { try RedisConfiguration(host: "h", poolSize: 0) }
        #expect(throws: RedisError.self) { try RedisConfiguration(host: "h", commandTimeout: .zero) }
        #expect(throws: RedisError.self) { try RedisConfiguration(host: "h", username: "u") }
    }

    @Test func errorDescriptionIsOneReadableLineAndDebugDescriptionPrintsEverything() {
        struct Cause: Error {}
        let error = RedisError(.timeout, "it took too long", underlying: Cause())
        #expect(
            error.description == "it took too long (Cause()); check FLUXBRAIN_REDIS_URL and FLUXBRAIN_REDIS_TIMEOUT"
        )
        #expect(error.debugDescription.hasPrefix("RedisError(code: timeout, message: \"it took too long\""))
        #expect(error.debugDescription.contains("Cause()"))
        #expect(error.debugDescription.contains("RedisConfigurationTests.swift:"))
        #expect(RedisError.Code.allCases.count == 14)
    }

    @Test func commandKeepsBinaryArgumentsAndFormatsNumbers() {
        let command = RedisCommand("set", "k", [0x61, 0x00, 0x62] as [UInt8], 42, 1.5, Double.infinity)
        #expect(command.name == "SET")
        #expect(
            command.arguments == [
                Array("set".utf8), Array("k".utf8), [0x61, 0, 0x62], Array("42".utf8),
                Array("1.5".utf8), Array("+inf".utf8),
            ]
        )
        #expect(command.nameEquals("SET"))
        #expect(!command.nameEquals("GET"))
        #expect(!command.description.contains("k"))
    }

    @Test(arguments: [
        (Duration.seconds(5), "5"), (.milliseconds(1500), "1.5"), (.milliseconds(10), "0.01"),
        (.milliseconds(250), "0.25"),
    ])
    func formatsBlockingTimeoutsInSeconds(_ duration: Duration, _ expected: String) {
        #expect(RedisCommand.secondsArgument(duration) == expected)
    }
}
