import Foundation
import Testing
@testable import CentralNode
import SyncKit
#if canImport(FoundationXML)
import FoundationXML
#endif

/// The enrollment QR code as SVG. No decoder is available, so the tests check what can be
/// checked without one: well-formed XML, the module count of the version libqrencode reports,
/// the quiet zone and finder patterns where the standard puts them, and determinism.
struct EnrollmentQRTests {
    static let payload = try! EnrollmentPayload(url: URL(string: "https://central.example.org:8443")!,
                                                token: String(repeating: "3f", count: Hub.tokenBytes)).text

    /// The dark modules an SVG draws, read back from its path of `M x y h w v1 h-w z` runs.
    static func darkModules(_ svg: String) throws -> Set<[Int]> {
        let d = try #require(svg.split(separator: "\n").first { $0.hasPrefix("<path") }?.split(separator: "\"").last { $0.hasPrefix("M") })
        var dark: Set<[Int]> = []
        for run in d.split(separator: "z") {
            let numbers = run.dropFirst().split(whereSeparator: { "hv ".contains($0) }).compactMap { Int($0) }
            try #require(numbers.count == 5 && numbers[2] > 0 && numbers[3] == 1 && numbers[4] == -numbers[2], "run \(run)")
            for x in numbers[0]..<(numbers[0] + numbers[2]) { dark.insert([x, numbers[1]]) }
        }
        return dark
    }

    @Test func theSVGIsWellFormedAndHasTheModulesOfTheReportedVersionWithAQuietZone() throws {
        let qr = try EnrollmentQR(payload: Self.payload)
        let svg = qr.svg(title: "tablet-07 <JS-0412 & JS-0413>")
        // About 140 bytes in byte mode at level M need version 8 (a version-7 symbol holds 122).
        #expect(Self.payload.utf8.count > 122 && Self.payload.utf8.count <= 152)
        #expect(qr.version == 8)
        #expect(qr.width == 17 + 4 * qr.version && qr.modules.count == qr.width * qr.width)
        let size = qr.width + 2 * EnrollmentQR.quietZoneModules
        #expect(svg.contains(#"viewBox="0 0 \#(size) \#(size)""#))
        #expect(svg.contains(#"<rect width="\#(size)" height="\#(size)" fill="white"/>"#))
        #expect(svg.contains("<title>tablet-07 &lt;JS-0412 &amp; JS-0413&gt;</title>"))
        let parser = XMLParser(data: Data(svg.utf8))
        #expect(parser.parse(), "\(String(describing: parser.parserError))")

        // The path draws exactly the symbol's dark modules, shifted by the quiet zone.
        let dark = try Self.darkModules(svg)
        let q = EnrollmentQR.quietZoneModules
        var expected: Set<[Int]> = []
        for row in 0..<qr.width { for column in 0..<qr.width where qr.isDark(row: row, column: column) { expected.insert([column + q, row + q]) } }
        #expect(dark == expected)
        #expect(dark.allSatisfy { $0[0] >= q && $0[1] >= q && $0[0] < size - q && $0[1] < size - q })
        // Finder patterns in three corners: a dark 7×7 ring, a light ring, a dark 3×3 centre.
        for (left, top) in [(0, 0), (qr.width - 7, 0), (0, qr.width - 7)] {
            for y in 0..<7 {
                for x in 0..<7 {
                    let ring = max(abs(x - 3), abs(y - 3))
                    #expect(qr.isDark(row: top + y, column: left + x) == (ring != 2), "finder at \(left),\(top): \(x),\(y)")
                }
            }
        }
        #expect(!qr.isDark(row: qr.width - 4, column: qr.width - 4), "no finder pattern in the fourth corner")
    }

    @Test func theSamePayloadGivesByteIdenticalSVGAndAnotherPayloadDoesNot() throws {
        let first = try EnrollmentQR(payload: Self.payload).svg(title: "tablet-07")
        let second = try EnrollmentQR(payload: Self.payload).svg(title: "tablet-07")
        #expect(first == second)
        let other = try EnrollmentPayload(url: URL(string: "https://central.example.org:8443")!,
                                          token: String(repeating: "3e", count: Hub.tokenBytes)).text
        #expect(try EnrollmentQR(payload: other).svg(title: "tablet-07") != first)
        // A short payload gets a smaller symbol.
        #expect(try EnrollmentQR(payload: "fieldsync").version == 1)
    }

    @Test func payloadsOutsideTheLimitsAreRefused() throws {
        #expect(throws: SyncError.self) { try EnrollmentQR(payload: "") }
        let long = try #require(throws: SyncError.self) { try EnrollmentQR(payload: String(repeating: "x", count: EnrollmentQR.payloadBytesMax + 1)) }
        #expect(long.message.contains("1 to \(EnrollmentQR.payloadBytesMax) bytes"))
    }

    @Test func aDestinationInAMissingDirectoryIsRefusedAndTheFileIsOwnerOnly() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fieldsync-qr-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let missing = directory.appendingPathComponent("nowhere/tablet.svg").path
        let error = try #require(throws: SyncError.self) { try EnrollmentQR.checkDestination(missing) }
        #expect(error.code == .invalidInput)
        #expect(error.message.contains("the directory “\(directory.path)/nowhere” does not exist"))
        #expect(throws: SyncError.self) { try EnrollmentQR.write("<svg/>", to: missing) }
        #expect(!FileManager.default.fileExists(atPath: missing))
        let isDirectory = try #require(throws: SyncError.self) { try EnrollmentQR.checkDestination(directory.path) }
        #expect(isDirectory.message.contains("is a directory"))

        let file = directory.appendingPathComponent("tablet.svg").path
        let svg = try EnrollmentQR(payload: Self.payload).svg()
        try EnrollmentQR.write(svg, to: file)
        #expect(try String(contentsOfFile: file, encoding: .utf8) == svg)
        let permissions = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
        #expect(permissions == 0o600)
    }
}
