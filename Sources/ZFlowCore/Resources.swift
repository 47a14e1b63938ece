/// Amounts of abstract resources by name (`GPU`, `MEM`, …): what a worker declares it has
/// (`zflow-worker --resources GPU=2,MEM=8e9`), and what a task needs while it runs.
public struct Resources: Hashable, Sendable, CustomStringConvertible, ExpressibleByDictionaryLiteral {
    /// Amount by resource name. Names are case-sensitive; amounts are positive.
    public private(set) var amounts: [String: Double]

    /// Resources from a dictionary; non-positive amounts are dropped.
    public init(_ amounts: [String: Double] = [:]) {
        self.amounts = amounts.filter { $0.value > 0 }
    }

    /// `["GPU": 1]`.
    public init(dictionaryLiteral elements: (String, Double)...) {
        self.init(Dictionary(elements, uniquingKeysWith: +))
    }

    /// Parses `NAME=AMOUNT[,NAME=AMOUNT…]`, as `zflow-worker --resources` takes it (`GPU=2,MEM=8e9`).
    ///
    /// - Throws: `ResourcesSyntaxError` naming the part that is not `NAME=AMOUNT` with a positive amount.
    public init(parsing text: String) throws(ResourcesSyntaxError) {
        var amounts: [String: Double] = [:]
        for part in text.split(separator: ",", omittingEmptySubsequences: true) {
            let pieces = part.split(separator: "=", maxSplits: 1)
            let name = pieces.first.map { String($0).trimmingWhitespace } ?? ""
            guard pieces.count == 2, !name.isEmpty, let amount = Double(String(pieces[1]).trimmingWhitespace),
                amount.isFinite, amount > 0
            else { throw ResourcesSyntaxError(part: String(part)) }
            amounts[name, default: 0] += amount
        }
        self.amounts = amounts
    }

    /// True when nothing is named.
    public var isEmpty: Bool { amounts.isEmpty }

    /// True when every amount in `needed` is available here.
    public func covers(_ needed: Resources) -> Bool {
        needed.amounts.allSatisfy { name, amount in (amounts[name] ?? 0) >= amount }
    }

    /// Takes `used` away (a task started).
    public mutating func subtract(_ used: Resources) {
        for (name, amount) in used.amounts { amounts[name] = (amounts[name] ?? 0) - amount }
    }

    /// Gives `freed` back (a task ended).
    public mutating func add(_ freed: Resources) {
        for (name, amount) in freed.amounts { amounts[name] = (amounts[name] ?? 0) + amount }
    }

    /// `GPU=1,MEM=8000000000`, sorted by name.
    public var description: String {
        amounts.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.format($0.value))" }.joined(separator: ",")
    }

    static func format(_ amount: Double) -> String {
        amount == amount.rounded() && abs(amount) < 1e15 ? String(Int64(amount)) : String(amount)
    }
}

/// `--resources` text that is not `NAME=AMOUNT[,NAME=AMOUNT…]` with positive amounts.
public struct ResourcesSyntaxError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The offending part.
    public var part: String
    /// `expected NAME=AMOUNT with a positive amount, got '…'`.
    public var description: String { "expected NAME=AMOUNT with a positive amount, got '\(part)'" }
}

extension String {
    var trimmingWhitespace: String {
        var view = Substring(self)
        while view.first?.isWhitespace == true { view.removeFirst() }
        while view.last?.isWhitespace == true { view.removeLast() }
        return String(view)
    }
}
