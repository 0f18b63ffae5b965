import FieldSyncSim
import Foundation

// fieldsync-sim --seed N [--devices N] [--steps N] [--seeds COUNT] [--keep]
//
// Runs the deterministic simulation (Design.md, "Simulation") for one seed, or for COUNT seeds
// from N on. Prints the world each seed derives (every probability) for a single seed, a line
// per failing seed, and how many ran clean. Exit 0 when every seed ran clean, 1 when an
// invariant broke (the failure ends with the command that replays it), 64 on a usage error.

let usage = "usage: fieldsync-sim --seed N [--devices N] [--steps N] [--seeds COUNT] [--keep]"

/// Prints a line now (stdout is block-buffered when redirected, and progress should show).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("\(message)\n\(usage)\n".utf8))
    exit(64)
}

var seed: UInt64?
var devices: Int?
var steps: Int?
var count = 1
var keep = false
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    func value() -> String {
        guard let next = arguments.popFirst() else { fail("\(argument) needs a value") }
        return next
    }
    switch argument {
    case "--seed":
        guard let n = UInt64(value()) else { fail("--seed takes a whole number 0 or more") }
        seed = n
    case "--devices":
        guard let n = Int(value()), (1...50).contains(n) else { fail("--devices takes 1 to 50") }
        devices = n
    case "--steps":
        guard let n = Int(value()), (1...1_000_000).contains(n) else { fail("--steps takes 1 to 1000000") }
        steps = n
    case "--seeds":
        guard let n = Int(value()), n >= 1 else { fail("--seeds takes a count of 1 or more") }
        count = n
    case "--keep": keep = true
    case "-h", "--help":
        say(usage)
        exit(0)
    default: fail("unknown option \(argument)")
    }
}
guard let first = seed else { fail("--seed is required") }

let started = Date()
var clean = 0
var failures: [SimulationFailure] = []
for offset in 0..<UInt64(count) {
    let config = SimulationConfig(seed: first &+ offset, devices: devices, steps: steps)
    if count == 1 || offset == 0 { say(config.description) }
    switch SimulationRunner.run(config, keepFilesOnFailure: keep) {
    case .success(let report):
        clean += 1
        if count == 1 { say(report.description) }
    case .failure(let failure):
        failures.append(failure)
        if count > 1 { say(config.description) }
        say("FAILED \(failure)")
    }
    if count > 1, (offset + 1) % 100 == 0 {
        say("\(offset + 1) of \(count) seeds run, \(clean) clean (\(Int(Date().timeIntervalSince(started))) s)")
    }
}
say("\(clean) of \(count) seeds ran clean (seeds \(first)...\(first &+ UInt64(count) &- 1), \(String(format: "%.1f", Date().timeIntervalSince(started))) s)")
if !failures.isEmpty {
    say("reproduce: " + failures.prefix(20).map(\.reproduceCommand).joined(separator: "\n           "))
    exit(1)
}
