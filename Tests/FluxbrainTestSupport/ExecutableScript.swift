import Foundation

/// Writes `text` as a new executable file at `path` (mode 0755), from a `/bin/sh` child process.
///
/// Not from this process: a descriptor this process holds open on the file for writing is inherited by every
/// process another test spawns meanwhile (Foundation's `mkstemp` descriptor lacks `O_CLOEXEC`; even with it, a child
/// holds it until its `exec`), and executing a file that any process holds open for writing fails with `ETXTBSY`
/// ("Text file busy"), for as long as that process lives when it is a plugin that sleeps or a redis-server. The
/// child's descriptor is gone when the child exits.
package func writeExecutableScript(_ text: String, to path: String) throws {
    let writer = Process()
    writer.executableURL = URL(fileURLWithPath: "/bin/sh")
    writer.arguments = ["-c", #"cat > "$1" && chmod 755 "$1""#, "sh", path]
    let input = Pipe()
    writer.standardInput = input
    try writer.run()
    try input.fileHandleForWriting.write(contentsOf: Data(text.utf8))
    try input.fileHandleForWriting.close()
    writer.waitUntilExit()
    guard writer.terminationStatus == 0 else {
        throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
    }
}
