import Foundation

/// Writes whole lines to stdout (results) and stderr (progress, errors), unbuffered, so a
/// reader of a pipe sees each result line as soon as its benchmark ends.
enum Console {
    static func out(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func error(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
