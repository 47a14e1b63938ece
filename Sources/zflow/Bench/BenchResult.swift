import Foundation

/// One workload's figures: the headline figure (the median of the runs) and its spread.
struct BenchResult: Codable {
    /// Workload name (`throughput`, `latency`, `transfer-64MiB`, …), matching the Dask baseline's names.
    var name: String
    /// What was measured, in words.
    var detail: String
    /// The headline figure (the median).
    var figure: Double
    /// Its unit.
    var unit: String
    /// Median of the runs.
    var median: Double
    /// Smallest run.
    var min: Double
    /// Largest run.
    var max: Double
    /// How many measured runs.
    var runs: Int
    /// Further figures (percentiles, peak memory, …).
    var extra: [String: Double] = [:]

    /// Summarises measured runs.
    init(name: String, detail: String, unit: String, samples: [Double], extra: [String: Double] = [:]) {
        let sorted = samples.sorted()
        self.name = name
        self.detail = detail
        self.unit = unit
        median = sorted.isEmpty ? 0 : sorted[sorted.count / 2]
        figure = median
        min = sorted.first ?? 0
        max = sorted.last ?? 0
        runs = sorted.count
        self.extra = extra
    }

    /// One line for people.
    var humanLine: String {
        var text = "\(name) (\(detail)): \(Self.format(figure)) \(unit)  [min \(Self.format(min)), max \(Self.format(max)), \(runs) runs]"
        for (key, value) in extra.sorted(by: { $0.key < $1.key }) { text += "  \(key) \(Self.format(value))" }
        return text
    }

    /// One JSON object on one line.
    var jsonLine: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    static func format(_ value: Double) -> String {
        value >= 100 ? String(format: "%.0f", value) : String(format: "%.3f", value)
    }
}
