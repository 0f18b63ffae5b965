/// Every benchmark, in the order they run when none is named. The names are fixed: results are
/// compared across commits by name.
enum BenchmarkSuite {
    static let all: [Benchmark] = [
        Benchmark(name: "local_write_batched",
                  summary: "100,000 single-field updates on 10,000 records, 1,000 per transaction",
                  run: LocalWrites.batched.run),
        Benchmark(name: "local_write_per_txn",
                  summary: "5,000 single-field updates, one transaction each",
                  run: LocalWrites.perTransaction.run),
        Benchmark(name: "local_insert_batched",
                  summary: "100,000 new whole records, 1,000 per transaction",
                  run: LocalInsertBatched.run),
        Benchmark(name: "remote_apply",
                  summary: "100,000 shuffled ops from 4 replicas applied to a fresh replica",
                  run: RemoteApply.run),
        Benchmark(name: "push_http",
                  summary: "a device pushes 10,000 ops to a central node over loopback HTTP",
                  run: SyncOverHTTP.push),
        Benchmark(name: "pull_http",
                  summary: "a device pulls 10,000 ops from a central node over loopback HTTP",
                  run: SyncOverHTTP.pull),
        Benchmark(name: "bootstrap_10k",
                  summary: "a new device pulls and verifies a scope of 10,000 records over loopback HTTP",
                  run: SyncOverHTTP.bootstrap),
        Benchmark(name: "bootstrap_cell",
                  summary: "a new device starts one cell (300 households, their doorplates and tasks) over loopback HTTP",
                  run: BootstrapCell.run),
        Benchmark(name: "device_after_1m_edits",
                  summary: "a device makes 1,000,000 edits over 10,000 records, syncing every 10,000: file size and write speed over time",
                  run: DeviceAfterEdits.run),
        Benchmark(name: "metadata_overhead",
                  summary: "file bytes after 100,000 inserts and 20,000 updates",
                  run: MetadataOverhead.run),
    ]

    static func named(_ name: String) -> Benchmark? {
        all.first { $0.name == name }
    }
}
