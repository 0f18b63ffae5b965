import Foundation
import SyncKit

/// The admin API's answers as JSON bytes, written by hand (SyncKit's `JSONWriter`): keys sorted,
/// no whitespace. Foundation's JSONSerialization took most of a page's time on Linux (about
/// 0.15 ms a row of the records page).
///
///     AdminJSON.encode(["b": 1, "a": ["x", NSNull()]])   // {"a":["x",null],"b":1}
enum AdminJSON {
    static func encode(_ value: Any) -> Data {
        var writer = JSONWriter(reserving: 4_096)
        write(value, to: &writer)
        return writer.data
    }

    private static func write(_ value: Any, to writer: inout JSONWriter) {
        switch value {
        case let text as String: writer.string(text)
        case let flag as Bool: writer.bool(flag)
        case let number as Int: writer.int(Int64(number))
        case let number as Int64: writer.int(number)
        case let number as UInt64: writer.uint(number)
        case let number as Double: number.isFinite ? writer.double(number) : writer.null()
        case let object as [String: Any]:
            writer.raw(Array("{".utf8))
            for (index, key) in object.keys.sorted().enumerated() {
                if index > 0 { writer.raw(Array(",".utf8)) }
                writer.string(key)
                writer.raw(Array(":".utf8))
                write(object[key]!, to: &writer)
            }
            writer.raw(Array("}".utf8))
        case let list as [Any]:
            writer.raw(Array("[".utf8))
            for (index, element) in list.enumerated() {
                if index > 0 { writer.raw(Array(",".utf8)) }
                write(element, to: &writer)
            }
            writer.raw(Array("]".utf8))
        case let number as NSNumber: writer.double(number.doubleValue)
        default: writer.null()
        }
    }
}
