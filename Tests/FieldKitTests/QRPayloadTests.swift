import Foundation
import SyncKit
import Testing

@testable import FieldKit

@Suite struct QRPayloadTests {
    private static let symbols = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*")

    private static func randomCode(using random: inout SplitMix64) -> DoorplateCode {
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        let area = String([random.element(of: letters), random.element(of: letters)])
        // Valid parts by construction: two letters and in-range numbers.
        return try! DoorplateCode(
            areaLetters: area, cellNumber: Int.random(in: 0...9_999, using: &random),
            plateNumber: Int.random(in: 0...99_999, using: &random))
    }

    private static func rejection(_ text: String) -> DoorplateError? {
        do {
            _ = try QRPayload.parse(text)
            return nil
        } catch let error as DoorplateError {
            return error
        } catch {
            return nil
        }
    }

    // MARK: Check character

    @Test func checkCharacterMatchesTheStandardsWorkedExample() {
        #expect(ISO7064.mod37_2CheckCharacter(for: "G123498654321") == "H")
        #expect(ISO7064.mod37_2IsValid("G123498654321H"))
        #expect(!ISO7064.mod37_2IsValid("G123498654312H"))
    }

    @Test func checkCharacterRejectsCharactersOutsideItsAlphabet() {
        #expect(ISO7064.mod37_2CheckCharacter(for: "AB-1") == nil)
        #expect(ISO7064.mod37_2CheckCharacter(for: "ab1") == nil)
        #expect(!ISO7064.mod37_2IsValid(""))
    }

    @Test func checkCharacterCatchesEverySubstitutionAndTranspositionAtEveryPosition() {
        // Exhaustive over one 11-character context: for a pure system the outcome does not depend on it.
        let data = Array("JS041200088")
        let check = ISO7064.mod37_2CheckCharacter(for: String(data))!
        let valid = data + [check]
        var missed: [String] = []
        for position in valid.indices {
            let alphabet = position == valid.count - 1 ? Self.symbols : Array(Self.symbols.dropLast())
            for replacement in alphabet where replacement != valid[position] {
                var changed = valid
                changed[position] = replacement
                if ISO7064.mod37_2IsValid(String(changed)) { missed.append(String(changed)) }
            }
        }
        for position in 0..<(valid.count - 1) where valid[position] != valid[position + 1] {
            var swapped = valid
            swapped.swapAt(position, position + 1)
            if ISO7064.mod37_2IsValid(String(swapped)) { missed.append(String(swapped)) }
        }
        #expect(missed.isEmpty, "undetected: \(missed)")
    }

    // MARK: Round trips

    @Test func encodedPayloadHasPrefixVersionCodeAndCheckCharacter() throws {
        let code = try DoorplateCode(parsing: "JS0412-00088")
        let payload = QRPayload.encode(code)
        #expect(payload == "FSP1:JS0412-00088K")
        #expect(payload.count == QRPayload.payloadLength)
        #expect(try QRPayload.parse(payload) == code)
    }

    @Test func codeWhoseCheckCharacterIsStarRoundTrips() throws {
        let code = try DoorplateCode(parsing: "JS0412-00048")
        #expect(code.checkCharacter == "*")
        #expect(QRPayload.encode(code) == "FSP1:JS0412-00048*")
        #expect(try QRPayload.parse("fsp1:js0412-00048＊") == code)
    }

    @Test func generatedPayloadsRoundTrip() throws {
        let seed = testSeed(default: 0xF1E1_D5CA_0001)
        var random = SplitMix64(seed: seed)
        for _ in 0..<5_000 {
            let code = Self.randomCode(using: &random)
            let payload = QRPayload.encode(code)
            let allowed = Set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
            #expect(payload.allSatisfy(allowed.contains), "not QR alphanumeric: \(payload); FIELDSYNC_SEED=\(seed)")
            #expect(try QRPayload.parse(payload) == code, "payload \(payload); FIELDSYNC_SEED=\(seed)")
            #expect(try QRPayload.parse(payload.lowercased()) == code, "payload \(payload); FIELDSYNC_SEED=\(seed)")
            #expect(try DoorplateCode(parsing: code.canonical) == code, "code \(code); FIELDSYNC_SEED=\(seed)")
        }
    }

    @Test func everySingleCharacterSubstitutionIsRejected() {
        let seed = testSeed(default: 0xF1E1_D5CA_0002)
        var random = SplitMix64(seed: seed)
        var codes = [try! DoorplateCode(parsing: "JS0412-00048")]  // check character "*"
        for _ in 0..<150 { codes.append(Self.randomCode(using: &random)) }
        let replacements = Self.symbols + ["-", ":", " ", "a"]
        for code in codes {
            let payload = Array(QRPayload.encode(code))
            for position in payload.indices {
                for replacement in replacements
                where replacement != payload[position] && Character(replacement.uppercased()) != payload[position] {
                    var changed = payload
                    changed[position] = replacement
                    let text = String(changed)
                    #expect(Self.rejection(text) != nil, "accepted \(text) (from \(String(payload))); FIELDSYNC_SEED=\(seed)")
                }
            }
        }
    }

    @Test func everyAdjacentTranspositionIsRejected() {
        let seed = testSeed(default: 0xF1E1_D5CA_0003)
        var random = SplitMix64(seed: seed)
        var codes = [try! DoorplateCode(parsing: "JS0412-00048"), try! DoorplateCode(parsing: "JS0412-00078")]
        for _ in 0..<2_000 { codes.append(Self.randomCode(using: &random)) }
        for code in codes {
            let payload = Array(QRPayload.encode(code))
            for position in 0..<(payload.count - 1) where payload[position] != payload[position + 1] {
                var swapped = payload
                swapped.swapAt(position, position + 1)
                let text = String(swapped)
                #expect(Self.rejection(text) != nil, "accepted \(text) (from \(String(payload))); FIELDSYNC_SEED=\(seed)")
            }
        }
    }

    // MARK: Lenient input

    @Test(arguments: [
        "fsp1:js0412-00088k",
        "FSP1:JS0412-00088K\r\n",
        "  FSP1:JS0412-00088K\t",
        "ＦＳＰ１：ＪＳ０４１２－０００８８Ｋ",
        "\u{3000}ｆｓｐ１:js0412－00088k\u{3000}",
    ])
    func lowercaseFullWidthAndPaddedPayloadsAreAccepted(_ text: String) throws {
        #expect(try QRPayload.parse(text).canonical == "JS0412-00088")
    }

    @Test(arguments: [
        "JS0412-00088", "js0412-00088", " JS-0412-00088 ", "JS041200088", "ＪＳ０４１２－０００８８", "JS0412—00088",
        "js-0412‐00088",
    ])
    func typedCodesAreReadCaseInsensitivelyAndCanonicalized(_ text: String) throws {
        let code = try DoorplateCode(parsing: text)
        #expect(code.canonical == "JS0412-00088")
        #expect(code.cellID == "JS-0412")
        #expect(code.areaLetters == "JS")
        #expect(code.cellNumber == 412)
        #expect(code.plateNumber == 88)
        #expect(code.description == "JS0412-00088")
    }

    // MARK: Rejections and their messages

    @Test func emptyPayloadSaysItIsEmpty() {
        for text in ["", "   ", "\r\n", "\u{3000}"] {
            let error = Self.rejection(text)
            #expect(error?.code == .empty)
            #expect(error?.message.contains("empty") == true)
            #expect(error?.message.contains("Scan the plate again") == true)
        }
    }

    @Test func overlongScanIsRejectedUnreadAndNamesTheLimit() {
        let error = Self.rejection("FSP1:" + String(repeating: "A", count: 200))
        #expect(error?.code == .tooLong)
        #expect(error?.message.contains("more than \(QRPayload.payloadLengthMax) characters") == true)
        #expect(Self.rejection(String(repeating: "x", count: 1_000_000))?.code == .tooLong)
    }

    @Test func foreignQRCodeIsReportedAsNotADoorplate() {
        let error = Self.rejection("https://weixin.qq.com/r/abc")
        #expect(error?.code == .unknownPrefix)
        #expect(error?.message.contains("not a FieldSync doorplate") == true)
        #expect(error?.message.contains("https://weixin.q") == true)
        #expect(error?.message.contains("FSP1:") == true)
        #expect(Self.rejection("FSPX:JS0412-00088K")?.code == .unknownPrefix)
    }

    @Test func newerFormatVersionNamesBothVersionsAndAsksForAnUpdate() {
        let error = Self.rejection("FSP2:JS0412-00088K")
        #expect(error?.code == .unsupportedVersion)
        #expect(error?.message.contains("version 2") == true)
        #expect(error?.message.contains("version 1") == true)
        #expect(error?.message.contains("Update the app") == true)
        #expect(Self.rejection("FSP12:JS0412-00088K")?.message.contains("version 12") == true)
    }

    @Test func strayCharacterIsNamedWithItsPosition() {
        let error = Self.rejection("FSP1:JS0412#00088K")
        #expect(error?.code == .invalidCharacter)
        #expect(error?.position == 12)
        #expect(error?.message.contains("“#”") == true)
        #expect(error?.message.contains("position 12") == true)
        #expect(error?.message.contains("rescan") == true)

        let chinese = Self.rejection("FSP1:JS0412-0008号K")
        #expect(chinese?.code == .invalidCharacter)
        #expect(chinese?.message.contains("“号” (U+53F7)") == true)
        #expect(chinese?.position == 17)

        let invisible = Self.rejection("FSP1:JS0412-000\u{200B}88K")
        #expect(invisible?.message.contains("U+200B") == true)
    }

    @Test func characterOfTheWrongKindNamesWhatWasExpected() {
        let error = Self.rejection("FSP1:JS0412-0O088K")
        #expect(error?.code == .invalidCharacter)
        #expect(error?.position == 14)
        #expect(error?.message.contains("“O” at position 14") == true)
        #expect(error?.message.contains("a digit 0–9") == true)
    }

    @Test func wrongLengthSaysHowManyCharactersWereFoundAndExpected() {
        let short = Self.rejection("FSP1:JS0412-0008K")
        #expect(short?.code == .wrongLength)
        #expect(short?.message.contains("has 17 characters") == true)
        #expect(short?.message.contains("has 18") == true)
        #expect(Self.rejection("FSP1:JS0412-000880K")?.code == .wrongLength)
        #expect(Self.rejection("FSP1:")?.code == .wrongLength)
    }

    @Test func wrongCheckCharacterSaysTheCodeWasMisreadAndToRescan() {
        let error = Self.rejection("FSP1:JS0412-00089K")
        #expect(error?.code == .wrongCheckCharacter)
        #expect(error?.message.contains("was misread") == true)
        #expect(error?.message.contains("rescan the plate") == true)
        #expect(error?.position == 18)
    }

    @Test func typedCodeErrorsSayWhichPartIsWrong() {
        func rejection(_ text: String) -> DoorplateError? {
            do {
                _ = try DoorplateCode(parsing: text)
                return nil
            } catch {
                return error as? DoorplateError
            }
        }
        let short = rejection("JS0412-0008")
        #expect(short?.code == .wrongLength)
        #expect(short?.message.contains("too short") == true)
        #expect(short?.message.contains("5-digit plate number") == true)

        let long = rejection("JS0412-000881")
        #expect(long?.code == .wrongLength)
        #expect(long?.message.contains("too long") == true)
        #expect(long?.position == 13)

        let letter = rejection("J50412-00088")
        #expect(letter?.code == .invalidCharacter)
        #expect(letter?.message.contains("“5” at position 2") == true)
        #expect(letter?.message.contains("two area letters") == true)

        #expect(rejection("")?.code == .empty)
        #expect(rejection(String(repeating: "J", count: 65))?.code == .tooLong)
        #expect(rejection("JS0412 00088")?.message.contains("a space at position 7") == true)
    }

    @Test func codesFromPartsRejectPartsOutsideTheGrammar() throws {
        #expect(try DoorplateCode(areaLetters: "js", cellNumber: 412, plateNumber: 88).canonical == "JS0412-00088")
        #expect(throws: DoorplateError.self) { try DoorplateCode(areaLetters: "J", cellNumber: 1, plateNumber: 1) }
        #expect(throws: DoorplateError.self) { try DoorplateCode(areaLetters: "张三", cellNumber: 1, plateNumber: 1) }
        #expect(throws: DoorplateError.self) { try DoorplateCode(areaLetters: "JS", cellNumber: 10_000, plateNumber: 1) }
        #expect(throws: DoorplateError.self) { try DoorplateCode(areaLetters: "JS", cellNumber: 1, plateNumber: -1) }
    }

    // MARK: Value behaviour

    @Test func codesSortByAreaThenCellThenPlate() throws {
        let texts = ["JS0412-00088", "AB9999-99999", "JS0412-00007", "JS0100-50000", "JT0000-00000"]
        let sorted = try texts.map(DoorplateCode.init(parsing:)).sorted().map(\.canonical)
        #expect(sorted == ["AB9999-99999", "JS0100-50000", "JS0412-00007", "JS0412-00088", "JT0000-00000"])
        #expect(sorted == texts.sorted())  // the canonical form sorts the same way as text
    }

    @Test func codesCompareEqualWhateverSpellingTheyWereTypedIn() throws {
        let a = try DoorplateCode(parsing: "js-0412-00088")
        let b = try DoorplateCode(parsing: "ＪＳ0412-00088")
        #expect(a == b)
        #expect(Set([a, b]).count == 1)
    }

    @Test func codesEncodeAsTheirCanonicalStringAndRejectBadJSON() throws {
        let code = try DoorplateCode(parsing: "js0412-00088")
        let json = try JSONEncoder().encode([code])
        #expect(String(decoding: json, as: UTF8.self) == #"["JS0412-00088"]"#)
        #expect(try JSONDecoder().decode([DoorplateCode].self, from: json) == [code])
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode([DoorplateCode].self, from: Data(#"["JS0412-0008"]"#.utf8))
        }
    }

    @Test func errorCodesCompareAndDescribeThemselves() {
        #expect(DoorplateError.Code.empty != DoorplateError.Code.tooLong)
        #expect(DoorplateError.Code.wrongCheckCharacter.description == "wrongCheckCharacter")
        let error = Self.rejection("")
        #expect(error?.description == error?.message)
    }
}
