import Foundation

/// A small, fast JSON parser producing ``JSONValue`` directly from bytes, without `Codable`.
///
/// `JSONDecoder` with `Codable` types spends most of its time building coding paths and discarded errors when a
/// value's shape has to be probed (as for `JSONValue`); Kubernetes lists are large, so Fluxbrain parses them with
/// this instead and maps the few fields it reads by hand (`FluxObject.init(json:)`). Numbers without fraction or
/// exponent that fit in `Int64` become `.int`, others `.double`; invalid UTF-8 is replaced, not refused; nesting
/// deeper than 512 levels is refused.
package enum FastJSON {
    /// Where and why the text is not JSON.
    package struct SyntaxError: Error, CustomStringConvertible, Sendable {
        package var offset: Int
        package var message: String
        package var description: String { "invalid JSON at byte \(offset): \(message)" }
    }

    /// Which members of objects to keep: `.all`, or only the named members (each with its own selection; members
    /// not named are skipped without being built). A selection applies to every element of an array.
    package indirect enum Selection: Sendable {
        case all
        case members([String: Selection])
        /// For an array: its elements (each parsed with the inner selection) are returned apart, with the byte
        /// range each came from, by ``parseCollecting(_:selecting:)``; the array itself is left empty.
        case collected(Selection)
    }

    /// Parses like ``parse(_:selecting:)`` and also returns the elements of the array selected `.collected`, each
    /// with its byte range in `bytes` (to parse it again with another selection).
    package static func parseCollecting(
        _ bytes: UnsafeRawBufferPointer, selecting selection: Selection
    ) throws -> (value: JSONValue, elements: [(value: JSONValue, range: Range<Int>)]) {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count > 0 else {
            throw SyntaxError(offset: 0, message: "empty document")
        }
        var parser = Parser(base: base, end: bytes.count)
        let value = try parser.value(selection)
        parser.skipWhitespace()
        guard parser.index == parser.end else { throw SyntaxError(offset: parser.index, message: "trailing characters") }
        return (value, parser.collected)
    }

    /// Parses the bytes `range` of `bytes` (a value found by ``parseCollecting(_:selecting:)``).
    package static func parse(
        _ bytes: UnsafeRawBufferPointer, range: Range<Int>, selecting selection: Selection = .all
    ) throws -> JSONValue {
        precondition(range.lowerBound >= 0 && range.upperBound <= bytes.count)
        return try parse(UnsafeRawBufferPointer(rebasing: bytes[range]), selecting: selection)
    }

    /// Parses one JSON document (surrounding whitespace allowed), keeping what `selection` selects. Skipped parts
    /// are still checked to be well-formed.
    package static func parse(_ bytes: UnsafeRawBufferPointer, selecting selection: Selection = .all) throws -> JSONValue {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count > 0 else {
            throw SyntaxError(offset: 0, message: "empty document")
        }
        var parser = Parser(base: base, end: bytes.count)
        let value = try parser.value(selection)
        parser.skipWhitespace()
        guard parser.index == parser.end else { throw SyntaxError(offset: parser.index, message: "trailing characters") }
        return value
    }

    /// Parses `data`.
    package static func parse(_ data: Data) throws -> JSONValue {
        try data.withUnsafeBytes { try parse($0) }
    }

    /// Parses `bytes`.
    package static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        try bytes.withUnsafeBytes { try parse($0) }
    }

    private struct Parser {
        let base: UnsafePointer<UInt8>
        let end: Int
        var index = 0
        var depth = 0
        var collected: [(value: JSONValue, range: Range<Int>)] = []

        init(base: UnsafePointer<UInt8>, end: Int) {
            self.base = base
            self.end = end
        }

        func error(_ message: String) -> SyntaxError { SyntaxError(offset: index, message: message) }

        mutating func skipWhitespace() {
            while index < end {
                let byte = base[index]
                guard byte == 0x20 || byte == 0x0a || byte == 0x0d || byte == 0x09 else { return }
                index += 1
            }
        }

        mutating func value(_ selection: Selection = .all) throws -> JSONValue {
            skipWhitespace()
            guard index < end else { throw error("unexpected end") }
            switch base[index] {
            case UInt8(ascii: "{"):
                if case .collected(let inner) = selection { return try object(inner) }
                return try object(selection)
            case UInt8(ascii: "["): return try array(selection)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"):
                try literal("true")
                return .bool(true)
            case UInt8(ascii: "f"):
                try literal("false")
                return .bool(false)
            case UInt8(ascii: "n"):
                try literal("null")
                return .null
            default:
                return try number()
            }
        }

        mutating func literal(_ word: StaticString) throws {
            let count = word.utf8CodeUnitCount
            guard index + count <= end, memcmp(base + index, word.utf8Start, count) == 0 else {
                throw error("expected \(word)")
            }
            index += count
        }

        mutating func object(_ selection: Selection) throws -> JSONValue {
            depth += 1
            guard depth <= 512 else { throw error("nested too deeply") }
            defer { depth -= 1 }
            index += 1
            var members: [String: JSONValue] = [:]
            skipWhitespace()
            if index < end, base[index] == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            }
            while true {
                skipWhitespace()
                guard index < end, base[index] == UInt8(ascii: "\"") else { throw error("expected a member name") }
                let key = try string()
                skipWhitespace()
                guard index < end, base[index] == UInt8(ascii: ":") else { throw error("expected ':'") }
                index += 1
                switch selection {
                case .all, .collected:
                    members[key] = try value()
                case .members(let selected):
                    if let inner = selected[key] {
                        members[key] = try value(inner)
                    } else {
                        _ = try skip()
                    }
                }
                skipWhitespace()
                guard index < end else { throw error("unexpected end in object") }
                if base[index] == UInt8(ascii: ",") {
                    index += 1
                } else if base[index] == UInt8(ascii: "}") {
                    index += 1
                    return .object(members)
                } else {
                    throw error("expected ',' or '}'")
                }
            }
        }

        /// Parses and drops a value (strings and numbers are scanned, not built).
        mutating func skip() throws {
            skipWhitespace()
            guard index < end else { throw error("unexpected end") }
            switch base[index] {
            case UInt8(ascii: "{"):
                _ = try object(.members([:]))
            case UInt8(ascii: "["):
                _ = try array(.members([:]))
            case UInt8(ascii: "\""):
                index += 1
                while index < end {
                    let byte = base[index]
                    if byte == UInt8(ascii: "\"") {
                        index += 1
                        return
                    }
                    if byte == UInt8(ascii: "\\") { index += 1 } else if byte < 0x20 { throw error("control character in string") }
                    index += 1
                }
                throw error("unterminated string")
            default:
                _ = try value()
            }
        }

        mutating func array(_ selection: Selection) throws -> JSONValue {
            depth += 1
            guard depth <= 512 else { throw error("nested too deeply") }
            defer { depth -= 1 }
            index += 1
            var elements: [JSONValue] = []
            skipWhitespace()
            if index < end, base[index] == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            }
            while true {
                if case .members(let selected) = selection, selected.isEmpty {
                    try skip()
                } else if case .collected(let inner) = selection {
                    skipWhitespace()
                    let start = index
                    let element = try value(inner)
                    collected.append((element, start..<index))
                } else {
                    elements.append(try value(selection))
                }
                skipWhitespace()
                guard index < end else { throw error("unexpected end in array") }
                if base[index] == UInt8(ascii: ",") {
                    index += 1
                } else if base[index] == UInt8(ascii: "]") {
                    index += 1
                    return .array(elements)
                } else {
                    throw error("expected ',' or ']'")
                }
            }
        }

        mutating func string() throws -> String {
            index += 1
            let start = index
            while index < end {
                let byte = base[index]
                if byte == UInt8(ascii: "\"") {
                    let text = String(decoding: UnsafeBufferPointer(start: base + start, count: index - start), as: UTF8.self)
                    index += 1
                    return text
                }
                if byte == UInt8(ascii: "\\") { break }
                if byte < 0x20 { throw error("control character in string") }
                index += 1
            }
            var bytes = Array(UnsafeBufferPointer(start: base + start, count: index - start))
            while index < end {
                let byte = base[index]
                if byte == UInt8(ascii: "\"") {
                    index += 1
                    return String(decoding: bytes, as: UTF8.self)
                }
                if byte < 0x20 { throw error("control character in string") }
                guard byte == UInt8(ascii: "\\") else {
                    bytes.append(byte)
                    index += 1
                    continue
                }
                index += 1
                guard index < end else { break }
                switch base[index] {
                case UInt8(ascii: "\""): bytes.append(0x22)
                case UInt8(ascii: "\\"): bytes.append(0x5c)
                case UInt8(ascii: "/"): bytes.append(0x2f)
                case UInt8(ascii: "b"): bytes.append(0x08)
                case UInt8(ascii: "f"): bytes.append(0x0c)
                case UInt8(ascii: "n"): bytes.append(0x0a)
                case UInt8(ascii: "r"): bytes.append(0x0d)
                case UInt8(ascii: "t"): bytes.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4(at: index + 1)
                    index += 4
                    if (0xD800..<0xDC00).contains(scalar), index + 6 < end, base[index + 1] == UInt8(ascii: "\\"),
                        base[index + 2] == UInt8(ascii: "u")
                    {
                        let low = try hex4(at: index + 3)
                        if (0xDC00..<0xE000).contains(low) {
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                            index += 6
                        }
                    }
                    let unicode = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                    bytes.append(contentsOf: String(Character(unicode)).utf8)
                default:
                    throw error("invalid escape")
                }
                index += 1
            }
            throw error("unterminated string")
        }

        func hex4(at position: Int) throws -> UInt32 {
            guard position + 4 <= end else { throw error("short \\u escape") }
            var value: UInt32 = 0
            for offset in 0..<4 {
                let byte = base[position + offset]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw error("invalid \\u escape")
                }
                value = value << 4 | UInt32(digit)
            }
            return value
        }

        mutating func number() throws -> JSONValue {
            let start = index
            var isInteger = true
            if index < end, base[index] == UInt8(ascii: "-") { index += 1 }
            let digitsStart = index
            while index < end {
                let byte = base[index]
                if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                    index += 1
                } else if byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
                    || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-")
                {
                    isInteger = false
                    index += 1
                } else {
                    break
                }
            }
            guard index > digitsStart else { throw error("unexpected character") }
            if isInteger, index - digitsStart <= 18 {
                var value: Int64 = 0
                for position in digitsStart..<index { value = value * 10 + Int64(base[position] - UInt8(ascii: "0")) }
                return .int(base[start] == UInt8(ascii: "-") ? -value : value)
            }
            let text = String(decoding: UnsafeBufferPointer(start: base + start, count: index - start), as: UTF8.self)
            if isInteger, let value = Int64(text) { return .int(value) }
            guard let value = Double(text) else { throw error("invalid number \(text)") }
            return .double(value)
        }
    }
}
