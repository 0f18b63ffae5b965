import FuzzChecks
import FieldKit
import Foundation
import Testing
@testable import CentralNode
@testable import SyncKit

/// Bundle files: read as they are (magic line, header, checksum), and with a mutated body sealed
/// under a correct header, imported into a device and into the hub. A refused import writes nothing.
extension FuzzTests {
    /// A device's push bundle and the hub's reply to it, as carried by hand.
    static func bundleSeeds() throws -> (push: Data, pull: Data) {
        let world = try FuzzWorld()
        let push = try world.li.replica.exportBundle()
        let reply = try FuzzWorld().hub.importBundle(push, device: "li", actor: "fuzz").reply
        return (push, reply)
    }

    /// The body of a bundle file (after its second line).
    static func body(of bundle: Data) -> Data {
        let bytes = [UInt8](bundle)
        let first = bytes.firstIndex(of: 0x0A)!
        let second = bytes[(first + 1)...].firstIndex(of: 0x0A)!
        return Data(bytes[(second + 1)...])
    }

    /// A bundle file around `body`, with a header that matches it (size and checksum), so the
    /// body's own checks are reached.
    static func seal(_ body: [UInt8], kind: SyncKit.Bundle.Kind, device: ReplicaID) -> Data {
        ParserChecks.sealBundle(body, kind: kind, device: device, createdMillis: FuzzWorld.epochMillis)
    }

    @Test func bundleFilesParseOrFailCleanlyAndRoundTrip() async throws {
        let (push, pull) = try Self.bundleSeeds()
        let tokens = ["FIELDSYNC-BUNDLE 1\n", "FIELDSYNC-BUNDLE 2\n", "\"kind\":\"central-pull\"", "\"kind\":\"device-push\"", "\"bytes\":",
                      "\"sha256\":\"\"", "\"protocol\":2", "\"device\":\"00000000000000010000000000000001\"", "\n"] + Self.protocolTokens
        try await Fuzzer.run(FuzzTarget(name: "bundle.decode", seeds: [push, pull], tokens: tokens, json: true, inputBytesMax: 96 * 1024, iterations: 400,
                                        check: ParserChecks.bundle))
    }

    @Test func mutatedReplyBundlesImportOnADeviceOrAreRefusedWithoutPartialWrites() async throws {
        let (_, pull) = try Self.bundleSeeds()
        let holder = ReplicaHolder(changesPerWorldMax: 1)
        let device = ReplicaID(high: 1, low: 1)
        let seeds = [Self.body(of: pull)] + (try FuzzWorld.responseSeeds())
        try await Fuzzer.run(FuzzTarget(name: "bundle.device-import", seeds: seeds, tokens: Self.protocolTokens, json: true, inputBytesMax: 96 * 1024, iterations: 150) { input in
            let file = Self.seal(input, kind: .centralPull, device: device)
            let world = try holder.world()
            let before = try Fuzzer.contents(of: world.li.replica)
            guard try ParserChecks.clean({ try world.li.replica.importBundle(file) }) != nil else {
                return try Fuzzer.expectUnchanged(before, try Fuzzer.contents(of: world.li.replica), "bundle import")
            }
            holder.used()
            // Importing the same bundle again changes nothing.
            let after = try world.li.replica.digest()
            _ = try ParserChecks.clean { try world.li.replica.importBundle(file) }
            guard try world.li.replica.digest() == after else { throw FuzzViolation("importing the same bundle twice changed the device's state") }
        })
    }

    @Test func mutatedPushBundlesImportAtTheHubOrAreRefusedWithoutPartialWrites() async throws {
        let (push, _) = try Self.bundleSeeds()
        let holder = ReplicaHolder()
        let device = ReplicaID(high: 1, low: 1)
        let seeds = [Self.body(of: push)] + (try FuzzWorld.requestSeeds())
        try await Fuzzer.run(FuzzTarget(name: "bundle.hub-import", seeds: seeds, tokens: Self.protocolTokens, json: true, inputBytesMax: 96 * 1024, iterations: 200) { input in
            let file = Self.seal(input, kind: .devicePush, device: device)
            let world = try holder.world()
            let before = try Fuzzer.contents(of: world.hub.replica)
            guard let (response, reply) = try ParserChecks.clean({ try world.hub.importBundle(file, device: "li", actor: "fuzz") }) else {
                return try Fuzzer.expectUnchanged(before, try Fuzzer.contents(of: world.hub.replica), "bundle import")
            }
            holder.used()
            guard case .centralPull(_, let carried)? = try ParserChecks.clean({ try SyncKit.Bundle.decode(reply) })?.1, carried == response else {
                throw FuzzViolation("the hub's reply bundle does not read back as its response")
            }
        })
    }
}
