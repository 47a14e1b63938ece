// Your own worker: register your functions next to the standard ones and run the worker command line.
//
//     swift run custom-worker tcp://127.0.0.1:8786 --name custom --nthreads 2
//
// A client uses the same `TaskFunction` values (put them in a module both link) for their types:
//
//     let slug = try await client.submit(CustomFunctions.slugify, "Hello, ZFlow World!")
//     print(try await slug.result())   // "hello-zflow-world"
import ZFlow

/// Functions this worker adds to the standard library.
enum CustomFunctions {
    /// Lower-cases a title and joins its words with dashes.
    static let slugify = TaskFunction("slugify") { (title: String) -> String in
        title.lowercased().split { !$0.isLetter && !$0.isNumber }.joined(separator: "-")
    }

    /// The n-th Fibonacci number, computed slowly on purpose (a CPU-bound task).
    static let fibonacci = TaskFunction("fibonacci") { (n: Int) -> Int in
        func fib(_ n: Int) -> Int { n < 2 ? n : fib(n - 1) + fib(n - 2) }
        return fib(n)
    }
}

var functions = StandardFunctions.registry
functions.register(CustomFunctions.slugify.erased)
functions.register(CustomFunctions.fibonacci.erased)
WorkerMain.run(functions: functions)
