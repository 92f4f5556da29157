import FluxbrainCore
import Foundation
import NIOCore

/// One event of a watch stream (`{"type":…,"object":…}` on its own line).
package enum WatchEvent: Sendable {
    case added(FluxObject)
    case modified(FluxObject)
    /// Carries the object's last state.
    case deleted(FluxObject)
    /// Only the resourceVersion to resume from.
    case bookmark(resourceVersion: String)
    /// A `Status` (e.g. 410 Expired); the client turns it into an error.
    case error(KubernetesStatus)
    /// An event whose object did not decode: skipped and counted.
    case malformed(type: String, name: String?, namespace: String?, resourceVersion: String?, reason: String)

    /// Decodes one line of a watch stream (``FastJSON`` and the hand-written object mapping, like lists).
    package static func decode(line: [UInt8]) -> WatchEvent {
        let value: JSONValue
        do {
            value = try FastJSON.parse(line)
        } catch {
            return .malformed(type: "?", name: nil, namespace: nil, resourceVersion: nil, reason: "\(error)")
        }
        guard let type = value["type"]?.stringValue else {
            return .malformed(type: "?", name: nil, namespace: nil, resourceVersion: nil, reason: "no event type")
        }
        let object = value["object"]
        let meta = (
            name: object?["metadata"]?["name"]?.stringValue, namespace: object?["metadata"]?["namespace"]?.stringValue,
            resourceVersion: object?["metadata"]?["resourceVersion"]?.stringValue
        )
        switch type {
        case "BOOKMARK":
            return .bookmark(resourceVersion: meta.resourceVersion ?? "")
        case "ERROR":
            let status = try? object?.decode(KubernetesStatus.self)
            return .error(status ?? KubernetesStatus(message: "undecodable watch error", reason: "", code: 500))
        case "ADDED", "MODIFIED", "DELETED":
            do {
                let object = try FluxObject(json: object ?? .null)
                switch type {
                case "ADDED": return .added(object)
                case "MODIFIED": return .modified(object)
                default: return .deleted(object)
                }
            } catch {
                return .malformed(
                    type: type,
                    name: meta.name,
                    namespace: meta.namespace,
                    resourceVersion: meta.resourceVersion,
                    reason: ObjectList.describe(error)
                )
            }
        default:
            return .malformed(
                type: type,
                name: meta.name,
                namespace: meta.namespace,
                resourceVersion: meta.resourceVersion,
                reason: "unknown watch event type \(type)"
            )
        }
    }
}

/// Splits a byte stream into `\n`-terminated lines, refusing a line longer than `maxLineBytes`.
package struct LineSplitter: Sendable {
    /// A line exceeded the cap.
    package struct TooLong: Error, Sendable {
        package var limit: Int
    }

    package let maxLineBytes: Int
    private var buffer: [UInt8] = []
    private var start = 0

    package init(maxLineBytes: Int) {
        self.maxLineBytes = maxLineBytes
    }

    /// Adds a chunk.
    package mutating func append(_ chunk: inout ByteBuffer) throws {
        try append(bytes: chunk.readableBytesView)
        chunk.moveReaderIndex(forwardBy: chunk.readableBytes)
    }

    /// Adds bytes.
    package mutating func append(bytes: some Sequence<UInt8>) throws {
        if start > 0, start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        } else if start > 65536 {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
        if buffer.count - start > maxLineBytes, !buffer[start...].contains(0x0a) {
            throw TooLong(limit: maxLineBytes)
        }
    }

    /// The next complete line without its `\n`, if any.
    package mutating func nextLine() throws -> [UInt8]? {
        guard let newline = buffer[start...].firstIndex(of: 0x0a) else { return nil }
        let line = Array(buffer[start..<newline])
        start = newline + 1
        if line.count > maxLineBytes { throw TooLong(limit: maxLineBytes) }
        return line
    }

    /// What is left after the stream ended (a last line without `\n`), if anything.
    package mutating func remainder() -> [UInt8]? {
        guard start < buffer.count else { return nil }
        let rest = Array(buffer[start...])
        start = buffer.count
        return rest
    }
}
