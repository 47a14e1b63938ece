// A worker for the integration tests: the stock functions plus `trap`, whose run crashes the worker the way a
// bug in user code does (a Swift trap), so that crash reports can be tested on real processes.
import ZFlow

/// Traps on purpose: `overflow`, `unwrap`, `index` or `fatal`.
let trap = TaskFunction("trap") { (kind: String) -> Int in
    let values = [1, 2, 3]
    let count = values.count
    switch kind {
    case "overflow": return Int.max - 1 + count
    case "unwrap": return Int(kind.dropFirst(count))!
    case "index": return values[count]
    default: fatalError("trap(\(kind))")
    }
}

var functions = StandardFunctions.registry
functions.register(trap.erased)
WorkerMain.run(functions: functions)
