import CQREncode
import Foundation
import SyncKit

/// An enrollment payload as a QR code an operator can print, drawn as SVG.
///
///     let qr = try EnrollmentQR(payload: EnrollmentPayload(url: url, token: token).text)
///     try EnrollmentQR.checkDestination("tablet-07.svg")     // before enrolling: a clear refusal
///     try EnrollmentQR.write(qr.svg(title: "tablet-07"), to: "tablet-07.svg")
///
/// Encoded by Debian's libqrencode in byte mode at error correction level M (the payload is a
/// URL-like text with lower-case letters; M keeps the symbol small enough to scan from a sheet
/// of paper while surviving a crease). The SVG has a quiet zone of `quietZoneModules` white
/// modules on every side, one white background `<rect>` and one black `<path>` of horizontal
/// runs; no dates or random ids, so one payload always gives byte-identical files.
public struct EnrollmentQR: Sendable, Equatable {
    /// White modules around the symbol, as the QR standard asks.
    public static let quietZoneModules = 4
    /// SVG user units (pixels at 100%) per module.
    public static let modulePixels = 8
    /// Bytes of payload at most (a version-40 symbol at level M holds 2,331; enrollment payloads
    /// are about 150).
    public static let payloadBytesMax = 1_024

    /// The QR version libqrencode chose (1…40): the symbol is `17 + 4 × version` modules wide.
    public let version: Int
    /// Modules per side, without the quiet zone.
    public let width: Int
    /// Row-major, `true` for a dark module; `width × width` entries.
    public let modules: [Bool]

    public init(payload: String) throws {
        let bytes = Array(payload.utf8)
        guard !bytes.isEmpty, bytes.count <= Self.payloadBytesMax else {
            throw SyncError(.invalidInput, "a QR payload must be 1 to \(Self.payloadBytesMax) bytes; got \(bytes.count)")
        }
        guard let code = QRcode_encodeData(Int32(bytes.count), bytes, 0, QR_ECLEVEL_M) else {
            throw SyncError(.invalidInput, "libqrencode could not encode the payload (errno \(errno))")
        }
        defer { QRcode_free(code) }
        let width = Int(code.pointee.width)
        version = Int(code.pointee.version)
        self.width = width
        precondition(width == 17 + 4 * version, "libqrencode returned a \(width)-module symbol for version \(version)")
        // Bit 0 of each byte is the module's colour (1 = dark); the other bits describe its role.
        modules = (0..<(width * width)).map { code.pointee.data[$0] & 1 == 1 }
    }

    /// Modules per side including the quiet zone.
    public var sizeModules: Int { width + 2 * Self.quietZoneModules }

    public func isDark(row: Int, column: Int) -> Bool { modules[row * width + column] }

    /// The symbol as an SVG document; `title` (escaped) names it for people and screen readers.
    public func svg(title: String? = nil) -> String {
        let size = sizeModules
        var path = ""
        for row in 0..<width {
            var column = 0
            while column < width {
                guard isDark(row: row, column: column) else { column += 1; continue }
                var run = 1
                while column + run < width, isDark(row: row, column: column + run) { run += 1 }
                path += "M\(column + Self.quietZoneModules) \(row + Self.quietZoneModules)h\(run)v1h-\(run)z"
                column += run
            }
        }
        var lines = [
            #"<?xml version="1.0" encoding="UTF-8"?>"#,
            #"<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="\#(size * Self.modulePixels)" height="\#(size * Self.modulePixels)" viewBox="0 0 \#(size) \#(size)" shape-rendering="crispEdges">"#,
        ]
        if let title { lines.append("<title>\(Self.escaped(title))</title>") }
        lines.append(#"<rect width="\#(size)" height="\#(size)" fill="white"/>"#)
        lines.append(#"<path fill="black" d="\#(path)"/>"#)
        lines.append("</svg>")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Refuses a destination whose directory does not exist (or that is a directory), before
    /// anything is done, so a mistyped path never costs an enrollment.
    public static func checkDestination(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if path.hasSuffix("/") || (FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue) {
            throw SyncError(.invalidInput, "“\(path)” is a directory; give a file name for the QR code, e.g. \(path.hasSuffix("/") ? path : path + "/")device.svg")
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw SyncError(.invalidInput, "cannot write the QR code to “\(path)”: the directory “\(directory)” does not exist; create it or give another path")
        }
    }

    /// Writes the SVG readable by its owner only from its first byte (`OwnerOnlyFile`): the
    /// payload holds the device's one-time token.
    public static func write(_ svg: String, to path: String) throws {
        try checkDestination(path)
        try OwnerOnlyFile.write(Data(svg.utf8), toPath: path)
    }

    static func escaped(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            default: result.append(character)
            }
        }
        return result
    }
}
