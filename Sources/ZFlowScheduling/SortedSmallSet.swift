/// A set kept as a sorted array: for the few clients that want a task, a fraction of a `Set`'s memory (one
/// small allocation, none when empty) and iteration already in a deterministic order.
///
/// Operations are O(n); use it only where n stays small.
public struct SortedSmallSet<Element: Comparable & Hashable & Sendable>: Sendable, Equatable, Sequence,
    ExpressibleByArrayLiteral
{
    private var elements: [Element] = []

    /// An empty set.
    public init() {}

    /// A set of these elements.
    public init(arrayLiteral elements: Element...) {
        for element in elements { insert(element) }
    }

    /// True when it has no element.
    public var isEmpty: Bool { elements.isEmpty }

    /// How many elements it has.
    public var count: Int { elements.count }

    /// Whether `element` is in it.
    public func contains(_ element: Element) -> Bool { elements.contains(element) }

    /// Adds `element` unless it is there already.
    public mutating func insert(_ element: Element) {
        let index = elements.firstIndex { $0 >= element } ?? elements.endIndex
        if index < elements.endIndex, elements[index] == element { return }
        elements.insert(element, at: index)
    }

    /// Removes `element` if it is there.
    public mutating func remove(_ element: Element) {
        if let index = elements.firstIndex(of: element) { elements.remove(at: index) }
    }

    /// The elements in ascending order.
    public func makeIterator() -> IndexingIterator<[Element]> { elements.makeIterator() }
}
