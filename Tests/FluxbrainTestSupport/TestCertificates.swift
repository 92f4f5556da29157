import Foundation
import NIOSSL

/// A certificate authority and a server certificate for `127.0.0.1`/`localhost`, made with the `openssl` CLI in a
/// temporary directory once per test process, for HTTPS fake servers.
package struct TestCertificates: Sendable {
    package let directory: String
    package let caPEM: String
    package let serverCertificatePEM: String
    package let serverKeyPEM: String
    /// A server certificate naming only `kubernetes.fluxbrain.test` (no IP address, no `localhost`), for checks of
    /// `tls-server-name`.
    package let namedServerCertificatePEM: String
    package let namedServerKeyPEM: String
    /// A client certificate signed by the same CA (CN `fluxbrain-test-client`).
    package let clientCertificatePEM: String
    package let clientKeyPEM: String

    /// Made on first use, by `openssl` on a thread of its own (`onOwnThread`): neither the first caller nor those
    /// that ask while it runs hold a thread of the global executor.
    package static var shared: TestCertificates {
        get async { await onOwnThread { made } }
    }

    private static let made: TestCertificates = {
        do {
            return try TestCertificates.generate()
        } catch {
            fatalError("cannot make test certificates with openssl: \(error)")
        }
    }()

    /// Another, unrelated CA (to check that a wrong CA is refused); made like ``shared``.
    package static var otherCA: String {
        get async { await onOwnThread { madeOtherCA } }
    }

    private static let madeOtherCA: String = {
        do {
            let directory = try makeDirectory()
            try openssl(
                [
                    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                    "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=other-ca",
                ],
                in: directory
            )
            return try String(contentsOfFile: directory + "/ca.crt", encoding: .utf8)
        } catch {
            fatalError("cannot make a test CA with openssl: \(error)")
        }
    }()

    /// The name in ``namedServerCertificatePEM``.
    package static let serverName = "kubernetes.fluxbrain.test"

    /// A NIOSSL server configuration with the server certificate (the one naming only ``serverName`` when `named`).
    package func serverTLSConfiguration(
        requireClientCertificate: Bool = false,
        named: Bool = false
    ) throws -> TLSConfiguration {
        let certificate = named ? namedServerCertificatePEM : serverCertificatePEM
        let key = named ? namedServerKeyPEM : serverKeyPEM
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(certificate.utf8)).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(key.utf8), format: .pem))
        )
        if requireClientCertificate {
            configuration.certificateVerification = .noHostnameVerification
            configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(caPEM.utf8)))
        }
        return configuration
    }

    private static func makeDirectory() throws -> String {
        let directory = NSTemporaryDirectory() + "fluxbrain-certs-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    private static func generate() throws -> TestCertificates {
        let directory = try makeDirectory()
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try openssl(
            ["req", "-x509"] + ec + [
                "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=fluxbrain-test-ca",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ],
            in: directory
        )
        try """
        basicConstraints=CA:FALSE
        keyUsage=critical,digitalSignature,keyEncipherment
        extendedKeyUsage=serverAuth
        subjectAltName=IP:127.0.0.1,DNS:localhost
        """.write(toFile: directory + "/server.ext", atomically: true, encoding: .utf8)
        try """
        basicConstraints=CA:FALSE
        keyUsage=critical,digitalSignature,keyEncipherment
        extendedKeyUsage=serverAuth
        subjectAltName=DNS:\(serverName)
        """.write(toFile: directory + "/named.ext", atomically: true, encoding: .utf8)
        try """
        basicConstraints=CA:FALSE
        keyUsage=critical,digitalSignature,keyEncipherment
        extendedKeyUsage=clientAuth
        """.write(toFile: directory + "/client.ext", atomically: true, encoding: .utf8)
        let subjects = [
            ("server", "/CN=127.0.0.1"), ("named", "/CN=\(serverName)"),
            ("client", "/O=system:masters/CN=fluxbrain-test-client"),
        ]
        for (name, subject) in subjects {
            try openssl(
                ["req"] + ec + ["-keyout", "\(name).key", "-out", "\(name).csr", "-subj", subject],
                in: directory
            )
            try openssl(
                [
                    "x509", "-req", "-in", "\(name).csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                    "-out", "\(name).crt", "-days", "2", "-extfile", "\(name).ext",
                ],
                in: directory
            )
        }
        func read(_ file: String) throws -> String {
            try String(contentsOfFile: directory + "/" + file, encoding: .utf8)
        }
        return TestCertificates(
            directory: directory,
            caPEM: try read("ca.crt"),
            serverCertificatePEM: try read("server.crt"),
            serverKeyPEM: try read("server.key"),
            namedServerCertificatePEM: try read("named.crt"),
            namedServerKeyPEM: try read("named.key"),
            clientCertificatePEM: try read("client.crt"),
            clientKeyPEM: try read("client.key")
        )
    }

    private struct OpenSSLFailed: Error, CustomStringConvertible {
        var arguments: [String]
        var output: String
        var description: String { "openssl \(arguments.joined(separator: " ")) failed: \(output)" }
    }

    private static func openssl(_ arguments: [String], in directory: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw OpenSSLFailed(arguments: arguments, output: String(decoding: output, as: UTF8.self))
        }
    }
}
