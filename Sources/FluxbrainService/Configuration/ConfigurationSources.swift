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
///
/// `FLUXBRAIN_SECRETS_DIR` names a directory (a mounted Secret whose keys are the setting names): each secret setting
/// whose file `<dir>/<VAR>` exists is read from it as if `<VAR>_FILE` named it, and a setting without a file there
/// (or with an empty one, as with an empty variable) stays unset, so a Secret may leave out the keys it does not need. The directory must exist; a setting given
/// both there and by `<VAR>` or `<VAR>_FILE` is an error naming both.
struct SecretFiles: Sendable {
    /// The variable naming a directory of secret files.
    static let directoryVariable = "FLUXBRAIN_SECRETS_DIR"

    /// The file values, keyed by the setting's name, every one secret; answers after the environment.
    let provider: InMemoryProvider
    /// Where each setting read from a file came from (`FLUXBRAIN_X_FILE (path)`, `FLUXBRAIN_SECRETS_DIR (path)`),
    /// keyed by the setting's name.
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
        let directory = try value(Self.directoryVariable).map { path throws(ConfigurationError) in
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ConfigurationError(variable: Self.directoryVariable, message: "'\(path)' is not a directory")
            }
            return path.hasSuffix("/") ? String(path.dropLast()) : path
        }
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        var paths: [String: String] = [:]
        for setting in secrets.sorted() {
            let fileVariable = "\(setting)_FILE"
            // `fileExists` follows the symlinks a Kubernetes Secret volume is made of.
            let inDirectory = directory.map { "\($0)/\(setting)" }.flatMap {
                FileManager.default.fileExists(atPath: $0) ? $0 : nil
            }
            let path: String
            let variable: String
            switch (value(fileVariable), inDirectory) {
            case (nil, nil):
                continue
            case (let named?, nil):
                (path, variable) = (named, fileVariable)
            case (nil, let found?):
                (path, variable) = (found, Self.directoryVariable)
            case (_?, let found?):
                throw ConfigurationError(
                    variable: fileVariable,
                    message: "both \(fileVariable) and \(Self.directoryVariable) (\(found)) are set; "
                        + "set only one of them"
                )
            }
            if value(setting) != nil {
                let other = variable == fileVariable ? fileVariable : "\(Self.directoryVariable) (\(path))"
                throw ConfigurationError(
                    variable: setting,
                    message: "both \(setting) and \(other) are set; set only one of them"
                )
            }
            let content = try Self.contents(of: path, variable: variable, emptyIsUnset: variable != fileVariable)
            guard let content else { continue }
            values[AbsoluteConfigKey([setting])] = ConfigValue(.string(content), isSecret: true)
            paths[setting] = variable == fileVariable ? "\(fileVariable) (\(path))" : "\(variable) (\(path))"
        }
        self.provider = InMemoryProvider(name: ConfigurationSourceRecorder.filesProviderName, values: values)
        self.paths = paths
    }

    /// The content of the file at `path` as UTF-8; `nil` for an empty (or blank) file when `emptyIsUnset`, as in a
    /// secrets directory, where an empty key means unset like an empty variable.
    ///
    /// - Throws: ``ConfigurationError`` naming `variable` (never the content) when the file cannot be opened or
    ///   read, is larger than ``maximumSize``, is not UTF-8 or is empty (unless `emptyIsUnset`).
    static func contents(
        of path: String,
        variable: String,
        emptyIsUnset: Bool = false
    ) throws(ConfigurationError) -> String? {
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
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            if emptyIsUnset { return nil }
            throw failure("the file is empty")
        }
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

    /// - Parameter files: the variable and path each setting read from a file came from
    ///   (`FLUXBRAIN_X_FILE (path)`), keyed by the setting's name.
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
        case "InMemoryProvider[\(Self.filesProviderName)]": source = "file \(files[name] ?? "?")"
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
