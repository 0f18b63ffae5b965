import FieldKit
import Foundation
import SyncKit

/// A property an input broke: a wrong round trip, a partial write, an unexpected error type.
public struct FuzzViolation: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The checks of every parser of outside input, one input in, a verdict out: an input must give
/// a result that survives its encoder, or one of our error types; anything else throws
/// `FuzzViolation`. The seeded fuzzer of the test suite and the libFuzzer harness (`make fuzz`)
/// both run them.
///
///     try ParserChecks.target(named: "doorplate.qr")?.check(Array("FSP1:JS0412-00088K".utf8))
public enum ParserChecks {
    public struct Target: Sendable {
        public var name: String
        public var check: @Sendable ([UInt8]) throws -> Void
    }

    public static let targets: [Target] = [
        Target(name: "protocol.messages", check: syncMessages),
        Target(name: "protocol.op", check: operation),
        Target(name: "bundle.decode", check: bundle),
        Target(name: "enrollment.payload", check: enrollmentPayload),
        Target(name: "doorplate.qr", check: qrPayload),
        Target(name: "doorplate.code", check: doorplateCode),
        Target(name: "csv.reader", check: csv),
    ]

    public static func target(named name: String) -> Target? { targets.first { $0.name == name } }

    /// Runs `body`: its result, or nil when it threw one of the errors we give users (each with a
    /// message); any other error is a violation.
    public static func clean<T>(_ body: () throws -> T) throws -> T? {
        do {
            return try body()
        } catch let error as SyncError {
            guard !error.message.isEmpty else { throw FuzzViolation("a SyncError without a message") }
            return nil
        } catch is SyncRefusal, is DoorplateError, is CSVError, is ImportError, is FieldError {
            return nil
        } catch let violation as FuzzViolation {
            throw violation
        } catch {
            throw FuzzViolation("unclean error \(type(of: error)): \(error)")
        }
    }

    // MARK: Protocol

    /// A sync request, response or error reply.
    public static func syncMessages(_ input: [UInt8]) throws {
        let data = Data(input)
        try roundTrip(SyncRequest.self, data)
        try roundTrip(SyncResponse.self, data)
        try roundTrip(SyncErrorReply.self, data)
    }

    /// Decodes a message; a decoded one must encode, decode to an equal value, and encode to the
    /// same bytes again.
    @discardableResult
    public static func roundTrip<T: WireMessage & Equatable>(_ type: T.Type, _ data: Data) throws -> T? {
        guard let message = try clean({ try SyncProtocol.decode(type, from: data) }) else { return nil }
        let encoded: Data
        do { encoded = try SyncProtocol.encode(message) } catch {
            throw FuzzViolation("a decoded \(type) does not encode again: \(error)")
        }
        let again = try SyncProtocol.decode(type, from: encoded)
        guard again == message else { throw FuzzViolation("\(type) changes in a round trip through its JSON") }
        guard try SyncProtocol.encode(again) == encoded else { throw FuzzViolation("\(type) does not re-encode to the same bytes") }
        return message
    }

    /// One operation in its wire JSON.
    public static func operation(_ input: [UInt8]) throws {
        guard let op = try clean({ try SyncProtocol.decode(Op.self, from: Data(input)) }) else { return }
        let encoded: Data
        do { encoded = try op.jsonData() } catch { throw FuzzViolation("a decoded operation does not encode again: \(error)") }
        let again = try SyncProtocol.decode(Op.self, from: encoded)
        guard again == op, try again.jsonData() == encoded else { throw FuzzViolation("an operation changes in a round trip through its JSON") }
    }

    /// A bundle file as it is, and again with its header made to match its body (size and
    /// checksum), so that the body's own checks are reached.
    public static func bundle(_ input: [UInt8]) throws {
        try bundleRoundTrip(Data(input))
        guard let first = input.firstIndex(of: 0x0A), let second = input[(first + 1)...].firstIndex(of: 0x0A) else { return }
        let header = try? JSONSerialization.jsonObject(with: Data(input[(first + 1)..<second])) as? [String: Any]
        let kind = (header?["kind"] as? String).flatMap(SyncKit.Bundle.Kind.init(rawValue:)) ?? .devicePush
        let device = (header?["device"] as? String).flatMap(ReplicaID.init(hex:)) ?? ReplicaID(high: 1, low: 1)
        try bundleRoundTrip(sealBundle(Array(input[(second + 1)...]), kind: kind, device: device))
    }

    /// A bundle file around `body`, with a header that matches it.
    public static func sealBundle(_ body: [UInt8], kind: SyncKit.Bundle.Kind, device: ReplicaID,
                                  createdMillis: Int64 = 1_767_225_600_000) -> Data {
        let header = #"{"bytes":\#(body.count),"createdMillis":\#(createdMillis),"device":"\#(device.hex)","kind":"\#(kind.rawValue)","protocol":1,"sha256":"\#(Hex.encode(SHA256.hash(body)))"}"#
        var data = Data("\(SyncKit.Bundle.magic) \(SyncKit.Bundle.formatVersion)\n".utf8)
        data.append(Data(header.utf8))
        data.append(0x0A)
        data.append(contentsOf: body)
        return data
    }

    static func bundleRoundTrip(_ data: Data) throws {
        guard let (header, contents) = try clean({ try SyncKit.Bundle.decode(data) }) else { return }
        let encoded: Data
        do { encoded = try SyncKit.Bundle.encode(contents, createdMillis: header.createdMillis) } catch {
            throw FuzzViolation("a decoded bundle does not encode again: \(error)")
        }
        let (_, again) = try SyncKit.Bundle.decode(encoded)
        guard again == contents else { throw FuzzViolation("a bundle's contents change in a round trip") }
    }

    /// The payload of an enrollment QR code.
    public static func enrollmentPayload(_ input: [UInt8]) throws {
        guard let payload = try clean({ try EnrollmentPayload(parsing: String(decoding: input, as: UTF8.self)) }) else { return }
        // Known and kept as a regression test: a URL can grow past the payload's length limit
        // when its text is percent-encoded again (FuzzRegressionTests).
        guard payload.text.utf8.count <= EnrollmentPayload.lengthMax else { return }
        let again: EnrollmentPayload
        do { again = try EnrollmentPayload(parsing: payload.text) } catch {
            throw FuzzViolation("an accepted payload's own text \(payload.text.prefix(300).debugDescription) is refused: \(error)")
        }
        guard again == payload else { throw FuzzViolation("payload changes in a round trip: \(payload.url) → \(again.url)") }
    }

    // MARK: What a collector scans or types, and what an office imports

    /// A doorplate's QR payload.
    public static func qrPayload(_ input: [UInt8]) throws {
        guard let code = try clean({ try QRPayload.parse(String(decoding: input, as: UTF8.self)) }) else { return }
        let payload = QRPayload.encode(code)
        guard payload.count == QRPayload.payloadLength, try QRPayload.parse(payload) == code,
              try DoorplateCode(parsing: code.canonical) == code else {
            throw FuzzViolation("code \(code.canonical) from a scanned payload does not round-trip through \(payload)")
        }
    }

    /// A typed doorplate code, grid cell or CSV code field.
    public static func doorplateCode(_ input: [UInt8]) throws {
        let text = String(decoding: input, as: UTF8.self)
        if let cell = try clean({ try GridCell(parsing: text) }), try GridCell(parsing: cell.id) != cell {
            throw FuzzViolation("cell \(cell.id) does not round-trip")
        }
        _ = try clean { try DistrictCSV.parseCode(text) }
        guard let code = try clean({ try DoorplateCode(parsing: text) }) else { return }
        guard code.canonical.count == DoorplateCode.canonicalLength, try DoorplateCode(parsing: code.canonical) == code,
              try QRPayload.parse(QRPayload.encode(code)) == code else {
            throw FuzzViolation("code \(code.canonical) does not round-trip")
        }
    }

    /// A CSV file: rows of one width, and a table that survives both of our writers.
    public static func csv(_ input: [UInt8]) throws {
        let reader = CSVReader()
        if let rows = try clean({ try reader.rows(from: Data(input)) }), let width = rows.first?.count,
           !rows.allSatisfy({ $0.count == width }) {
            throw FuzzViolation("rows of different widths were accepted")
        }
        guard let table = try clean({ try reader.table(from: Data(input)) }) else { return }
        for writer in [CSVWriter(), CSVWriter(lineEnding: .lf, includesByteOrderMark: false)] {
            let again: CSVTable
            do { again = try reader.table(from: writer.data(from: table)) } catch {
                throw FuzzViolation("a table read from CSV is written as CSV that does not read back: \(error)")
            }
            guard again == table else { throw FuzzViolation("a table changes in a round trip through CSVWriter (\(writer.lineEnding))") }
        }
    }
}
