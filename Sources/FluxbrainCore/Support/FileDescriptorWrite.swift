import Foundation

/// Writes all of `bytes` to `descriptor` with `write(2)`, again after `EINTR` and after a short write: one system
/// call for a whole line in the usual case. Throws the `errno` of a write that failed as a `POSIXError` (`EIO` for
/// one that wrote nothing).
package func writeFully(_ bytes: some ContiguousBytes, to descriptor: Int32) throws {
    try bytes.withUnsafeBytes { buffer in
        var offset = 0
        while offset < buffer.count {
            let written = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
            }
            guard written > 0 else { throw POSIXError(.EIO) }
            offset += written
        }
    }
}
