import Foundation

// fieldsync-bench [NAME ...] [--quick] | --list | --help
// fieldsync-bench district [options]       a whole district through a real central node
// fieldsync-bench console [--cells N]       the operators' console's API calls at district size
// Prints one JSON line per benchmark (or figure) on stdout; progress and errors go to stderr.
let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "district":
    do {
        try DistrictBench(options: try DistrictBench.parse(Array(arguments.dropFirst()))).run()
        exit(0)
    } catch {
        Console.error("fieldsync-bench district: \(error)")
        exit(1)
    }
case "console":
    do {
        try ConsoleBench(arguments: Array(arguments.dropFirst())).run()
        exit(0)
    } catch {
        Console.error("fieldsync-bench console: \(error)")
        exit(1)
    }
case "district-client":
    do {
        guard arguments.count == 2 else { throw BenchError("usage: fieldsync-bench district-client JOB.json") }
        try DistrictClient(jobPath: arguments[1]).run()
        exit(0)
    } catch {
        Console.error("fieldsync-bench district-client: \(error)")
        exit(1)
    }
default:
    exit(BenchCommand(arguments: arguments).run())
}
