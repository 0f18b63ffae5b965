#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Prints the input being fuzzed when the process dies of a trap or a bad access, so that a crash
/// found by the in-process fuzzer can be replayed: a Swift runtime trap (an overflow, an index out
/// of range, a `precondition`) ends the test process before any test can report.
///
///     CrashReporter.install()
///     CrashReporter.arm(label: "fuzz target x crashed; replay with …", input: bytes)
///     try parse(bytes)      // SIGILL: "fuzz target x crashed …" and the input in base64 on stderr
///     CrashReporter.disarm()
///
/// The handler writes with `write(2)` from buffers prepared before the input runs, then puts back
/// the handler that was there before (the Swift runtime's backtracer) and returns; the faulting
/// instruction runs again and that handler reports the crash as usual.
enum CrashReporter {
    static let signals: [Int32] = [SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGFPE, SIGABRT]
    static let labelBytesMax = 1_024
    static let inputBytesMax = 1 << 20

    // The slot is written by the fuzzer's worker thread between inputs and read by the signal
    // handler on that same thread (a trap is delivered to the thread that caused it); fuzz targets
    // run one at a time (`FuzzTests` is serialized). Plain pointers, allocated once: a signal
    // handler must not allocate, and must not go through Swift's exclusivity checks.
    nonisolated(unsafe) static let label = UnsafeMutablePointer<UInt8>.allocate(capacity: labelBytesMax)
    nonisolated(unsafe) static var labelCount = 0
    nonisolated(unsafe) static let input = UnsafeMutablePointer<UInt8>.allocate(capacity: inputBytesMax)
    nonisolated(unsafe) static var inputCount = -1
    /// The thread running the input: a crash on another thread (another test) is not ours.
    nonisolated(unsafe) static var thread = pthread_self()
    nonisolated(unsafe) static let line = UnsafeMutablePointer<UInt8>.allocate(capacity: 4_096)
    nonisolated(unsafe) static let previous = UnsafeMutablePointer<sigaction>.allocate(capacity: 65)
    nonisolated(unsafe) static var installed = false

    static func install() {
        guard !installed else { return }
        installed = true
        var action = sigaction()
        #if canImport(Glibc)
        action.__sigaction_handler.sa_handler = handler
        #else
        action.__sigaction_u.__sa_handler = handler
        #endif
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        for signal in signals { sigaction(signal, &action, previous + Int(signal)) }
    }

    static func uninstall() {
        guard installed else { return }
        installed = false
        disarm()
        for signal in signals { sigaction(signal, previous + Int(signal), nil) }
    }

    static func arm(label text: String, input bytes: [UInt8]) {
        var text = Array(text.utf8.prefix(labelBytesMax - 1))
        text.append(0x0A)
        text.withUnsafeBufferPointer { label.update(from: $0.baseAddress!, count: $0.count) }
        labelCount = text.count
        let count = min(bytes.count, inputBytesMax)
        bytes.withUnsafeBufferPointer { if count > 0 { input.update(from: $0.baseAddress!, count: count) } }
        thread = pthread_self()
        inputCount = count
    }

    static func disarm() { inputCount = -1 }

    static let handler: @convention(c) (Int32) -> Void = { signal in
        if CrashReporter.inputCount >= 0, pthread_equal(pthread_self(), CrashReporter.thread) != 0 {
            CrashReporter.write(CrashReporter.label, CrashReporter.labelCount)
            CrashReporter.writeBase64()
            CrashReporter.inputCount = -1
        }
        sigaction(signal, CrashReporter.previous + Int(signal), nil)
    }

    private static func write(_ bytes: UnsafePointer<UInt8>, _ count: Int) {
        var done = 0
        while done < count {
            let written = unsafe_write(2, bytes + done, count - done)
            if written <= 0 { return }
            done += written
        }
    }

    private static func unsafe_write(_ fd: Int32, _ bytes: UnsafePointer<UInt8>, _ count: Int) -> Int {
        #if canImport(Glibc)
        Glibc.write(fd, bytes, count)
        #else
        Darwin.write(fd, bytes, count)
        #endif
    }

    nonisolated(unsafe) static var lineUsed = 0

    private static func put(_ byte: UInt8) {
        line[lineUsed] = byte
        lineUsed += 1
        if lineUsed == 4_096 {
            write(line, lineUsed)
            lineUsed = 0
        }
    }

    /// "input (base64): …" through the preallocated line buffer.
    private static func writeBase64() {
        let alphabet: StaticString = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        let table = alphabet.utf8Start
        lineUsed = 0
        let prefix: StaticString = "  input (base64): "
        for offset in 0..<prefix.utf8CodeUnitCount { put(prefix.utf8Start[offset]) }
        var index = 0
        while index < inputCount {
            let b0 = Int(input[index])
            let b1 = index + 1 < inputCount ? Int(input[index + 1]) : 0
            let b2 = index + 2 < inputCount ? Int(input[index + 2]) : 0
            put(table[b0 >> 2])
            put(table[(b0 & 0x3) << 4 | b1 >> 4])
            put(index + 1 < inputCount ? table[(b1 & 0xF) << 2 | b2 >> 6] : UInt8(ascii: "="))
            put(index + 2 < inputCount ? table[b2 & 0x3F] : UInt8(ascii: "="))
            index += 3
        }
        put(0x0A)
        write(line, lineUsed)
    }
}
