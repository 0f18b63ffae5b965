/// What every benchmark of one invocation shares: how many timed runs, and where files go.
struct RunSettings {
    /// Timed runs per benchmark, after one warm-up.
    let timedRuns: Int
    let scratch: ScratchDirectory
}
