import Foundation

// fieldsync: the command-line tool. Thin: parses, calls the libraries, prints.
// Exit codes: 0 ok, 1 failed, 2 refused (validation), 64 usage.

let arguments = Array(CommandLine.arguments.dropFirst())
let usage = """
    usage: fieldsync <command> [options]

    commands:
      demo      two offline devices edit the same district, sync, and converge (temporary files)
      help      this text

    Run `fieldsync <command> --help` for a command's options.
    """

switch arguments.first {
case "demo":
    if arguments.contains("--help") || arguments.contains("-h") {
        print("usage: fieldsync demo [--keep]\n\nRuns the demo scenario in a temporary directory (kept with --keep) and prints what happens.")
        exit(0)
    }
    do {
        try Demo(keepFiles: arguments.contains("--keep")).run()
    } catch {
        FileHandle.standardError.write(Data("fieldsync demo: \(error)\n".utf8))
        exit(1)
    }
case "help", "--help", "-h":
    print(usage)
case nil:
    FileHandle.standardError.write(Data((usage + "\n").utf8))
    exit(64)
case let command?:
    FileHandle.standardError.write(Data("fieldsync: unknown command \"\(command)\"\n\n\(usage)\n".utf8))
    exit(64)
}
