import Foundation
import FuzzChecks

/// The libFuzzer harness over `ParserChecks`, and a replayer of the inputs it saves.
///
/// Built by `make fuzz` with `--sanitize fuzzer` and `-DFIELDSYNC_LIBFUZZER`, it hands the
/// command line to libFuzzer with the target named by `FIELDSYNC_FUZZ_TARGET`:
///
///     FIELDSYNC_FUZZ_TARGET=doorplate.qr fieldsync-fuzz -max_total_time=60 corpus/ Fixtures/fuzz/doorplate.qr
///
/// In an ordinary build it replays files through a target, so a crash file that libFuzzer saved
/// can be rerun under the debugger without the sanitizer:
///
///     fieldsync-fuzz doorplate.qr crash-1f0c…
#if !FIELDSYNC_LIBFUZZER
@main
#endif
struct FuzzMain {
    /// The replayer; libFuzzer brings its own `main`.
    static func main() {
        replay(Array(CommandLine.arguments.dropFirst()))
    }

    static let usage = """
        usage: fieldsync-fuzz TARGET FILE...   run each file through a target's checks
               fieldsync-fuzz --list           list the targets
        (built by `make fuzz`, it runs libFuzzer on FIELDSYNC_FUZZ_TARGET instead)
        """

    static func fail(_ message: String, status: Int32) -> Never {
        FileHandle.standardError.write(Data("fieldsync-fuzz: \(message)\n".utf8))
        exit(status)
    }

    static func target(named name: String) -> ParserChecks.Target {
        guard let target = ParserChecks.target(named: name) else {
            fail("no target \(name.debugDescription); the targets are \(ParserChecks.targets.map(\.name).joined(separator: ", "))", status: 64)
        }
        return target
    }

    static func replay(_ arguments: [String]) {
        if arguments == ["--list"] {
            print(ParserChecks.targets.map(\.name).joined(separator: "\n"))
            return
        }
        guard arguments.count >= 2 else { fail("a target and at least one file, please\n\(usage)", status: 64) }
        let target = target(named: arguments[0])
        var violations = 0
        for path in arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else { fail("cannot read \(path)", status: 1) }
            do {
                try target.check([UInt8](data))
                print("\(path): ok")
            } catch {
                violations += 1
                print("\(path): \(error)")
            }
        }
        if violations > 0 { exit(1) }
    }
}

#if FIELDSYNC_LIBFUZZER
/// Set by `LLVMFuzzerInitialize`, before the first input; libFuzzer calls back on one thread.
nonisolated(unsafe) private var selected: ParserChecks.Target?

/// libFuzzer's hook before the first input: picks the target named by `FIELDSYNC_FUZZ_TARGET`.
@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutablePointer<CInt>?, _ argv: UnsafeMutableRawPointer?) -> CInt {
    guard let name = ProcessInfo.processInfo.environment["FIELDSYNC_FUZZ_TARGET"] else {
        FuzzMain.fail("set FIELDSYNC_FUZZ_TARGET to one of \(ParserChecks.targets.map(\.name).joined(separator: ", "))", status: 64)
    }
    selected = FuzzMain.target(named: name)
    return 0
}

/// libFuzzer's callback, once per input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = size == 0 || data == nil ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    do {
        try selected!.check(input)
    } catch {
        // A violation is a finding: abort, so that libFuzzer saves the input.
        FileHandle.standardError.write(Data("fieldsync-fuzz \(selected!.name): \(error)\n".utf8))
        abort()
    }
    return 0
}
#endif
