import Foundation

// fieldsync-bench [NAME ...] [--quick] | --list | --help
// Prints one JSON line per benchmark on stdout; progress and errors go to stderr.
exit(BenchCommand(arguments: Array(CommandLine.arguments.dropFirst())).run())
