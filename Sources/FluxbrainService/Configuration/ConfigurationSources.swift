import Configuration
import Foundation
import Synchronization

/// The secret settings read from files: `<VAR>_FILE` holds a path, and the file's content is the value of `<VAR>`
/// (trimmed of trailing newlines like every value).
///
/// This is how a Kubernetes Secret mounted as a volume (or a Docker secret under `/run/secrets`) reaches Fluxbrain
/// without putting the value in the process environment. Setting both `<VAR>` and `<VAR>_FILE` is an error, as is a
/// file that cannot be read or is empty, or a `FLUXBRAIN_*_FILE` variable that belongs to no secret setting (it
/// would otherwise be ignored without a word).
struct SecretFiles: Sendable {
    /// The file values, keyed by the setting's name, every one secret; answers after the environment.
    let provider: InMemoryProvider
    /// The path each setting was read from, keyed by the setting's name.
    let paths: [String: String]

    /// The largest secret file read; a webhook URL, token or header list is far smaller.
    static let maximumSize = 64 * 1024

    init(environment: [String: String], secrets: Set<String>) throws(ConfigurationError) {
        func value(_ name: String) -> String? {
            guard let value = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else {
                return nil
            }
            return value
        }
        // FLUXBRAIN_ROUTES_FILE is a setting of its own (the routes file), not the file of a FLUXBRAIN_ROUTES secret.
        for name in environment.keys.sorted()
        where name.hasPrefix("FLUXBRAIN_") && name.hasSuffix("_FILE") && name != RoutesFile.variable {
            let setting = String(name.dropLast("_FILE".count))
            if !secrets.contains(setting), value(name) != nil {
                throw ConfigurationError(
                    variable: name,
                    message: "only secret settings can be read from a file: "
                        + secrets.sorted().map { "\($0)_FILE" }.joined(separator: ", ")
                )
            }
        }
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        var paths: [String: String] = [:]
        for setting in secrets.sorted() {
            let fileVariable = "\(setting)_FILE"
            guard let path = value(fileVariable) else { continue }
            if value(setting) != nil {
                throw ConfigurationError(
                    variable: setting,
                    message: "both \(setting) and \(fileVariable) are set; set only one of them"
                )
            }
            let content = try Self.contents(of: path, variable: fileVariable)
            values[AbsoluteConfigKey([setting])] = ConfigValue(.string(content), isSecret: true)
            paths[setting] = path
        }
        self.provider = InMemoryProvider(name: ConfigurationSourceRecorder.filesProviderName, values: values)
        self.paths = paths
    }

    /// The content of the file at `path` as UTF-8.
    ///
    /// - Throws: ``ConfigurationError`` naming `variable` (never the content) when the file cannot be opened or
    ///   read, is larger than ``maximumSize``, is not UTF-8 or is empty.
    static func contents(of path: String, variable: String) throws(ConfigurationError) -> String {
        func failure(_ reason: String) -> ConfigurationError {
            ConfigurationError(variable: variable, message: "cannot read '\(path)': \(reason)")
        }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure(String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure(String(cString: strerror(errno)))
            }
            if count == 0 { break }
            bytes.append(contentsOf: buffer[..<count])
            if bytes.count > maximumSize { throw failure("larger than \(maximumSize / 1024) KiB") }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw failure("not UTF-8 text") }
        // Trailing newlines (and surrounding blanks) go where every value is trimmed: `EnvironmentReader.string`.
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw failure("the file is empty") }
        return text
    }
}

/// Records which provider answered each configuration key, for `fluxbrain check-config`.
///
/// swift-configuration reports every access with the result of each provider it asked, in order; the first that
/// had a value is where the value came from. Only provider names and paths are kept, never values.
final class ConfigurationSourceRecorder: AccessReporter, Sendable {
    /// The name of the provider that holds the values of `<VAR>_FILE` files.
    static let filesProviderName = "files"

    private let files: [String: String]
    private let table = Mutex<[String: String]>([:])

    /// - Parameter files: the path each setting read from a file came from, keyed by the setting's name.
    init(files: [String: String]) {
        self.files = files
    }

    func report(_ event: AccessEvent) {
        let name = event.metadata.key.components.joined(separator: ".")
        var found: String?
        for result in event.providerResults {
            if case .success(let lookup) = result.result, lookup.value != nil {
                found = result.providerName
                break
            }
        }
        let source: String
        switch found {
        case nil: source = "default"
        case "EnvironmentVariablesProvider": source = "env"
        case "InMemoryProvider[\(Self.filesProviderName)]": source = "file \(name)_FILE (\(files[name] ?? "?"))"
        case let other?: source = other
        }
        table.withLock { $0[name] = source }
    }

    /// Where the value of `name` came from; `default` when it was never read or no provider had it.
    func source(of name: String) -> String {
        table.withLock { $0[name] } ?? "default"
    }

    /// Where each key read so far came from.
    func sources() -> [String: String] {
        table.withLock { $0 }
    }
}
