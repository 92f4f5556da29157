import Foundation

/// A forward-only reader over JSON bytes: the one parser behind ``FastJSON`` (which builds ``JSONValue``s) and the
/// typed readers that decode Kubernetes lists straight into structs (`FluxObject.scan(_:)`), without building a
/// dictionary per object.
///
/// Two kinds of failure: ``FastJSON/SyntaxError`` when the bytes are not JSON (nothing after that point can be
/// read), and ``Mismatch`` when a well-formed value has another type than the reader asked for (the caller can
/// rewind to where the value began and ``skip()`` it). `null` reads as absent (`nil`) in every typed reader.
/// Invalid UTF-8 in strings is replaced, not refused; nesting deeper than 512 levels is refused.
package struct JSONScanner {
    /// A well-formed value of another type than the reader asked for, at byte `offset`.
    package struct Mismatch: Error, Sendable {
        package var offset: Int
        package var expected: String
    }

    /// An object member name, compared against string literals without building a `String`.
    package struct Key {
        fileprivate let start: UnsafePointer<UInt8>
        fileprivate let count: Int
        /// The decoded name when the raw bytes hold escapes (rare).
        fileprivate let unescaped: String?

        /// The name as a `String`.
        package var string: String {
            unescaped ?? String(decoding: UnsafeBufferPointer(start: start, count: count), as: UTF8.self)
        }

        package static func ~= (pattern: StaticString, key: Key) -> Bool {
            if let unescaped = key.unescaped { return unescaped == pattern.description }
            return key.count == pattern.utf8CodeUnitCount && memcmp(key.start, pattern.utf8Start, key.count) == 0
        }
    }

    let base: UnsafePointer<UInt8>
    let end: Int
    /// The offset of the next byte to read.
    package internal(set) var index = 0
    var depth = 0

    /// Reads `bytes`, which must stay valid while the scanner is used.
    package init(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count > 0 else {
            throw FastJSON.SyntaxError(offset: 0, message: "empty document")
        }
        self.base = base
        self.end = bytes.count
    }

    func error(_ message: String) -> FastJSON.SyntaxError { FastJSON.SyntaxError(offset: index, message: message) }

    func mismatch(_ expected: String) -> Mismatch { Mismatch(offset: index, expected: expected) }

    // MARK: Structure

    mutating func skipWhitespace() {
        while index < end {
            let byte = base[index]
            guard byte == 0x20 || byte == 0x0a || byte == 0x0d || byte == 0x09 else { return }
            index += 1
        }
    }

    /// Throws unless only whitespace is left.
    package mutating func expectEnd() throws {
        skipWhitespace()
        guard index == end else { throw error("trailing characters") }
    }

    /// The first byte of the next value (after whitespace).
    mutating func peek() throws -> UInt8 {
        skipWhitespace()
        guard index < end else { throw error("unexpected end") }
        return base[index]
    }

    /// Consumes a `null` if one comes next.
    mutating func skipNull() throws -> Bool {
        guard try peek() == UInt8(ascii: "n") else { return false }
        try literal("null")
        return true
    }

    mutating func literal(_ word: StaticString) throws {
        let count = word.utf8CodeUnitCount
        guard index + count <= end, memcmp(base + index, word.utf8Start, count) == 0 else {
            throw error("expected \(word)")
        }
        index += count
    }

    /// Reads an object member by member; `false` (nothing read) for `null`.
    ///
    /// - Throws: ``Mismatch`` when the value is not an object; whatever `body` throws.
    @discardableResult
    package mutating func members(_ body: (inout JSONScanner, Key) throws -> Void) throws -> Bool {
        if try skipNull() { return false }
        guard base[index] == UInt8(ascii: "{") else { throw mismatch("an object") }
        depth += 1
        guard depth <= 512 else { throw error("nested too deeply") }
        index += 1
        skipWhitespace()
        if index < end, base[index] == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return true
        }
        while true {
            skipWhitespace()
            guard index < end, base[index] == UInt8(ascii: "\"") else { throw error("expected a member name") }
            let key = try keyName()
            skipWhitespace()
            guard index < end, base[index] == UInt8(ascii: ":") else { throw error("expected ':'") }
            index += 1
            try body(&self, key)
            skipWhitespace()
            guard index < end else { throw error("unexpected end in object") }
            if base[index] == UInt8(ascii: ",") {
                index += 1
            } else if base[index] == UInt8(ascii: "}") {
                index += 1
                depth -= 1
                return true
            } else {
                throw error("expected ',' or '}'")
            }
        }
    }

    /// Reads an array element by element; `false` (nothing read) for `null`.
    ///
    /// - Throws: ``Mismatch`` when the value is not an array; whatever `body` throws.
    @discardableResult
    package mutating func elements(_ body: (inout JSONScanner) throws -> Void) throws -> Bool {
        if try skipNull() { return false }
        guard base[index] == UInt8(ascii: "[") else { throw mismatch("an array") }
        depth += 1
        guard depth <= 512 else { throw error("nested too deeply") }
        index += 1
        skipWhitespace()
        if index < end, base[index] == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return true
        }
        while true {
            try body(&self)
            skipWhitespace()
            guard index < end else { throw error("unexpected end in array") }
            if base[index] == UInt8(ascii: ",") {
                index += 1
            } else if base[index] == UInt8(ascii: "]") {
                index += 1
                depth -= 1
                return true
            } else {
                throw error("expected ',' or ']'")
            }
        }
    }

    /// Reads a value with `body`; when it has another shape than `body` expects (a ``Mismatch``), skips the whole
    /// value instead and returns `nil`. Syntax errors still throw.
    package mutating func lenient<T>(_ body: (inout JSONScanner) throws -> T) throws -> T? {
        skipWhitespace()
        let start = index
        let startDepth = depth
        do {
            return try body(&self)
        } catch is Mismatch {
            index = start
            depth = startDepth
            try skip()
            return nil
        }
    }

    /// Reads and drops one value, checking that it is well-formed (strings and numbers are scanned, not built).
    package mutating func skip() throws {
        switch try peek() {
        case UInt8(ascii: "{"):
            try members { scanner, _ in try scanner.skip() }
        case UInt8(ascii: "["):
            try elements { try $0.skip() }
        case UInt8(ascii: "\""):
            index += 1
            while index < end {
                let byte = base[index]
                if byte == UInt8(ascii: "\"") {
                    index += 1
                    return
                }
                if byte == UInt8(ascii: "\\") {
                    index += 1
                } else if byte < 0x20 {
                    throw error("control character in string")
                }
                index += 1
            }
            throw error("unterminated string")
        default:
            _ = try value()
        }
    }

    // MARK: Typed readers

    /// A string, `nil` for `null`.
    package mutating func string() throws -> String? {
        let byte = try peek()
        guard byte == UInt8(ascii: "\"") else {
            if try skipNull() { return nil }
            throw mismatch("a string")
        }
        return try stringLiteral()
    }

    /// An integer (an integral floating-point number counts), `nil` for `null`.
    package mutating func int() throws -> Int64? {
        let byte = try peek()
        guard byte == UInt8(ascii: "-") || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) else {
            if try skipNull() { return nil }
            throw mismatch("an integer")
        }
        let start = index
        switch try number() {
        case .int(let value): return value
        case .double(let value) where value.rounded() == value && abs(value) < 9e18: return Int64(value)
        default:
            index = start
            throw mismatch("an integer")
        }
    }

    /// A boolean, `nil` for `null`.
    package mutating func bool() throws -> Bool? {
        switch try peek() {
        case UInt8(ascii: "t"):
            try literal("true")
            return true
        case UInt8(ascii: "f"):
            try literal("false")
            return false
        default:
            if try skipNull() { return nil }
            throw mismatch("a boolean")
        }
    }

    /// An object of strings (labels, annotations), `nil` for `null`.
    package mutating func stringMap() throws -> [String: String]? {
        var result: [String: String] = [:]
        let present = try members { scanner, key in
            guard let text = try scanner.string() else { throw scanner.mismatch("a string") }
            result[key.string] = text
        }
        return present ? result : nil
    }

    // MARK: Values

    /// Reads one value as a ``JSONValue``, keeping what `selection` selects.
    package mutating func value(_ selection: FastJSON.Selection = .all) throws -> JSONValue {
        switch try peek() {
        case UInt8(ascii: "{"): return try object(selection)
        case UInt8(ascii: "["): return try array(selection)
        case UInt8(ascii: "\""): return .string(try stringLiteral())
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

    mutating func object(_ selection: FastJSON.Selection) throws -> JSONValue {
        var result: [String: JSONValue] = [:]
        try members { scanner, key in
            switch selection {
            case .all:
                result[key.string] = try scanner.value()
            case .members(let selected):
                let name = key.string
                if let inner = selected[name] {
                    result[name] = try scanner.value(inner)
                } else {
                    try scanner.skip()
                }
            }
        }
        return .object(result)
    }

    mutating func array(_ selection: FastJSON.Selection) throws -> JSONValue {
        var result: [JSONValue] = []
        if case .members(let selected) = selection, selected.isEmpty {
            try elements { try $0.skip() }
        } else {
            try elements { result.append(try $0.value(selection)) }
        }
        return .array(result)
    }

    /// A member name; builds a `String` only when it holds escapes.
    mutating func keyName() throws -> Key {
        let start = index + 1
        var position = start
        while position < end {
            let byte = base[position]
            if byte == UInt8(ascii: "\"") {
                index = position + 1
                return Key(start: base + start, count: position - start, unescaped: nil)
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 {
                index = position
                throw error("control character in string")
            }
            position += 1
        }
        let name = try stringLiteral()
        return Key(start: base + start, count: 0, unescaped: name)
    }

    /// The string starting at the opening quote under `index`.
    mutating func stringLiteral() throws -> String {
        index += 1
        let start = index
        while index < end {
            let byte = base[index]
            if byte == UInt8(ascii: "\"") {
                let text = String(
                    decoding: UnsafeBufferPointer(start: base + start, count: index - start),
                    as: UTF8.self
                )
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
