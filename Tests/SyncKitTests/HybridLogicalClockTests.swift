import Testing
@testable import SyncKit

struct HybridLogicalClockTests {
    @Test func ticksFollowPhysicalTimeWhenItMovesForward() {
        var clock = HybridLogicalClock(last: .zero)
        #expect(clock.tick(nowMillis: 1_000) == HLCTimestamp(millis: 1_000, counter: 0))
        #expect(clock.tick(nowMillis: 2_000) == HLCTimestamp(millis: 2_000, counter: 0))
    }

    @Test func clockGoingBackwardsNeverMovesStampsBackwards() {
        var clock = HybridLogicalClock(last: .zero)
        let a = clock.tick(nowMillis: 5_000)
        let b = clock.tick(nowMillis: 1_000)   // the device clock ran back
        let c = clock.tick(nowMillis: 0)       // reset to 1970
        #expect(a < b && b < c)
        #expect(c == HLCTimestamp(millis: 5_000, counter: 2))
    }

    @Test func counterOverflowCarriesIntoMilliseconds() {
        var clock = HybridLogicalClock(last: HLCTimestamp(millis: 7, counter: HLCTimestamp.counterMax))
        #expect(clock.tick(nowMillis: 7) == HLCTimestamp(millis: 8, counter: 0))
    }

    @Test func receivingAdvancesPastTheRemoteStamp() {
        var clock = HybridLogicalClock(last: HLCTimestamp(millis: 100, counter: 4))
        clock.receive(HLCTimestamp(millis: 200, counter: 9), nowMillis: 150)
        #expect(clock.last == HLCTimestamp(millis: 200, counter: 10))
        clock.receive(HLCTimestamp(millis: 200, counter: 3), nowMillis: 150)
        #expect(clock.last == HLCTimestamp(millis: 200, counter: 11))
        clock.receive(HLCTimestamp(millis: 50, counter: 0), nowMillis: 300)
        #expect(clock.last == HLCTimestamp(millis: 300, counter: 0))
        #expect(clock.tick(nowMillis: 250) > HLCTimestamp(millis: 300, counter: 0))
    }

    @Test func driftBoundSeparatesTrustedFromUntrustedStamps() {
        let now: Int64 = 1_000_000
        #expect(!HybridLogicalClock.isBeyondDrift(HLCTimestamp(millis: UInt64(now + 600_000), counter: 5), nowMillis: now, driftMillisMax: 600_000))
        #expect(HybridLogicalClock.isBeyondDrift(HLCTimestamp(millis: UInt64(now + 600_001), counter: 0), nowMillis: now, driftMillisMax: 600_000))
    }

    @Test func clockSurvivesReopeningTheReplica() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("r.db").path
        let clock = ManualClock(millis: testEpochMillis)
        var last: HLCTimestamp
        do {
            let (replica, _) = try makeReplica(1, clock: clock, path: path)
            try replica.write { try $0.insert("items", ["cell": "C1", "name": "a"]) }
            try replica.write { try $0.insert("items", ["cell": "C1", "name": "b"]) }
            last = replica.clock
        }
        clock.set(millis: 0)   // battery swap: the device thinks it is 1970
        let (reopened, _) = try makeReplica(1, clock: clock, path: path)
        // It resumes from the bound stored in the file, never below the last stamp issued.
        #expect(reopened.clock >= last)
        #expect(reopened.clock.millis <= last.millis + Engine.hlcLeaseMillis)
        let id = try reopened.write { try $0.insert("items", ["cell": "C1", "name": "c"]) }
        let op = try reopened.operations().last { $0.entity == id }!
        #expect(op.hlc > last)
    }
}

import Foundation
