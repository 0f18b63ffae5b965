import Foundation

extension Double {
    /// Fixed-point text with `decimals` digits after the point ("12.35"), as JSON and logs show it.
    func formatted(decimals: Int) -> String {
        guard isFinite else { return "null" }
        return String(format: "%.\(decimals)f", self)
    }

    /// Rounded to `decimals` digits after the point, for figures in a report.
    func rounded(decimals: Int) -> Double {
        let scale = pow(10, Double(decimals))
        return (self * scale).rounded() / scale
    }
}
