/// A duration as seconds with a fraction, for logs, metrics and figures.
///
///     let elapsed = ContinuousClock.now - started
///     print(elapsed.inSeconds)   // 0.0125
package extension Duration {
    var inSeconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) * 1e-18
    }
}
